// Small behaviours without inline scripts (the content security policy forbids those).
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) { event.preventDefault(); }
});
document.addEventListener("change", function (event) {
  if (event.target.hasAttribute("data-autosubmit")) { event.target.form.submit(); }
});
document.addEventListener("click", function (event) {
  var toggle = event.target.closest("[data-select-all]");
  if (!toggle) { return; }
  var boxes = document.querySelectorAll("input[name='" + toggle.getAttribute("data-select-all") + "']");
  boxes.forEach(function (box) { box.checked = toggle.checked; });
});
