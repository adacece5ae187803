/*
 * The filter form beside the map: the category legend (which is the category filter), confidence,
 * region, text search, the time window's date fields, "All time" and "only events in the map view". It
 * reads what the visitor changed into the view and shows the view it is given; what follows from a
 * change (reloading, the address) is the caller's, through the `on` callbacks.
 */

import { byId, debounce, el } from "../shared/dom.js";
import { chosenValues, isTicked } from "../shared/filters.js";

const SEARCH_SETTLE_MS = 300; // a search runs once typing has paused this long

export function createControls({ store, ui, on }) {
  const form = byId("filters");
  const categoryList = byId("category-list");
  const search = byId("search");
  const windowStart = byId("window-start");
  const windowEnd = byId("window-end");
  const viewportOnly = byId("viewport-only");
  const windowError = byId("window-error");
  const regionSelect = byId("region-filter");
  const categoryBoxes = () => [...categoryList.querySelectorAll("input")];
  const confidenceBoxes = () => [...form.querySelectorAll("input[name=confidence]")];
  const ticked = (boxes) => boxes.filter((b) => b.checked).map((b) => b.value);

  /** The legend: one box per category of the story, with its colour. */
  function drawCategories() {
    categoryList.replaceChildren();
    for (const c of store.categories.values()) {
      const box = el("input", { type: "checkbox", name: "category", value: c.slug, checked: isTicked(store.view.categories, c.slug) });
      const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.background = c.colour;
      categoryList.append(el("label", { class: "legend-item" }, box, swatch, c.label));
    }
  }

  /**
   * The region filter's choices: "All regions", then per country (a group named after it) the
   * country as a whole and each of its regions, with how many published events each holds. A
   * choice is written "region:CODE" or "country:CODE" (the name when there is no code). A link's
   * place the list does not hold still shows as chosen, so the select never hides a filter.
   */
  function drawRegions() {
    const all = regionSelect.options[0];
    regionSelect.replaceChildren(all);
    const label = (name, code, count) => `${name || code} (${ui.number(count)})`;
    for (const country of store.places) {
      const group = el("optgroup", { label: country.name || country.code || "?" });
      if (country.code || country.name) {
        group.append(el("option", { value: `country:${country.code || country.name}` }, label(country.name, country.code, country.count)));
      }
      for (const region of country.regions) {
        group.append(el("option", { value: `region:${region.code || region.name}` }, label(region.name, region.code, region.count)));
      }
      regionSelect.append(group);
    }
    showRegion();
  }

  /** The view's region or country in the select (added as an option of its own if not listed). */
  function showRegion() {
    const view = store.view;
    const value = view.region ? `region:${view.region}` : view.country ? `country:${view.country}` : "";
    if (value && ![...regionSelect.options].some((o) => o.value === value)) {
      regionSelect.append(el("option", { value }, view.region || view.country));
    }
    regionSelect.value = value;
  }

  /** Show the view in every control. */
  function show() {
    const view = store.view;
    for (const box of categoryBoxes()) box.checked = isTicked(view.categories, box.value);
    for (const box of confidenceBoxes()) box.checked = isTicked(view.confidences, box.value);
    search.value = view.q;
    windowStart.value = view.start || "";
    windowEnd.value = view.end || "";
    viewportOnly.checked = view.vp;
    showRegion();
    showWindowError(false);
  }

  /** Show a time window in the date fields (one the visitor chose on the timeline). */
  function showWindow() {
    windowStart.value = store.view.start;
    windowEnd.value = store.view.end;
    showWindowError(false);
  }

  form.addEventListener("submit", (e) => e.preventDefault());
  categoryList.addEventListener("change", () => {
    const boxes = categoryBoxes();
    store.view.categories = chosenValues(ticked(boxes), boxes.length);
    on.filtersChanged();
  });
  for (const box of confidenceBoxes()) {
    box.addEventListener("change", () => {
      const boxes = confidenceBoxes();
      store.view.confidences = chosenValues(ticked(boxes), boxes.length);
      on.filtersChanged();
    });
  }
  regionSelect.addEventListener("change", () => {
    const [kind, ...rest] = regionSelect.value.split(":");
    const value = rest.join(":");
    store.view.region = kind === "region" ? value : "";
    store.view.country = kind === "country" ? value : "";
    on.filtersChanged();
  });
  search.addEventListener(
    "input",
    debounce(() => {
      store.view.q = search.value.trim();
      on.filtersChanged();
    }, SEARCH_SETTLE_MS),
  );
  /** Say that the typed window ends before it starts (the view keeps its last good window). */
  function showWindowError(wrong) {
    windowError.hidden = !wrong;
    for (const [name, value] of [["aria-invalid", "true"], ["aria-describedby", windowError.id]]) {
      if (wrong) windowEnd.setAttribute(name, value);
      else windowEnd.removeAttribute(name);
    }
  }

  for (const field of [windowStart, windowEnd]) {
    field.addEventListener("change", () => {
      const start = windowStart.value || null;
      const end = windowEnd.value || null;
      showWindowError(Boolean(start && end && start > end));
      if (start && end && start > end) return;
      store.view.start = start;
      store.view.end = end;
      on.windowTyped();
    });
  }
  byId("all-time").addEventListener("click", () => {
    store.view.start = store.view.end = null;
    show();
    on.allTime();
  });
  viewportOnly.addEventListener("change", () => {
    store.view.vp = viewportOnly.checked;
    on.scopeChanged();
  });

  return { drawCategories, drawRegions, show, showWindow };
}
