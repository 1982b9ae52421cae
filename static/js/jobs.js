// The job page: when a poll brings a new interval the server already wrote it into the
// returned fragment (hx-trigger="load delay:Ns"), so nothing here drives the polling.
// What this adds: polling pauses while the tab is hidden and picks up when it is shown.
(function () {
  document.addEventListener("htmx:beforeRequest", function (event) {
    var element = event.detail.elt;
    if (element && element.id === "job-progress" && document.hidden) {
      event.preventDefault();
      document.addEventListener("visibilitychange", function again() {
        if (!document.hidden) {
          document.removeEventListener("visibilitychange", again);
          var url = element.getAttribute("hx-get");
          window.htmx.ajax("GET", url, { target: element, swap: "outerHTML" });
        }
      });
    }
  });
})();
