// The console's few behaviours in the browser. Bound once on the document (event delegation),
// so they work in content that HTMX swaps in later too; the Content-Security-Policy forbids
// inline handlers (onclick=...), so templates mark elements with data attributes instead.
(function () {
  "use strict";

  // <input type="checkbox" data-select-all="CSS selector">: ticks or clears every checkbox
  // the selector finds (the changelist's "select all on this page").
  document.addEventListener("change", function (event) {
    var toggle = event.target;
    if (!(toggle instanceof HTMLInputElement) || !toggle.hasAttribute("data-select-all")) {
      return;
    }
    document.querySelectorAll(toggle.getAttribute("data-select-all")).forEach(function (box) {
      box.checked = toggle.checked;
    });
  });

  // <span data-selected-counter data-selected-text="# selected" data-all-text="all # cards">
  // in a form: says how many of the form's `selected` boxes are ticked (or, with its
  // "all matching" box ticked, that every matching card is), instead of the page's count.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.form) {
      return;
    }
    var counter = box.form.querySelector("[data-selected-counter]");
    if (!counter || (box.name !== "selected" && box.name !== "all_matching" && !box.hasAttribute("data-select-all"))) {
      return;
    }
    if (!counter.hasAttribute("data-total-text")) {
      counter.setAttribute("data-total-text", counter.textContent);
    }
    var all = box.form.querySelector("input[name=all_matching]");
    var ticked = box.form.querySelectorAll("input[name=selected]:checked").length;
    if (all && all.checked) {
      counter.textContent = counter.getAttribute("data-all-text");
    } else if (ticked > 0) {
      counter.textContent = counter.getAttribute("data-selected-text").replace("#", String(ticked));
    } else {
      counter.textContent = counter.getAttribute("data-total-text");
    }
  });

  // <input type="hidden" name="query" data-current-query> in a form outside the part of the
  // page HTMX replaces (the changelist's saved filters and column chooser): sent with the
  // page's query as it is now, after filters changed in place, not as the page was loaded.
  document.addEventListener(
    "submit",
    function (event) {
      if (!(event.target instanceof HTMLFormElement)) {
        return;
      }
      event.target.querySelectorAll("input[data-current-query]").forEach(function (input) {
        input.value = window.location.search.replace(/^\?/, "");
      });
    },
    true
  );

  document.addEventListener("click", function (event) {
    if (!(event.target instanceof Element)) {
      return;
    }
    // <button data-move-item="up|down"> in a list item: moves the item one place up or down
    // in its list (the column chooser, whose form submits its columns in the order listed).
    var move = event.target.closest("[data-move-item]");
    if (move) {
      var item = move.closest("li");
      if (item && move.getAttribute("data-move-item") === "up" && item.previousElementSibling) {
        item.parentNode.insertBefore(item, item.previousElementSibling);
      } else if (item && move.getAttribute("data-move-item") === "down" && item.nextElementSibling) {
        item.parentNode.insertBefore(item.nextElementSibling, item);
      }
      move.focus();
      return;
    }
    // <button data-remove-row>: removes the table row it is in (an order's item row).
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      var row = remove.closest("tr");
      if (row) {
        row.remove();
      }
      return;
    }
    // <button data-go-back>: the browser's Back.
    if (event.target.closest("[data-go-back]")) {
      event.preventDefault();
      window.history.back();
    }
  });

  // <ol data-board-status="26" data-board-move="URL">: a board column (vendor/Sortable.min.js,
  // loaded by the board page). A card dropped in it is posted to URL with its new status, and
  // the tile the server answers (marked pending) takes its place. Without JavaScript each
  // tile's own "Move" form does the same.
  function boardColumns(root) {
    if (typeof window.Sortable === "undefined" || !root.querySelectorAll) {
      return;
    }
    root.querySelectorAll("[data-board-status]").forEach(function (column) {
      if (column.sortableBound) {
        return;
      }
      column.sortableBound = true;
      window.Sortable.create(column, {
        group: "board",
        animation: 150,
        forceFallback: true, // mouse and touch events, the same on every browser
        filter: "select, button",
        preventOnFilter: false,
        onAdd: function (event) {
          var tile = event.item;
          window.htmx.ajax("POST", column.getAttribute("data-board-move"), {
            source: tile,
            target: tile,
            swap: "outerHTML",
            values: {
              card: tile.getAttribute("data-card"),
              status: column.getAttribute("data-board-status"),
              query: column.getAttribute("data-board-query") || "",
            },
          });
        },
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    boardColumns(document);
  });
  document.addEventListener("htmx:load", function (event) {
    boardColumns(event.detail.elt);
  });

  // <div data-shown-if="actions-0-kind" data-shown-values="create_todo">: a form row shown only
  // while the form's control of that name has one of those values (a webhook action's own
  // fields). Without JavaScript every row shows, and the server ignores the other choices'.
  function showChosenRows(root) {
    root.querySelectorAll("[data-shown-if]").forEach(function (row) {
      var form = row.closest("form");
      var control = form && form.elements.namedItem(row.getAttribute("data-shown-if"));
      if (!control) {
        return;
      }
      var values = (row.getAttribute("data-shown-values") || "").split(" ");
      row.hidden = values.indexOf(control.value) === -1;
    });
  }

  document.addEventListener("change", function (event) {
    var control = event.target;
    if (!(control instanceof HTMLSelectElement) || !control.form) {
      return;
    }
    showChosenRows(control.form);
  });

  document.addEventListener("DOMContentLoaded", function () {
    showChosenRows(document);
  });

  document.addEventListener("htmx:load", function (event) {
    if (event.detail.elt instanceof Element) {
      showChosenRows(event.detail.elt);
    }
  });

  // <div data-watch hx-get=... hx-trigger="every 5s">: a part of a page that asks the server
  // whether what it shows changed (the card page, when the mirror's copy is read again). It
  // does not ask while someone is editing in it: the swap would throw their edit away.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!(elt instanceof Element) || !elt.hasAttribute("data-watch")) {
      return;
    }
    var active = document.activeElement;
    var typing = active && elt.contains(active) && active.matches("input, select, textarea");
    if (typing || elt.querySelector(".editing")) {
      event.preventDefault();
    }
  });
  // <div data-undo-until="1764755000">: Undo for a one-click change, offered until that Unix
  // time (the change waits in the queue till then). The seconds left count down; then it
  // goes, as the change is on its way to MiniCRM.
  var undoTimer = null;
  function undoCountdown() {
    var bar = document.querySelector("[data-undo-until]");
    if (!bar) {
      window.clearInterval(undoTimer);
      undoTimer = null;
      return;
    }
    var left = Math.ceil(Number(bar.getAttribute("data-undo-until")) - Date.now() / 1000);
    if (left <= 0) {
      bar.removeAttribute("data-undo-until");
      bar.className = "";
      bar.textContent = "";
      return;
    }
    var shown = bar.querySelector(".undo-left");
    if (shown) {
      shown.textContent = shown.textContent.replace(/\d+/, String(left));
    }
  }
  function undoWatch() {
    if (undoTimer === null && document.querySelector("[data-undo-until]")) {
      undoTimer = window.setInterval(undoCountdown, 500);
      undoCountdown();
    }
  }
  document.addEventListener("DOMContentLoaded", undoWatch);
  document.addEventListener("htmx:afterSettle", undoWatch);
})();

