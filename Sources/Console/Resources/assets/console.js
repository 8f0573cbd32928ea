// Rahat console: small enhancements only. Every page works without this file.
(function () {
  "use strict";

  // Ask before a form marked data-confirm is sent (approve, reject, cancel, revoke ...).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // Put the error summary in focus so screen readers announce it.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });

  // Live progress over server-sent events: an element with data-progress-stream names the stream;
  // its data-progress-* children are filled in as events arrive.
  document.addEventListener("DOMContentLoaded", function () {
    var holders = document.querySelectorAll("[data-progress-stream]");
    Array.prototype.forEach.call(holders, function (holder) {
      if (!window.EventSource) { return; }
      var source = new EventSource(holder.getAttribute("data-progress-stream"));
      source.addEventListener("progress", function (message) {
        var data;
        try { data = JSON.parse(message.data); } catch (e) { return; }
        Object.keys(data).forEach(function (key) {
          var target = holder.querySelector("[data-progress-" + key + "]");
          if (!target) { return; }
          if (target.tagName === "PROGRESS") {
            target.value = data[key];
          } else {
            target.textContent = data[key];
          }
        });
        if (data.done) {
          source.close();
          var reload = holder.getAttribute("data-progress-reload");
          if (reload) { window.location.assign(reload); }
        }
      });
      source.addEventListener("error", function () {
        if (source.readyState === EventSource.CLOSED) { return; }
      });
    });
  });
})();
