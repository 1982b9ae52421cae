// The job wizard: show only the fields the chosen action needs, the email's and each
// reminder level's languages as tabs, and the live rendering of the email's open tab. Without JavaScript every part stays
// visible, the "Render" button renders every language, and the server ignores the
// fields the action does not use.
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
      texts.querySelectorAll("[data-language-tabs]").forEach(function (container) {
        setUpTabs(container, null);
      });
    }
    var override = form.querySelector("#id_recipient_override");
    var chosen = form.querySelector("input[name='recipients']:checked");
    if (override) { override.closest(".field").hidden = !chosen || chosen.value !== "override"; }
    var selection = form.querySelector("input[name='selection']:checked");
    form.querySelectorAll("[data-filter-fields]").forEach(function (part) {
      part.hidden = !!selection && selection.value === "ids";
    });
    swapUntouchedTexts(form, documentKind);
    markDefaultLanguage(form);
  }

  // -- the email's texts per language ---------------------------------------------------

  var shipped = null;  // {kind: {language: {subject, body}}}, the texts partnerapp ships

  function shippedTexts() {
    if (shipped === null) {
      var data = document.getElementById("shipped-email-texts");
      shipped = data ? JSON.parse(data.textContent) : {};
    }
    return shipped;
  }

  // A text nobody touched is still some kind's shipped text in its language: switching
  // the kind of document swaps it for the new kind's. What the user typed stays.
  function swapUntouchedTexts(form, documentKind) {
    var texts = shippedTexts();
    if (!texts[documentKind]) { return; }
    Object.keys(texts[documentKind]).forEach(function (language) {
      ["subject", "body"].forEach(function (field) {
        var input = form.querySelector("[name='" + field + "_" + language + "']");
        if (!input) { return; }
        var current = input.value.trim();
        var untouched = Object.keys(texts).some(function (kind) {
          return texts[kind][language] && texts[kind][language][field] === current;
        });
        var wanted = texts[documentKind][language][field];
        if (untouched && current !== wanted) { input.value = wanted; }
      });
    });
  }

  function markDefaultLanguage(form) {
    var select = form.querySelector("#id_language");
    if (!select) { return; }
    form.querySelectorAll("[data-language-tabs] [data-default-marker]").forEach(function (marker) {
      var owner = marker.closest("[data-language], [data-language-panel]");
      var language = owner.getAttribute("data-language") || owner.getAttribute("data-language-panel");
      marker.hidden = language !== select.value;
    });
  }

  function askForRendering() {
    var target = document.getElementById("wizard-render");
    if (target) { target.dispatchEvent(new CustomEvent("wizard-render")); }
  }

  // Tabs as the WAI-ARIA pattern has them: arrow keys, Home and End move between the
  // tabs and open the one they reach; only the open tab is in the Tab order. `onOpen`
  // (may be null) hears of each tab opened, `quietly` when it is the first one.
  function setUpTabs(container, onOpen) {
    var tablist = container.querySelector("[data-tablist]");
    if (!tablist) { return; }
    var tabs = Array.prototype.slice.call(tablist.querySelectorAll("[role=tab]"));
    container.classList.add("tabs-on");
    tablist.hidden = false;
    function open(chosen, quietly) {
      tabs.forEach(function (tab) {
        var selected = tab === chosen;
        tab.setAttribute("aria-selected", selected ? "true" : "false");
        tab.tabIndex = selected ? 0 : -1;
        document.getElementById(tab.getAttribute("aria-controls")).hidden = !selected;
      });
      if (onOpen) { onOpen(chosen, quietly); }
    }
    tabs.forEach(function (tab) {
      var panel = document.getElementById(tab.getAttribute("aria-controls"));
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tab.id);
      tab.addEventListener("click", function () { open(tab); });
    });
    tablist.addEventListener("keydown", function (event) {
      var index = tabs.indexOf(document.activeElement);
      if (index === -1) { return; }
      var next = {
        ArrowRight: (index + 1) % tabs.length,
        ArrowLeft: (index - 1 + tabs.length) % tabs.length,
        Home: 0,
        End: tabs.length - 1
      }[event.key];
      if (next === undefined) { return; }
      event.preventDefault();
      open(tabs[next]);
      tabs[next].focus();
    });
    var opened = tabs.filter(function (tab) {
      return tab.getAttribute("aria-selected") === "true";
    })[0] || tabs[0];
    open(opened, true);
  }

  // The email's open tab is the language the live rendering shows.
  function emailTabOpened(form) {
    return function (tab, quietly) {
      var language = form.querySelector("[data-render-language]");
      if (language) { language.value = tab.getAttribute("data-language"); }
      if (!quietly) { askForRendering(); }
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("wizard-form");
    if (!form) { return; }
    form.querySelectorAll("[data-render-button]").forEach(function (button) {
      if (window.htmx) { button.hidden = true; }  // the rendering follows the typing
    });
    form.querySelectorAll("[data-live-only]").forEach(function (part) {
      part.hidden = !window.htmx;
    });
    var email = document.getElementById("email-texts");
    if (email) { setUpTabs(email, emailTabOpened(form)); }
    update(form);
    form.addEventListener("change", function () { update(form); askForRendering(); });
    if (email) { email.addEventListener("input", askForRendering); }
  });
})();
