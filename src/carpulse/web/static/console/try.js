// The try-it page: calls the Data API from this browser with the key pasted here. The key goes in the
// request's X-API-Key header to our own /api/v1 and nowhere else; it is never stored, not even in the page's URL.
(function () {
  "use strict";

  var SHOWN_HEADERS = [
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Retry-After",
    "Content-Type",
    "X-Request-ID",
    "Idempotent-Replayed",
  ];

  function ready(callback) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", callback);
    } else {
      callback();
    }
  }

  ready(function () {
    var form = document.getElementById("try-form");
    if (!form) {
      return;
    }
    var keyInput = document.getElementById("try-key");
    var keyError = document.getElementById("try-key-error");
    var call = document.getElementById("try-call");
    var input = document.getElementById("try-input");
    var inputField = document.getElementById("try-input-field");
    var inputLabel = document.getElementById("try-input-label");
    var inputError = document.getElementById("try-input-error");
    var urlView = document.getElementById("try-url");
    var curlView = document.getElementById("try-curl");
    var send = document.getElementById("try-send");
    var placeholder = document.getElementById("try-placeholder");
    var output = document.getElementById("try-output");
    var statusView = document.getElementById("try-status");
    var timeView = document.getElementById("try-time");
    var headersView = document.getElementById("try-headers");
    var bodyView = document.getElementById("try-body");
    var remembered = { vin: input.value, model: "", query: "" };
    var currentKind = "vin";

    function selected() {
      return call.options[call.selectedIndex];
    }

    function parameter() {
      return selected().getAttribute("data-parameter");
    }

    function url() {
      var path = selected().getAttribute("data-path");
      var kind = parameter();
      if (!kind) {
        return path;
      }
      var value = input.value.trim();
      if (kind === "vin") {
        value = value.toUpperCase();
      }
      return path.replace("{" + kind + "}", encodeURIComponent(value));
    }

    function showUrl() {
      var target = url();
      urlView.textContent = target;
      // The key stays out of the command: it names a variable the reader sets themselves.
      curlView.textContent = 'curl -H "X-API-Key: $CARPULSE_KEY" "' + window.location.origin + target + '"';
    }

    function showError(element, field, message) {
      element.textContent = message;
      element.hidden = !message;
      if (message) {
        field.setAttribute("aria-invalid", "true");
      } else {
        field.removeAttribute("aria-invalid");
      }
    }

    function refresh() {
      var kind = parameter();
      if (kind !== currentKind) {
        if (currentKind) {
          remembered[currentKind] = input.value;
        }
        if (kind) {
          input.value = remembered[kind] || "";
          inputLabel.textContent = inputLabel.getAttribute("data-label-" + kind);
        }
        currentKind = kind;
      }
      inputField.hidden = !kind;
      showUrl();
    }

    call.addEventListener("change", refresh);
    input.addEventListener("input", function () {
      showError(inputError, input, "");
      showUrl();
    });
    keyInput.addEventListener("input", function () {
      showError(keyError, keyInput, "");
    });

    document.querySelectorAll("[data-example]").forEach(function (button) {
      button.addEventListener("click", function () {
        var kind = button.getAttribute("data-example-kind");
        if (parameter() !== kind) {
          for (var index = 0; index < call.options.length; index += 1) {
            if (call.options[index].getAttribute("data-parameter") === kind) {
              call.selectedIndex = index;
              break;
            }
          }
          refresh();
        }
        input.value = button.getAttribute("data-example");
        showUrl();
        input.focus();
      });
    });

    function row(name, value) {
      var term = document.createElement("dt");
      term.textContent = name;
      var detail = document.createElement("dd");
      detail.textContent = value;
      headersView.appendChild(term);
      headersView.appendChild(detail);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var key = keyInput.value.trim();
      var prefix = form.getAttribute("data-key-prefix");
      if (!key) {
        showError(keyError, keyInput, form.getAttribute("data-msg-key-missing"));
        keyInput.focus();
        return;
      }
      if (key.indexOf("cp_") !== 0) {
        showError(keyError, keyInput, form.getAttribute("data-msg-key-format"));
        keyInput.focus();
        return;
      }
      if (parameter() && !input.value.trim()) {
        showError(inputError, input, form.getAttribute("data-msg-input-missing"));
        input.focus();
        return;
      }
      var target = url();
      var started = performance.now();
      send.disabled = true;
      placeholder.hidden = false;
      placeholder.textContent = form.getAttribute("data-msg-sending");
      fetch(target, {
        method: "GET",
        headers: { "X-API-Key": key, Accept: "application/json" },
        credentials: "omit",
        cache: "no-store",
      })
        .then(function (response) {
          return response.text().then(function (text) {
            var elapsed = Math.round(performance.now() - started);
            headersView.textContent = "";
            SHOWN_HEADERS.forEach(function (name) {
              var value = response.headers.get(name);
              if (value !== null) {
                row(name, value);
              }
            });
            var pretty = text;
            try {
              pretty = JSON.stringify(JSON.parse(text), null, 2);
            } catch (error) {
              pretty = form.getAttribute("data-msg-not-json") + "\n\n" + text;
            }
            statusView.textContent = response.status + " " + (response.statusText || "");
            statusView.className = response.ok ? "status-ok" : "status-error";
            timeView.textContent = "(" + elapsed + " ms)";
            bodyView.textContent = pretty;
            placeholder.hidden = true;
            output.hidden = false;
          });
        })
        .catch(function () {
          placeholder.textContent = form.getAttribute("data-msg-network");
          output.hidden = true;
        })
        .then(function () {
          send.disabled = false;
        });
    });

    refresh();
  });
})();
