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
// The invoices browser keeps what is ticked on every page in sessionStorage, one selection
// per connection and filter (#invoice-results' data-selection-key): paging (htmx swaps the
// results), Back and a reload keep it. The ids not on the page shown travel as hidden inputs,
// so the bulk action posts every one; the sticky bar counts them all (or every invoice the
// filter matches).
var invoiceSelection = {
  region: function () { return document.getElementById("invoice-results"); },
  storageKey: function (region) {
    return "partnerapp.selection." + region.getAttribute("data-selection-key");
  },
  read: function (region) {
    try { return JSON.parse(window.sessionStorage.getItem(this.storageKey(region))) || []; }
    catch (error) { return []; }
  },
  write: function (region, ids) {
    try { window.sessionStorage.setItem(this.storageKey(region), JSON.stringify(ids)); }
    catch (error) { /* storage full or refused: the ticks on this page still count */ }
  },
  boxes: function (region) {
    return Array.prototype.slice.call(region.querySelectorAll("input[type=checkbox][name=ids]"));
  },
  kept: function (region) {
    return Array.prototype.slice.call(region.querySelectorAll("[data-kept-ids] input[name=ids]"));
  },
  // The stored ids with this page's boxes as they are now (and ids the server was sent).
  collect: function (region, stored) {
    var onPage = {}, ids = [];
    this.boxes(region).forEach(function (box) { onPage[box.value] = box.checked; });
    var add = function (id) { if (!(id in onPage) && ids.indexOf(id) < 0) { ids.push(id); } };
    stored.forEach(add);
    this.kept(region).forEach(function (input) { add(input.value); });
    this.boxes(region).forEach(function (box) { if (box.checked) { ids.push(box.value); } });
    return ids;
  },
  show: function (region, ids) {
    var onPage = {}, container = region.querySelector("[data-kept-ids]");
    this.boxes(region).forEach(function (box) {
      box.checked = ids.indexOf(box.value) >= 0;
      onPage[box.value] = true;
    });
    if (container) {
      container.replaceChildren();
      ids.forEach(function (id) {
        if (onPage[id]) { return; }
        var input = document.createElement("input");
        input.type = "hidden"; input.name = "ids"; input.value = id;
        container.appendChild(input);
      });
    }
    var note = region.querySelector("[data-kept-note]");
    if (note) { note.hidden = true; }  // the server's sentence; the bar's count says it now
    var pageBox = region.querySelector("[data-select-all]"), boxes = this.boxes(region);
    if (pageBox) { pageBox.checked = boxes.length > 0 && boxes.every(function (b) { return b.checked; }); }
    var counter = region.querySelector("[data-selected-count]"), all = region.querySelector("#all-matching");
    if (counter) {
      counter.textContent = (all && all.checked) ? counter.getAttribute("data-all") : String(ids.length);
    }
  },
  // After a page (or its results) arrived, or after a tick: store and show the selection.
  sync: function (fromStorage) {
    var region = this.region();
    if (!region || !region.hasAttribute("data-selection-key")) { return; }
    var stored = this.read(region);
    if (fromStorage) {  // ticks stored earlier win over the boxes' state as the page came
      var known = {};
      stored.forEach(function (id) { known[id] = true; });
      this.boxes(region).forEach(function (box) { if (known[box.value]) { box.checked = true; } });
    }
    var ids = this.collect(region, fromStorage ? stored : this.keptIds(region));
    this.write(region, ids);
    this.show(region, ids);
  },
  keptIds: function (region) { return this.kept(region).map(function (input) { return input.value; }); },
};
document.addEventListener("DOMContentLoaded", function () { invoiceSelection.sync(true); });
document.addEventListener("htmx:afterSettle", function () { invoiceSelection.sync(true); });
window.addEventListener("pageshow", function (event) {
  if (event.persisted) { invoiceSelection.sync(false); }  // Back from the wizard: the page as left
});
document.addEventListener("change", function (event) {  // a tick, "Select this page", all matching
  if (event.target.closest("#invoice-results")) { invoiceSelection.sync(false); }
});
// Once the wizard has the selection, the browser forgets it: coming back later starts afresh.
document.addEventListener("submit", function (event) {
  var region = invoiceSelection.region();
  if (region && event.target.id === "selection-form" && !event.defaultPrevented) {
    window.sessionStorage.removeItem(invoiceSelection.storageKey(region));
  }
});
// After htmx paged, the reader continues at the top of the new results.
document.addEventListener("htmx:afterSwap", function (event) {
  if (event.detail.target && event.detail.target.id === "invoice-results") {
    var total = document.querySelector("#invoice-results [data-testid=invoice-total]");
    if (total) { total.focus(); }
  }
});
