// The console's small enhancements: say "copied" where a copy button was pressed (app.js does the copying).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy][data-copied-text]") : null;
    if (!button) {
      return;
    }
    var status = button.parentElement.querySelector(".copy-status");
    if (status) {
      status.textContent = button.getAttribute("data-copied-text");
    }
  });
})();
