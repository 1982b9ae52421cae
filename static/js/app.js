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
// The invoices browser's sticky bar: how many invoices are ticked (kept from other pages,
// ticked here, or every one the filter matches).
function updateSelectedCount() {
  var counter = document.querySelector("[data-selected-count]");
  if (!counter) { return; }
  var all = document.getElementById("all-matching");
  var ticked = document.querySelectorAll("#selection-form input[type=checkbox][name=ids]:checked").length;
  var kept = parseInt(counter.getAttribute("data-kept") || "0", 10);
  counter.textContent = (all && all.checked) ? counter.getAttribute("data-all") : String(kept + ticked);
}
document.addEventListener("change", updateSelectedCount);
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-select-all]")) { updateSelectedCount(); }
});
document.addEventListener("DOMContentLoaded", updateSelectedCount);
