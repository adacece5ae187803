/*
 * The details panel of the selected event: title, date at its precision, place, category,
 * confidence, actors, description, every source (a link only for http(s) URLs) and a link to the
 * event's own page. Built with DOM nodes and textContent only: event text is user data.
 */

import { el, safeUrl } from "../shared/dom.js";
import { eventPageUrl } from "../shared/config.js";
import { categoryOf } from "./store.js";

export function createDetails({ panel, store, ui, config, onClose }) {
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

  /** Show a whole feature (from /api/events/<id>), or hide the panel for null. */
  function show(feature) {
    if (!feature) {
      panel.hidden = true;
      panel.replaceChildren();
      return;
    }
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
    panel.replaceChildren(
      close,
      el("h2", { lang: props.lang }, props.title),
      facts,
      props.description ? el("p", { class: "description", lang: props.lang }, props.description) : null,
      sources.length ? el("h3", null, ui.t("sources")) : null,
      sources.length ? sourceList(sources) : null,
      el("p", null, page),
    );
    panel.hidden = false;
    panel.scrollIntoView({ block: "nearest" });
  }

  return { show };
}
