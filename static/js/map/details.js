/*
 * The details panel of the selected event: title, date at its precision, place, category,
 * confidence, actors, description, every source (a link only for http(s) URLs) and a link to the
 * event's own page. Built with DOM nodes and textContent only: event text is user data.
 *
 * Keyboard: opened by the visitor, the panel takes focus (its title), so a keyboard or screen-reader
 * user lands on what they chose; Escape or × closes it and focus goes back to where they were (the
 * list button or timeline item that opened it), not to the top of the page.
 */

import { el, onScreen, revealInside, safeUrl } from "../shared/dom.js";
import { eventPageUrl } from "../shared/config.js";
import { categoryOf } from "./store.js";

export function createDetails({ panel, store, ui, config, onClose }) {
  let returnTo = null; // what had focus when the visitor opened the panel
  let shownId = null;

  // Escape closes the panel from wherever focus is, except while typing in a field (where Escape
  // has its own meaning, such as clearing a search), unless that field is in the panel.
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || panel.hidden || e.defaultPrevented) return;
    const typing = e.target.closest && e.target.closest("input, textarea, select");
    if (typing && !panel.contains(typing)) return;
    e.preventDefault();
    onClose();
  });

  /** Give focus back after closing: to what opened the panel, or this event's row in the list. */
  function giveFocusBack(id) {
    // Only a place the keyboard can reach again (a clicked map shape takes focus but is skipped).
    const reachable = returnTo && returnTo.isConnected && returnTo.tabIndex >= 0 && !panel.contains(returnTo);
    const target = reachable ? returnTo : null;
    let row = id ? document.querySelector(`#timeline button[data-id="${CSS.escape(id)}"]`) : null;
    if (row) revealInside(row);
    // A row the page would have to scroll to (a phone, where the list is far below the map) is no
    // place to leave focus: the map, in view, is then where the visitor was.
    if (row && !onScreen(row)) row = document.querySelector(".map-pane .leaflet-container");
    const next = target || row;
    returnTo = null;
    if (!next) return;
    next.focus({ preventScroll: true });
    revealInside(next);
  }
  function sourceList(sources) {
    const list = el("ul", { class: "sources" });
    for (const source of sources) {
      const label = [source.outlet, source.title].filter(Boolean).join(": ") || source.url || ui.t("source");
      const href = safeUrl(source.url);
      const line = href ? el("a", { href, rel: "noopener noreferrer nofollow", target: "_blank" }, label) : el("span", null, label);
      list.append(el("li", null, line, source.published ? ` (${source.published})` : null));
    }
    return list;
  }

  /** Show a whole feature (from /api/events/<id>), or hide the panel for null. `focus`: the
   * visitor opened (or closed) it, so focus moves into it (or back out). */
  function show(feature, { focus = false } = {}) {
    if (!feature) {
      const hadFocus = panel.contains(document.activeElement);
      const closedId = shownId;
      panel.hidden = true;
      panel.replaceChildren();
      shownId = null;
      if (focus || hadFocus) giveFocusBack(closedId);
      return;
    }
    const active = document.activeElement;
    if (focus && active && active !== document.body && !panel.contains(active)) returnTo = active;
    shownId = feature.id;
    const props = feature.properties;
    const facts = el("dl", { class: "facts" });
    const fact = (label, value) => {
      if (value === null || value === undefined || value === "") return;
      facts.append(el("dt", null, label), el("dd", null, value));
    };
    fact(ui.t("date"), el("time", { datetime: props.end ? `${props.start}/${props.end}` : props.start }, ui.when(props)));
    fact(ui.t("place"), props.place);
    fact(ui.t("category"), categoryOf(store, props.category).label);
    fact(ui.t("confidence"), ui.t(props.confidence));
    fact(ui.t("actors"), (props.actors || []).join(", "));
    const sources = props.sources || [];
    const close = el("button", { type: "button", class: "close", "aria-label": ui.t("close") }, "×");
    close.addEventListener("click", onClose);
    const page = el("a", { href: eventPageUrl(config, feature.id), class: "event-link" }, ui.t("event_page"));
    const title = el("h2", { lang: props.lang, tabindex: "-1" }, props.title);
    panel.replaceChildren(
      close,
      title,
      facts,
      props.description ? el("p", { class: "description", lang: props.lang }, props.description) : null,
      sources.length ? el("h3", null, ui.t("sources")) : null,
      sources.length ? sourceList(sources) : null,
      el("p", null, page),
    );
    panel.hidden = false;
    // It opens at its top, on the title, wherever the last event's details were scrolled to; the
    // page itself does not scroll (the drawer and the sheet sit over the map, not below it).
    panel.scrollTop = 0;
    if (focus) title.focus({ preventScroll: true });
  }

  return { show, element: panel };
}
