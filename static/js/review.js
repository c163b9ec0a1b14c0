// Review queue: "select all" for the bulk approve checkboxes, and a live count on the button.
// Progressive enhancement only: without this file each box is ticked by hand.
(function () {
  "use strict";
  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll('input[name="ids"][form="bulk-form"]'));
  }
  function refresh() {
    var all = boxes();
    var checked = all.filter(function (b) { return b.checked; }).length;
    var head = document.querySelector("[data-select-all]");
    if (head) {
      head.checked = all.length > 0 && checked === all.length;
      head.indeterminate = checked > 0 && checked < all.length;
    }
    var label = document.querySelector("[data-selected-count]");
    if (label) {
      label.textContent = checked ? checked + " selected" : "Tick the submissions you checked, then approve them together.";
    }
  }
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (!el.matches) { return; }
    if (el.matches("[data-select-all]")) {
      boxes().forEach(function (b) { b.checked = el.checked; });
      refresh();
    } else if (el.matches('input[name="ids"]')) {
      refresh();
    }
  });
  document.addEventListener("htmx:afterSwap", refresh);
})();
