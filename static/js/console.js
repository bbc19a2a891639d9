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
})();
