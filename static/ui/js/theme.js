// The colour theme, set before the first paint: the one chosen with the header's switch (kept in
// localStorage), else the system's (prefers-color-scheme). A classic script, not a module, so that
// it runs while the page is parsed and no screen ever flashes in the other theme.
(function () {
  "use strict";
  var KEY = "book-library.theme";
  var query = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return value === "dark" || value === "light" ? value : null;
    } catch (error) {
      return null; // storage disabled: follow the system
    }
  }

  // The switch's choice, if any; without one the theme follows the system as it changes.
  var choice = stored();

  function current() {
    return choice || (query && query.matches ? "dark" : "light");
  }

  function apply() {
    var theme = current();
    document.documentElement.dataset.theme = theme;
    var button = document.getElementById("theme-toggle");
    if (button) button.setAttribute("aria-pressed", theme === "dark" ? "true" : "false");
  }

  /** Switch to the other theme and remember the choice. */
  function toggle() {
    choice = current() === "dark" ? "light" : "dark";
    try {
      window.localStorage.setItem(KEY, choice);
    } catch (error) {
      // Storage disabled: the choice lasts until the page is closed.
    }
    apply();
  }

  apply();
  if (query && query.addEventListener) query.addEventListener("change", apply);
  document.addEventListener("DOMContentLoaded", function () {
    apply();
    var button = document.getElementById("theme-toggle");
    if (button) button.addEventListener("click", toggle);
  });
})();
