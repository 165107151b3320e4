/*
 * Signatory list: when the région changes, the département choice offers that
 * région's départements only (all of them when no région is chosen), as the
 * server does for browsers without JavaScript. The options come from the
 * page's <template id="departement-options">, so texts stay translated there.
 * htmx then asks for the results (hx-trigger="change" on the form).
 */
(function () {
  "use strict";

  function narrow() {
    var region = document.getElementById("id_region");
    var select = document.getElementById("id_departement");
    var source = document.getElementById("departement-options");
    if (!region || !select || !source) {
      return;
    }
    var chosen = select.value;
    var options = [select.options[0].cloneNode(true)]; // "Tous les départements"
    source.content.querySelectorAll("option").forEach(function (option) {
      if (!region.value || option.dataset.region === region.value) {
        options.push(option.cloneNode(true));
      }
    });
    select.replaceChildren.apply(select, options);
    // A département of another région is dropped, as the server ignores it.
    select.value = chosen;
    if (select.selectedIndex < 0) {
      select.value = "";
    }
  }

  // In the capture phase: the options are right before htmx, listening on the
  // form, reads the form's values for its request.
  document.addEventListener(
    "change",
    function (event) {
      if (event.target.id === "id_region") {
        narrow();
      }
    },
    true
  );
  // The browser may restore other values than the page was served with (back, reload).
  document.addEventListener("DOMContentLoaded", narrow);
  document.addEventListener("htmx:historyRestore", narrow);
})();