// Keys (README, "Using the console"): "/" focuses the header's search box; "j" and "k" move a
// highlight through the rows of the page's main list (rows marked data-key-row), Enter opens
// the highlighted row's first link, "e" opens its edit page (data-key-edit="URL" on the row)
// or, with no row highlighted, the page's own (<a data-key-edit>); Esc cancels an inline edit
// (its data-inline-cancel link). None of them fires while someone types in a field, and none
// takes a key pressed with Ctrl, Alt or Meta (the browser's and the system's shortcuts).
(function () {
  "use strict";

  var HIGHLIGHT = "key-current";

  function typing(element) {
    return (
      element instanceof Element &&
      (element.matches("input, textarea, select") || element.isContentEditable)
    );
  }

  // An element Enter already means something for (a link, a button).
  function pressable(element) {
    return (
      element instanceof Element &&
      element !== document.body &&
      element.matches("a[href], button, summary, [role=button], [tabindex]")
    );
  }

  function rows() {
    return Array.prototype.filter.call(document.querySelectorAll("[data-key-row]"), function (row) {
      // Shown, and the page's own (not the header search's dropdown).
      return row.getClientRects().length > 0 && !row.closest("#global-search");
    });
  }

  // The highlighted row's place survives a swap that redraws the list (the queue every 5 s).
  var place = -1;

  function highlight(list, index) {
    list.forEach(function (row) {
      row.classList.remove(HIGHLIGHT);
      row.removeAttribute("aria-current");
    });
    if (index < 0 || index >= list.length) {
      place = -1;
      return;
    }
    place = index;
    var row = list[index];
    row.classList.add(HIGHLIGHT);
    row.setAttribute("aria-current", "true");
    row.scrollIntoView({ block: "nearest" });
  }

  function current() {
    return document.querySelector("[data-key-row]." + HIGHLIGHT);
  }

  function go(url) {
    if (url) {
      window.location.assign(url);
    }
  }

  // The inline edit the focus is in, or the open one while the focus is in no other field.
  function cancelInlineEdit(from) {
    var editing = from instanceof Element ? from.closest(".editing") : null;
    if (!editing && !typing(from)) {
      editing = document.querySelector(".editing");
    }
    var cancel = editing && editing.querySelector("[data-inline-cancel]");
    if (cancel) {
      cancel.click();
      return true;
    }
    return false;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) {
      return;
    }
    var active = document.activeElement;
    if (event.key === "Escape") {
      if (cancelInlineEdit(active)) {
        event.preventDefault();
      }
      return;
    }
    if (typing(active) || typing(event.target)) {
      return;
    }
    var row = current();
    if (event.key === "/") {
      var search = document.querySelector("#global-search input[type=search], #global-search input");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
    } else if (event.key === "j" || event.key === "k") {
      var list = rows();
      if (!list.length) {
        return;
      }
      var at = row ? list.indexOf(row) : -1;
      var next = event.key === "j" ? Math.min(at + 1, list.length - 1) : Math.max(at - 1, 0);
      event.preventDefault();
      highlight(list, next);
    } else if (event.key === "Enter" && row && !pressable(active)) {
      var link = row.querySelector("a[href]");
      if (link) {
        event.preventDefault();
        link.click();
      }
    } else if (event.key === "e") {
      var edit = row ? row.getAttribute("data-key-edit") : null;
      if (!edit && !row) {
        var own = document.querySelector("a[data-key-edit]");
        edit = own && own.getAttribute("href");
      }
      if (edit) {
        event.preventDefault();
        go(edit);
      }
    }
  });

  // A row clicked or focused becomes the highlighted one, so j/k go on from there.
  document.addEventListener("focusin", function (event) {
    var row = event.target instanceof Element && event.target.closest("[data-key-row]");
    if (row && !row.classList.contains(HIGHLIGHT)) {
      var list = rows();
      list.forEach(function (other) {
        other.classList.remove(HIGHLIGHT);
        other.removeAttribute("aria-current");
      });
      row.classList.add(HIGHLIGHT);
      row.setAttribute("aria-current", "true");
      place = list.indexOf(row);
    }
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (place >= 0 && !current()) {
      var list = rows();
      if (place < list.length) {
        list[place].classList.add(HIGHLIGHT);
        list[place].setAttribute("aria-current", "true");
      } else {
        place = -1;
      }
    }
  });

  // An inline edit opened: its first field takes the focus, ready to type.
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail.elt;
    if (!(elt instanceof Element) || !elt.matches(".editing")) {
      return;
    }
    var field = elt.querySelector(
      "input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])"
    );
    if (field) {
      field.focus();
      try {
        // The caret after the value, to go on typing (inputs without a caret throw: no matter).
        var end = field.value.length;
        field.setSelectionRange(end, end);
      } catch (ignored) {
        // a date, number or email input
      }
    }
  });
})();
