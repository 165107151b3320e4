/*
 * Signing form (templates/signatures/sign.html), on top of what works without
 * JavaScript:
 * - "Autre fonction : précisez laquelle" shows only while "Autre fonction" is
 *   chosen (without JavaScript it is always there, labelled for that option);
 *   it never hides a value or an error.
 * - The "not listed" panel: while it is open, the form sends not_listed=on, so
 *   opening it is the choice even before a field is filled (see
 *   SignatureForm._clean_territory_choice).
 */
(function () {
  "use strict";

  function initOtherFunction(form) {
    var wrapper = form.querySelector("#function-other");
    var input = wrapper && wrapper.querySelector("input");
    if (!input) return;
    var radios = Array.prototype.slice.call(form.querySelectorAll("input[name=function]"));

    function update() {
      var isChosen = radios.some(function (radio) {
        return radio.checked && radio.value === wrapper.dataset.shownFor;
      });
      var isHolding = input.value.trim() !== "" || input.classList.contains("is-invalid");
      wrapper.hidden = !(isChosen || isHolding);
    }

    radios.forEach(function (radio) {
      radio.addEventListener("change", update);
    });
    update();
  }

  function initUnlistedPanel(form) {
    var panel = form.querySelector("#unlisted-territory");
    if (!panel) return;
    var choice = document.createElement("input");
    choice.type = "hidden";
    choice.name = "not_listed";

    function update() {
      choice.value = panel.open ? "on" : "";
    }

    panel.addEventListener("toggle", update);
    update();
    form.appendChild(choice);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var picker = document.getElementById("territory-picker");
    var form = picker && picker.closest("form");
    if (!form) return;
    initOtherFunction(form);
    initUnlistedPanel(form);
  });
})();
