// The schedule form: show only the parts the chosen action uses. Without JavaScript
// every part stays visible and the server ignores the fields the action does not use.
(function () {
  function update(form) {
    var action = form.querySelector("#id_action");
    if (!action) { return; }
    var operation = action.value.split(".")[1] || "";
    form.querySelectorAll("[data-operations]").forEach(function (part) {
      part.hidden = part.getAttribute("data-operations").split(" ").indexOf(operation) === -1;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.schedule-form");
    if (!form) { return; }
    update(form);
    form.addEventListener("change", function () { update(form); });
  });
})();
