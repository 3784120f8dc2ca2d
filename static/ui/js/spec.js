// What the API accepts, read from its own description (/openapi.json, generated from validate.py)
// once per page load: the page keeps no copy of the category list that could fall out of date.

import { API_ROOT } from "./http.js";
import { categoryLabel } from "./messages.js";

let categories = [];
let loading = null;

/** Fetch the API's categories once (later calls share the first answer); [] if it cannot. */
export function loadCategories() {
  loading ??= fetch(new URL("openapi.json", API_ROOT), { headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : Promise.reject(new Error(`HTTP ${response.status}`))))
    .then((document) => {
      const names = document?.components?.schemas?.Category?.enum;
      categories = Array.isArray(names) ? names.filter((name) => typeof name === "string") : [];
      return categories;
    })
    .catch((error) => {
      // The forms still work: the API's own answer names a bad category.
      console.warn("could not read the categories from /openapi.json", error);
      loading = null;
      return categories;
    });
  return loading;
}

/** The API's categories, in its order (after loadCategories() has settled). */
export function categoryNames() {
  return categories;
}

/** Add an option per category to a <select>, after whatever options it already has. */
export function appendCategoryOptions(select) {
  for (const name of categories) {
    select.append(new Option(categoryLabel(name), name));
  }
}
