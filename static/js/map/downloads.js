/*
 * The download menu: each format's link takes the view as it is when the visitor reaches for it
 * (time window, categories, confidence, text, region, and the map's bounds when "only what the map
 * shows" is ticked), so the file holds exactly the events on screen. Nothing ticked means no file.
 */

import { filterParams, showsNothing } from "../shared/filters.js";

export function wireDownloads({ menu, store, bounds }) {
  if (!menu) return;
  const links = [...menu.querySelectorAll("a[data-base]")];
  function refresh() {
    const empty = showsNothing(store.view);
    const query = empty ? "" : filterParams(store.view, { bounds: store.view.vp ? bounds() : null }).toString();
    for (const link of links) {
      link.href = empty ? link.dataset.base : `${link.dataset.base}${query ? `?${query}` : ""}`;
      link.toggleAttribute("aria-disabled", empty);
    }
  }
  for (const link of links) {
    for (const type of ["pointerenter", "focus"]) link.addEventListener(type, refresh);
    link.addEventListener("click", (event) => {
      refresh();
      if (link.hasAttribute("aria-disabled")) event.preventDefault();
    });
  }
  menu.addEventListener("toggle", refresh);
  // Escape closes the menu from the keyboard and gives focus back to its summary.
  menu.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !menu.open) return;
    event.stopPropagation();
    menu.open = false;
    menu.querySelector("summary").focus();
  });
  refresh();
}
