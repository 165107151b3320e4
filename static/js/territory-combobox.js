/*
 * Territory picker: turns the plain search (radio results, works without
 * JavaScript) into an ARIA 1.2 editable combobox with a listbox popup and list
 * autocomplete, as in the WAI-ARIA Authoring Practices.
 * htmx fetches the options as the user types (see hx-* on the input);
 * this script handles the keyboard, the choice and the ARIA state. Texts come
 * from the templates (data-* attributes), so they are translated there.
 */
(function () {
  "use strict";

  function init(picker) {
    var input = picker.querySelector("#id_territory_query");
    var popup = picker.querySelector("#territory-options");
    var status = picker.querySelector("#territory-status");
    var chosen = picker.querySelector("#territory-chosen");
    var searchButton = picker.querySelector("#territory-search-button");
    var prefix = picker.dataset.chosenPrefix + " ";
    var active = -1;
    // What to highlight when the results of a search asked from the keyboard arrive.
    var pendingHighlight = null;
    // Searches the script asks for itself, as opposed to those htmx starts on typing.
    var isSearchRequested = false;

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
    // ARIA 1.2 allows pointing at the listbox while it does not exist yet.
    input.setAttribute("aria-controls", "territory-listbox");
    input.setAttribute("aria-expanded", "false");

    function listbox() {
      return popup.querySelector("[role=listbox]");
    }

    function options() {
      return Array.prototype.slice.call(popup.querySelectorAll("[role=option]"));
    }

    function isOpen() {
      return input.getAttribute("aria-expanded") === "true";
    }

    function announce(message) {
      // The same text twice in a row is not read again: make it differ.
      if (message && status.textContent === message) message += "\u00a0";
      status.textContent = message;
    }

    function highlight(index, shouldScroll) {
      var all = options();
      if (!all.length) return;
      active = (index + all.length) % all.length;
      all.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === active ? "true" : "false");
        option.classList.toggle("active", i === active);
      });
      input.setAttribute("aria-activedescendant", all[active].id);
      if (shouldScroll !== false) all[active].scrollIntoView({ block: "nearest" });
    }

    function unhighlight() {
      active = -1;
      options().forEach(function (option) {
        option.setAttribute("aria-selected", "false");
        option.classList.remove("active");
      });
      input.removeAttribute("aria-activedescendant");
    }

    function open() {
      if (!listbox()) return;
      popup.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function close() {
      // The options stay in the page, hidden, so that ArrowDown can show them again.
      pendingHighlight = null;
      unhighlight();
      if (listbox()) popup.hidden = true;
      input.setAttribute("aria-expanded", "false");
    }

    function search(highlightWhenShown) {
      pendingHighlight = highlightWhenShown;
      isSearchRequested = true;
      htmx.trigger(input, "search");
    }

    // Opens the popup from the keyboard, running the search again if its list was cleared.
    function show(highlightIndex) {
      if (!listbox()) {
        if (input.value.trim()) search(highlightIndex);
        return;
      }
      open();
      if (highlightIndex !== null) highlight(highlightIndex);
    }

    function choose(option) {
      hidden.value = option.dataset.value;
      input.value = option.dataset.name;
      chosen.textContent = prefix + option.textContent.trim();
      clearError();
      close();
    }

    // The error under the field (no territory chosen, already signed…) was about the
    // previous choice: a new one answers it. The submission judges it again.
    function clearError() {
      var error = picker.querySelector("#territory-errors");
      if (!error) return;
      error.remove();
      input.classList.remove("is-invalid");
      input.removeAttribute("aria-invalid");
      var describedBy = (input.getAttribute("aria-describedby") || "")
        .split(/\s+/)
        .filter(function (id) {
          return id && id !== error.id;
        });
      if (describedBy.length) input.setAttribute("aria-describedby", describedBy.join(" "));
      else input.removeAttribute("aria-describedby");
    }

    function clearChoice() {
      hidden.value = "";
      chosen.textContent = "";
    }

    input.addEventListener("htmx:beforeRequest", function (event) {
      // A search started while a territory is chosen is a stale one (a delayed
      // trigger, or the browser's own "search" event on Enter): keep the choice.
      if (hidden.value && !isSearchRequested) event.preventDefault();
      isSearchRequested = false;
    });

    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target !== popup) return;
      var highlightIndex = pendingHighlight;
      pendingHighlight = null;
      active = -1;
      input.removeAttribute("aria-activedescendant");
      input.setAttribute("aria-expanded", "false");
      popup.hidden = false;
      // Results that arrive after the user has left the field stay closed, unannounced.
      if (document.activeElement !== input) {
        if (listbox()) popup.hidden = true;
        return;
      }
      var message = popup.querySelector("[data-message]");
      announce(message ? message.dataset.message : "");
      open();
      if (listbox() && highlightIndex !== null) highlight(highlightIndex);
    });

    input.addEventListener("input", function () {
      // Typing again means a new search: the previous choice no longer holds.
      clearChoice();
    });

    input.addEventListener("keydown", function (event) {
      var expanded = isOpen();
      if (event.key === "ArrowDown" && event.altKey) {
        event.preventDefault();
        if (!expanded) show(null);
      } else if (event.key === "ArrowUp" && event.altKey) {
        event.preventDefault();
        if (expanded) close();
      } else if (event.key === "ArrowDown") {
        event.preventDefault();
        if (expanded) highlight(active + 1);
        else show(0);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (expanded) highlight(active < 0 ? -1 : active - 1);
        else show(-1);
      } else if (event.key === "Enter") {
        // Never submit the whole form from the search box.
        event.preventDefault();
        var all = options();
        if (expanded && all.length) choose(all[active >= 0 ? active : 0]);
        else if (!expanded && !hidden.value) show(null);
      } else if (event.key === "Escape") {
        if (expanded) {
          event.preventDefault();
          close();
        } else if (input.value) {
          // A second Escape clears the field, as the pattern suggests.
          event.preventDefault();
          input.value = "";
          popup.innerHTML = "";
          popup.hidden = false;
          announce("");
          // As if typed: clears the choice, and htmx's "changed" filter learns the
          // value, so typing the same word again still searches.
          input.dispatchEvent(new Event("input", { bubbles: true }));
        }
      }
    });

    // Close when focus leaves both the field and the popup (Tab, click elsewhere).
    picker.addEventListener("focusout", function (event) {
      var next = event.relatedTarget;
      if (next === input || (next && popup.contains(next))) return;
      if (isOpen()) close();
    });

    // Keep the focus in the field when clicking an option or the popup's scrollbar.
    popup.addEventListener("mousedown", function (event) {
      if (listbox() && listbox().contains(event.target)) event.preventDefault();
    });

    popup.addEventListener("mousemove", function (event) {
      var option = event.target.closest("[role=option]");
      if (!option || !isOpen()) return;
      var index = options().indexOf(option);
      if (index !== active) highlight(index, false);
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
