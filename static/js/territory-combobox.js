/*
 * Territory picker: turns the plain search (radio results, works without
 * JavaScript) into an ARIA 1.2 combobox with a listbox popup.
 * htmx fetches the options as the user types (see hx-* on the input);
 * this script handles the keyboard, the choice and the ARIA state.
 */
(function () {
  "use strict";

  function init(picker) {
    var input = picker.querySelector("#id_territory_query");
    var popup = picker.querySelector("#territory-options");
    var chosen = picker.querySelector("#territory-chosen");
    var searchButton = picker.querySelector("#territory-search-button");
    var prefix = picker.dataset.chosenPrefix + " ";
    var active = -1;

    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "territory";
    var checked = popup.querySelector("input[name=territory]:checked");
    if (checked) {
      hidden.value = checked.value;
      var label = picker.querySelector("label[for='" + checked.id + "']");
      chosen.textContent = prefix + (label ? label.textContent : checked.dataset.name);
    }
    picker.appendChild(hidden);
    popup.innerHTML = ""; // the radios are the no-JavaScript fallback
    searchButton.hidden = true;

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", "territory-options");
    input.setAttribute("aria-expanded", "false");

    function options() {
      return Array.prototype.slice.call(popup.querySelectorAll("[role=option]"));
    }

    function highlight(index) {
      var all = options();
      if (!all.length) return;
      active = (index + all.length) % all.length;
      all.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === active ? "true" : "false");
        option.classList.toggle("active", i === active);
      });
      input.setAttribute("aria-activedescendant", all[active].id);
      all[active].scrollIntoView({ block: "nearest" });
    }

    function close() {
      popup.innerHTML = "";
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function choose(option) {
      hidden.value = option.dataset.value;
      input.value = option.dataset.name;
      chosen.textContent = prefix + option.textContent.trim();
      close();
    }

    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target !== popup) return;
      active = -1;
      input.removeAttribute("aria-activedescendant");
      input.setAttribute("aria-expanded", options().length ? "true" : "false");
    });

    input.addEventListener("input", function () {
      // Typing again means a new search: the previous choice no longer holds.
      hidden.value = "";
      chosen.textContent = "";
    });

    input.addEventListener("keydown", function (event) {
      var expanded = input.getAttribute("aria-expanded") === "true";
      if (event.key === "ArrowDown" && expanded) {
        event.preventDefault();
        highlight(active + 1);
      } else if (event.key === "ArrowUp" && expanded) {
        event.preventDefault();
        highlight(active - 1);
      } else if (event.key === "Enter") {
        // Never submit the whole form from the search box.
        event.preventDefault();
        var all = options();
        if (expanded && all.length) choose(all[active >= 0 ? active : 0]);
      } else if (event.key === "Escape" && expanded) {
        event.preventDefault();
        close();
      }
    });

    popup.addEventListener("click", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) {
        choose(option);
        input.focus();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var picker = document.getElementById("territory-picker");
    if (picker) init(picker);
  });
})();
