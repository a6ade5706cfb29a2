// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // The "send again" countdown: the server renders the seconds left; we count down and re-enable.
  function startCountdowns(root) {
    root.querySelectorAll("[data-countdown]").forEach(function (el) {
      if (el.dataset.started) return;
      el.dataset.started = "1";
      var left = parseInt(el.dataset.countdown, 10) || 0;
      var form = el.closest("form");
      var button = form && form.querySelector("[data-resend]");
      var out = el.querySelector("[data-seconds]");
      if (left <= 0) return;
      var timer = setInterval(function () {
        left -= 1;
        if (out) out.textContent = String(left);
        if (left <= 0) {
          clearInterval(timer);
          el.hidden = true;
          if (button) button.disabled = false;
        }
      }, 1000);
    });
  }

  // Warn when Caps Lock is on while typing a password.
  function watchCapsLock(root) {
    root.querySelectorAll("input[type=password]").forEach(function (input) {
      var warning = input.parentElement && input.parentElement.querySelector("[data-caps-warning]");
      if (!warning || input.dataset.capsWatched) return;
      input.dataset.capsWatched = "1";
      var update = function (event) {
        if (typeof event.getModifierState === "function") warning.hidden = !event.getModifierState("CapsLock");
      };
      input.addEventListener("keydown", update);
      input.addEventListener("keyup", update);
      input.addEventListener("blur", function () { warning.hidden = true; });
    });
  }

  // The draft form's «Повторять ежемесячно» switch: the main button says what it will create.
  function watchRepeatSwitch(root) {
    root.querySelectorAll("[data-repeat-switch]").forEach(function (box) {
      var button = box.form && box.form.querySelector("[data-testid=create-draft]");
      if (!button || box.dataset.watched) return;
      box.dataset.watched = "1";
      var update = function () { button.textContent = box.checked ? box.dataset.labelOn : box.dataset.labelOff; };
      box.addEventListener("change", update);
      update();
    });
  }

  function enhance(root) {
    startCountdowns(root);
    watchCapsLock(root);
    watchRepeatSwitch(root);
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:after:swap", function () { enhance(document); });
})();
