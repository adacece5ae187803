/*
 * Timeline Map page: loads events from the API into the Folium-built Leaflet map and the timeline
 * list, and keeps the two in step (select in one, see it in the other).
 *
 * Event text is user data. It only ever reaches the page through textContent, attributes set with
 * setAttribute, or DOM nodes handed to Leaflet — never through innerHTML or an HTML string — and
 * links are drawn only for http(s) URLs.
 */
(function () {
  "use strict";

  const script = document.getElementById("app-script");
  const map = window[script.dataset.map];
  const statusEl = document.getElementById("status");
  const listEl = document.getElementById("timeline");
  const detailsEl = document.getElementById("details");

  const state = { features: [], byId: new Map(), layers: new Map(), items: new Map(), categories: new Map(), selected: null };

  /* ---------------------------------------------------------------- small DOM helpers */

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function safeUrl(url) {
    if (typeof url !== "string") return null;
    try {
      const parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  /* ---------------------------------------------------------------- dates at their precision */

  const locale = document.documentElement.lang || "en";
  const formats = {
    day: new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }),
    month: new Intl.DateTimeFormat(locale, { month: "long", year: "numeric", timeZone: "UTC" }),
    year: new Intl.DateTimeFormat(locale, { year: "numeric", timeZone: "UTC" }),
  };

  function formatDate(iso, precision) {
    const [y, m, d] = iso.split("-").map(Number);
    const when = new Date(Date.UTC(y, (m || 1) - 1, d || 1));
    when.setUTCFullYear(y); // years below 100 would otherwise be read as 19xx
    return (formats[precision] || formats.day).format(when);
  }

  function formatWhen(props) {
    const start = formatDate(props.start, props.date_precision);
    return props.end ? `${start} – ${formatDate(props.end, props.date_precision)}` : start;
  }

  function categoryOf(props) {
    return state.categories.get(props.category) || { label: props.category, colour: "#555555" };
  }

  /* ---------------------------------------------------------------- loading */

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.json();
  }

  async function loadAllEvents() {
    const features = [];
    let url = `${script.dataset.api}?limit=1000`;
    while (url) {
      const page = await getJSON(url);
      features.push(...page.features);
      const next = (page.links || []).find((l) => l.rel === "next");
      url = next ? next.href : null;
    }
    return features;
  }

  async function loadBasemap() {
    const style = (weight, colour) => ({ color: colour, weight, fill: false, interactive: false });
    map.createPane("basemap").style.zIndex = 250;
    for (const [name, weight, colour] of [["admin1.geojson", 0.7, "#8a8f98"], ["countries.geojson", 1.4, "#4b5563"]]) {
      try {
        const data = await getJSON(script.dataset.basemap + name);
        L.geoJSON(data, { pane: "basemap", style: () => style(weight, colour) }).addTo(map);
      } catch (e) {
        console.warn("basemap layer unavailable", name, e);
      }
    }
  }

  /* ---------------------------------------------------------------- drawing */

  function baseStyle(feature) {
    const colour = categoryOf(feature.properties).colour;
    const type = feature.geometry.type;
    if (type.endsWith("Point")) return { weight: 2, color: "#ffffff", fillColor: colour, fillOpacity: 0.9 };
    return { color: colour, weight: 3, fillColor: colour, fillOpacity: 0.2, dashArray: type.endsWith("Polygon") ? "6 4" : null };
  }

  function drawEvents() {
    // Areas first, then lines, then points: smaller shapes stay on top and clickable.
    const rank = (f) => (f.geometry.type.endsWith("Polygon") ? 0 : f.geometry.type.endsWith("LineString") ? 1 : 2);
    const drawOrder = [...state.features].sort((a, b) => rank(a) - rank(b));
    const layer = L.geoJSON(drawOrder, {
      className: "event-feature", // lines and areas take this from the layer's options
      pointToLayer: (feature, latlng) => L.circleMarker(latlng, { radius: 7, className: "event-feature" }),
      style: baseStyle,
      onEachFeature: (feature, featureLayer) => {
        state.layers.set(feature.id, featureLayer);
        featureLayer.bindTooltip(el("span", { lang: feature.properties.lang }, feature.properties.title));
        featureLayer.on("click", () => select(feature.id, { from: "map" }));
      },
    }).addTo(map);
    return layer;
  }

  function drawTimeline() {
    listEl.replaceChildren();
    for (const feature of state.features) {
      const props = feature.properties;
      const category = categoryOf(props);
      const button = el(
        "button",
        { type: "button", class: "item", "data-id": feature.id, "aria-pressed": "false" },
        el("time", { class: "when", datetime: props.start }, formatWhen(props)),
        el("span", { class: "title", lang: props.lang }, props.title),
        el("span", { class: "chip" }, el("span", { class: "swatch", "aria-hidden": "true" }), category.label),
      );
      button.querySelector(".swatch").style.background = category.colour;
      button.addEventListener("click", () => select(feature.id, { from: "timeline" }));
      const item = el("li", { class: "timeline-item" }, button);
      state.items.set(feature.id, item);
      listEl.append(item);
    }
  }

  function showDetails(feature) {
    const props = feature.properties;
    const category = categoryOf(props);
    const facts = el("dl", { class: "facts" });
    const fact = (label, value) => {
      if (value === null || value === undefined || value === "") return;
      facts.append(el("dt", null, label), el("dd", null, value));
    };
    fact("Date", el("time", { datetime: props.end ? `${props.start}/${props.end}` : props.start }, formatWhen(props)));
    fact("Place", props.place);
    fact("Category", category.label);
    fact("Confidence", props.confidence);
    fact("Actors", (props.actors || []).join(", "));

    const sources = el("ul", { class: "sources" });
    for (const source of props.sources || []) {
      const label = [source.outlet, source.title].filter(Boolean).join(": ") || source.url || "Source";
      const href = safeUrl(source.url);
      const line = href ? el("a", { href, rel: "noopener noreferrer nofollow", target: "_blank" }, label) : el("span", null, label);
      sources.append(el("li", null, line, source.published ? ` (${source.published})` : null));
    }

    detailsEl.replaceChildren(
      el("button", { type: "button", class: "close", "aria-label": "Close details" }, "×"),
      el("h2", { lang: props.lang }, props.title),
      facts,
      props.description ? el("p", { class: "description", lang: props.lang }, props.description) : null,
      (props.sources || []).length ? el("h3", null, "Sources") : null,
      (props.sources || []).length ? sources : null,
    );
    detailsEl.querySelector(".close").addEventListener("click", () => select(null));
    detailsEl.hidden = false;
  }

  /* ---------------------------------------------------------------- selection */

  function select(id, options) {
    const from = (options || {}).from;
    if (state.selected) {
      const previous = state.items.get(state.selected);
      if (previous) {
        previous.classList.remove("selected");
        previous.querySelector("button").setAttribute("aria-pressed", "false");
      }
      const layer = state.layers.get(state.selected);
      if (layer) layer.closeTooltip();
      if (layer && layer.setStyle) layer.setStyle(baseStyle(layer.feature));
    }
    state.selected = id;
    if (!id) {
      detailsEl.hidden = true;
      return;
    }
    const feature = state.byId.get(id);
    const item = state.items.get(id);
    item.classList.add("selected");
    item.querySelector("button").setAttribute("aria-pressed", "true");
    item.scrollIntoView({ block: "nearest" });
    const layer = state.layers.get(id);
    if (layer) {
      if (layer.setStyle) layer.setStyle({ weight: 5, color: "#111111" });
      if (layer.bringToFront) layer.bringToFront();
      layer.openTooltip(); // the selected event is labelled on the map, not only in the panel
      if (from !== "map") {
        if (layer.getLatLng) map.setView(layer.getLatLng(), Math.max(map.getZoom(), 7));
        else map.fitBounds(layer.getBounds(), { maxZoom: 10, padding: [20, 20] });
      }
    }
    showDetails(feature);
  }

  /* ---------------------------------------------------------------- start */

  async function start() {
    try {
      const [categories, features] = await Promise.all([getJSON(script.dataset.categories), loadAllEvents()]);
      for (const c of categories.categories) state.categories.set(c.slug, c);
      state.features = features;
      for (const f of features) state.byId.set(f.id, f);
      drawTimeline();
      // The map keeps the story's home view (set by the shell); far-away events are a click away in the timeline.
      drawEvents();
      statusEl.textContent = `${features.length} events`;
    } catch (e) {
      statusEl.textContent = "Events could not be loaded.";
      console.error(e);
    }
  }

  if (script.dataset.tiles === "off") {
    loadBasemap();
  } else {
    // Tiles are configured: fall back to the bundled boundaries the first time one fails to load.
    let fallback = false;
    map.eachLayer((layer) => {
      if (!(layer instanceof L.TileLayer)) return;
      layer.on("tileerror", () => {
        if (!fallback) {
          fallback = true;
          loadBasemap();
        }
      });
    });
  }
  start();
})();
