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

  document.addEventListener("click", function (event) {
    if (!(event.target instanceof Element)) {
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
