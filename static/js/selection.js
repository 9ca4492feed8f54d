// « Tout sélectionner » in « Commandes »: ticks or clears the page's boxes, and follows them.
// Without JavaScript the box works alone: its value lists the page's references.
// Listening on the document: htmx replaces the list, the boxes come and go.
document.addEventListener("change", function (event) {
  var box = event.target;
  if (!(box instanceof HTMLInputElement) || box.type !== "checkbox" || box.getAttribute("form") !== "bulk") {
    return;
  }
  var all = document.querySelector("[data-select-all]");
  var rows = document.querySelectorAll(".orders input[type=checkbox][form=bulk]");
  if (box === all) {
    rows.forEach(function (row) { row.checked = all.checked; });
  } else if (all) {
    all.checked = Array.prototype.every.call(rows, function (row) { return row.checked; });
  }
});
