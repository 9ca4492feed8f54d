// « Imprimer » on the preparation slip: a script file because the CSP forbids inline ones.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
