// The job wizard: show only the fields the chosen action needs. Without JavaScript every
// part stays visible and the server ignores the fields the action does not use.
(function () {
  function update(form) {
    var action = form.querySelector("#id_action");
    if (!action) { return; }
    var parts = action.value.split(".");
    var documentKind = parts[0], operation = parts[1] || "";
    form.querySelectorAll("[data-operations]").forEach(function (part) {
      part.hidden = part.getAttribute("data-operations").split(" ").indexOf(operation) === -1;
    });
    form.querySelectorAll("[data-documents]").forEach(function (part) {
      part.hidden = part.getAttribute("data-documents").split(" ").indexOf(documentKind) === -1;
    });
    // The reminder texts (12 subject and message pairs) join the form only for a
    // reminder run, so no other action posts or shows them.
    var texts = form.querySelector("[data-reminder-texts]");
    var template = document.getElementById("reminder-texts-template");
    if (operation === "send_reminders" && texts && template && !texts.children.length) {
      texts.appendChild(template.content.cloneNode(true));
    }
    var override = form.querySelector("#id_recipient_override");
    var chosen = form.querySelector("input[name='recipients']:checked");
    if (override) { override.closest(".field").hidden = !chosen || chosen.value !== "override"; }
    var selection = form.querySelector("input[name='selection']:checked");
    form.querySelectorAll("[data-filter-fields]").forEach(function (part) {
      part.hidden = !!selection && selection.value === "ids";
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("wizard-form");
    if (!form) { return; }
    form.querySelectorAll("[data-render-button]").forEach(function (button) {
      if (window.htmx) { button.hidden = true; }  // the rendering follows the typing
    });
    update(form);
    form.addEventListener("change", function () { update(form); });
  });
})();
