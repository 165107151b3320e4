// "Copier le lien": shown only where the script runs; without it the link stays
// selectable in its read-only field. The result is said in a polite live region.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copyTarget);
    var status = document.getElementById(button.dataset.copyTarget + "-status");
    if (!field) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = function (message) {
        if (status) status.textContent = message;
      };
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(
          function () { done(button.dataset.copiedText); },
          function () { done(button.dataset.failedText); }
        );
      } else {
        done(document.execCommand("copy") ? button.dataset.copiedText : button.dataset.failedText);
      }
    });
  });
})();
