/*
 * The list of events under the timeline: one button per event (date at its precision, title in
 * the event's own language, category), the selected one marked, and a line saying when the list
 * shows only part of what matches.
 */

import { el } from "../shared/dom.js";
import { categoryOf } from "./store.js";

export function createEventList({ list, store, ui, onSelect }) {
  const rows = new Map(); // event id -> its <li>

  /** List these events; `total` is how many match (more than listed: a line says so), and
   * `emptyMessage` what the list says when nothing matches. */
  function draw(features, total, emptyMessage) {
    list.replaceChildren();
    rows.clear();
    for (const feature of features) {
      const props = feature.properties;
      const category = categoryOf(store, props.category);
      const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.background = category.colour;
      const selected = feature.id === store.view.sel;
      const button = el(
        "button",
        { type: "button", class: "item", "data-id": feature.id, "aria-pressed": String(selected) },
        el("time", { class: "when", datetime: props.start }, ui.when(props)),
        el("span", { class: "title", lang: props.lang }, props.title),
        el("span", { class: "chip" }, swatch, category.label),
      );
      button.addEventListener("click", () => onSelect(feature.id, "list"));
      const row = el("li", { class: selected ? "timeline-item selected" : "timeline-item" }, button);
      rows.set(feature.id, row);
      list.append(row);
    }
    if (!total && emptyMessage) list.append(el("li", { class: "empty-state", role: "status" }, emptyMessage));
    if (total > features.length) {
      const message = features.length
        ? ui.t("more_items", { shown: ui.number(features.length), total: ui.number(total) })
        : ui.t("too_many", { total: ui.number(total) });
      list.append(el("li", { class: "muted" }, message));
    }
  }

  /** Mark an event's row selected or not; returns the row (null when the event is not listed). */
  function mark(id, selected) {
    const row = rows.get(id);
    if (!row) return null;
    row.classList.toggle("selected", selected);
    row.querySelector("button").setAttribute("aria-pressed", String(selected));
    return row;
  }

  return { draw, mark };
}
