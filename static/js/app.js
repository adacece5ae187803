/*
 * Timeline Map page: one shared state (time window, filters, selection, map view) drives the
 * Folium-built Leaflet map, the vis-timeline, the event list, the density strip and the URL.
 *
 * Data is loaded by view: the map asks the API for its viewport and the time window, and switches
 * to server-side clusters when the view holds more events than is sensible to draw.
 *
 * Event text is user data. It only ever reaches the page through textContent, attributes set with
 * setAttribute, or DOM nodes handed to Leaflet and vis-timeline — never through innerHTML or an HTML
 * string — and links are drawn only for http(s) URLs.
 */
(function () {
  "use strict";

  const script = document.getElementById("app-script");
  const TEXT = JSON.parse(document.getElementById("ui-text").textContent);
  const map = window[script.dataset.map];
  const locale = document.documentElement.lang || "en";
  const numbers = new Intl.NumberFormat(locale);
  const $ = (id) => document.getElementById(id);

  const MAP_LIMIT = 500; // more than this in view: clusters instead of events
  const MARKER_CLUSTER_FROM = 200; // this many points or more: group overlapping ones on the client
  const TIMELINE_LIMIT = 200; // a story up to this size is drawn whole
  // A bigger story is drawn a window at a time, this many events of it. vis-timeline lays out each
  // new item by measuring its box and stacking it (about 1.4 ms an item on a 2-core machine), so
  // 200 new items after a drag held the page for 280 ms; 100 stay under the 200 ms budget (bench e4).
  const WINDOW_PAGE = 100;
  const DAY = 86400000;

  function t(key, params) {
    return (TEXT[key] || key).replace(/%\((\w+)\)s/g, (_, name) => (params && name in params ? params[name] : ""));
  }

  /* ---------------------------------------------------------------- DOM helpers */

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
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

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  /* ---------------------------------------------------------------- dates at their precision */

  const dateFormats = {
    day: new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }),
    month: new Intl.DateTimeFormat(locale, { month: "long", year: "numeric", timeZone: "UTC" }),
    year: new Intl.DateTimeFormat(locale, { year: "numeric", timeZone: "UTC" }),
  };

  function firstDay(iso) {
    const [y, m, d] = iso.split("-").map(Number);
    const when = new Date(Date.UTC(y, (m || 1) - 1, d || 1));
    when.setUTCFullYear(y);
    return when;
  }

  /** The day after the last day an ISO date at its precision covers (an exclusive end). */
  function afterLastDay(iso, precision) {
    const start = firstDay(iso);
    if (precision === "year") return new Date(Date.UTC(start.getUTCFullYear() + 1, 0, 1));
    if (precision === "month") return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    return new Date(start.getTime() + DAY);
  }

  function formatDate(iso, precision) {
    return (dateFormats[precision] || dateFormats.day).format(firstDay(iso));
  }

  function formatWhen(props) {
    const start = formatDate(props.start, props.date_precision);
    return props.end ? `${start} – ${formatDate(props.end, props.date_precision)}` : start;
  }

  const isoDay = (date) => date.toISOString().slice(0, 10);

  /* ---------------------------------------------------------------- state and the URL */

  const state = {
    start: null, // ISO day or null (all time)
    end: null,
    categories: [], // empty: all
    confidences: [],
    q: "",
    sel: null,
    vp: false,
  };
  const CONFIDENCES = ["confirmed", "reported", "claimed"];
  const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

  /** Read the view from the URL; what cannot be read is reported and left at its default. */
  function readUrl() {
    const params = new URLSearchParams(window.location.search);
    const problems = [];
    const next = { start: null, end: null, categories: [], confidences: [], q: "", sel: null, vp: false, view: null };
    for (const key of ["start", "end"]) {
      const value = params.get(key);
      if (value === null || value === "") continue;
      if (ISO_DAY.test(value) && !Number.isNaN(Date.parse(value + "T00:00:00Z")) && isoDay(new Date(value + "T00:00:00Z")) === value) next[key] = value;
      else problems.push(key);
    }
    if (next.start && next.end && next.start > next.end) {
      problems.push("start > end");
      next.start = next.end = null;
    }
    next.categories = (params.get("cat") || "").split(",").filter(Boolean);
    const conf = (params.get("conf") || "").split(",").filter(Boolean);
    if (conf.some((c) => !CONFIDENCES.includes(c))) problems.push("conf");
    else next.confidences = conf;
    next.q = (params.get("q") || "").slice(0, 200);
    next.sel = params.get("sel") || null;
    next.vp = params.get("vp") === "1";
    const view = params.get("map");
    if (view) {
      const [z, lat, lon] = view.split("/").map(Number);
      if ([z, lat, lon].every(Number.isFinite) && z >= 0 && z <= 18 && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) next.view = { z, lat, lon };
      else problems.push("map");
    }
    return { next, problems };
  }

  function urlFor(base) {
    const params = new URLSearchParams();
    const c = map.getCenter();
    params.set("map", `${map.getZoom()}/${c.lat.toFixed(4)}/${c.lng.toFixed(4)}`);
    if (state.start) params.set("start", state.start);
    if (state.end) params.set("end", state.end);
    if (state.categories.length) params.set("cat", state.categories.join(","));
    if (state.confidences.length) params.set("conf", state.confidences.join(","));
    if (state.q) params.set("q", state.q);
    if (state.sel) params.set("sel", state.sel);
    if (state.vp) params.set("vp", "1");
    return `${base}?${params.toString().replace(/%2C/g, ",").replace(/%2F/g, "/")}`;
  }

  let restoring = false;
  function writeUrl(push) {
    if (restoring) return;
    const url = urlFor(window.location.pathname);
    if (url === window.location.pathname + window.location.search) return;
    if (push) history.pushState(null, "", url);
    else history.replaceState(null, "", url);
  }

  function showNotice(problems) {
    const notice = $("notice");
    if (!problems.length) {
      notice.hidden = true;
      return;
    }
    notice.textContent = t("bad_link", { problem: problems.join(", ") });
    notice.hidden = false;
  }

  /* ---------------------------------------------------------------- API parameters */

  function filterParams({ bbox = false, window = true } = {}) {
    const params = new URLSearchParams();
    if (window && state.start) params.set("start", state.start);
    if (window && state.end) params.set("end", state.end);
    for (const c of state.categories) params.append("category", c);
    for (const c of state.confidences) params.append("confidence", c);
    if (state.q) params.set("q", state.q);
    if (bbox) {
      const b = map.getBounds();
      const west = Math.max(-180, b.getWest());
      const east = Math.min(180, b.getEast());
      params.set("bbox", [west, Math.max(-90, b.getSouth()), east, Math.min(90, b.getNorth())].map((v) => v.toFixed(5)).join(","));
    }
    return params;
  }

  let generation = 0; // answers to superseded requests are dropped
  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.json();
  }

  /* ---------------------------------------------------------------- categories: filter and legend */

  const categories = new Map();
  const categoryOf = (slug) => categories.get(slug) || { label: slug, colour: "#555555" };

  function drawCategoryFilter() {
    const list = $("category-list");
    list.replaceChildren();
    for (const c of categories.values()) {
      const box = el("input", { type: "checkbox", name: "category", value: c.slug, checked: !state.categories.length || state.categories.includes(c.slug) });
      const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.background = c.colour;
      list.append(el("label", { class: "legend-item" }, box, swatch, c.label));
    }
  }

  function readCategoryFilter() {
    const boxes = [...document.querySelectorAll("#category-list input")];
    const checked = boxes.filter((b) => b.checked).map((b) => b.value);
    state.categories = checked.length === boxes.length ? [] : checked;
  }

  function readConfidenceFilter() {
    const boxes = [...document.querySelectorAll("input[name=confidence]")];
    const checked = boxes.filter((b) => b.checked).map((b) => b.value);
    state.confidences = checked.length === boxes.length ? [] : checked;
  }

  function syncControls() {
    for (const box of document.querySelectorAll("#category-list input")) box.checked = !state.categories.length || state.categories.includes(box.value);
    for (const box of document.querySelectorAll("input[name=confidence]")) box.checked = !state.confidences.length || state.confidences.includes(box.value);
    $("search").value = state.q;
    $("window-start").value = state.start || "";
    $("window-end").value = state.end || "";
    $("viewport-only").checked = state.vp;
  }

  /* ---------------------------------------------------------------- the map */

  map.createPane("basemap").style.zIndex = 250;
  const eventsLayer = L.layerGroup().addTo(map);
  const layers = new Map(); // event id -> Leaflet layer
  const full = new Map(); // event id -> the whole feature, fetched when it is opened

  function baseStyle(feature) {
    const colour = categoryOf(feature.properties.category).colour;
    const type = feature.geometry.type;
    if (type.endsWith("Point")) return { weight: 2, color: "#ffffff", fillColor: colour, fillOpacity: 0.9 };
    return { color: colour, weight: 3, fillColor: colour, fillOpacity: 0.2, dashArray: type.endsWith("Polygon") ? "6 4" : null };
  }

  function drawFeatures(features) {
    eventsLayer.clearLayers();
    layers.clear();
    const rank = (f) => (f.geometry.type.endsWith("Polygon") ? 0 : f.geometry.type.endsWith("LineString") ? 1 : 2);
    const ordered = [...features].sort((a, b) => rank(a) - rank(b)); // areas under lines under points
    const points = ordered.filter((f) => f.geometry.type === "Point").length;
    const group = points >= MARKER_CLUSTER_FROM && L.markerClusterGroup ? L.markerClusterGroup({ maxClusterRadius: 40 }) : null;
    L.geoJSON(ordered, {
      className: "event-feature",
      pointToLayer: (feature, latlng) => L.circleMarker(latlng, { radius: 7, className: "event-feature" }),
      style: baseStyle,
      onEachFeature: (feature, layer) => {
        layers.set(feature.id, layer);
        layer.bindTooltip(el("span", { lang: feature.properties.lang }, feature.properties.title));
        layer.on("click", () => select(feature.id, "map"));
        (group && feature.geometry.type === "Point" ? group : eventsLayer).addLayer(layer);
      },
    });
    if (group) eventsLayer.addLayer(group);
    highlight(state.sel, true);
  }

  function drawClusters(collection) {
    eventsLayer.clearLayers();
    layers.clear();
    const largest = Math.max(1, ...collection.features.map((f) => f.properties.count));
    for (const cell of collection.features) {
      const count = cell.properties.count;
      const [lon, lat] = cell.geometry.coordinates;
      const size = 26 + Math.round(24 * Math.sqrt(count / largest));
      const icon = L.divIcon({ className: "cluster", iconSize: [size, size], html: "" });
      const marker = L.marker([lat, lon], { icon, keyboard: true, title: t("zoom_in", { count: numbers.format(count) }) });
      marker.on("add", () => {
        const node = marker.getElement();
        node.replaceChildren(el("span", null, numbers.format(count)));
      });
      marker.on("click", () => {
        const [w, s, e, n] = cell.properties.bbox;
        map.fitBounds([[s, w], [n, e]], { padding: [20, 20], maxZoom: Math.min(map.getZoom() + 3, 18) });
      });
      eventsLayer.addLayer(marker);
    }
  }

  function highlight(id, on) {
    const layer = id && layers.get(id);
    if (!layer) return;
    if (on) {
      if (layer.setStyle) layer.setStyle({ weight: 5, color: "#111111" });
      if (layer.bringToFront) layer.bringToFront();
      layer.openTooltip();
    } else {
      layer.closeTooltip();
      if (layer.setStyle) layer.setStyle(baseStyle(layer.feature));
    }
  }

  async function loadBasemap() {
    const style = (weight, colour) => ({ color: colour, weight, fill: false, interactive: false });
    for (const [name, weight, colour] of [["admin1.geojson", 0.7, "#8a8f98"], ["countries.geojson", 1.4, "#4b5563"]]) {
      try {
        const data = await getJSON(script.dataset.basemap + name);
        L.geoJSON(data, { pane: "basemap", style: () => style(weight, colour) }).addTo(map);
      } catch (e) {
        console.warn("basemap layer unavailable", name, e);
      }
    }
  }

  /* ---------------------------------------------------------------- the timeline (vis-timeline) */

  const items = new vis.DataSet();
  const timeline = new vis.Timeline($("vis-timeline"), items, {
    locale: locale.startsWith("de") ? "de" : "en",
    moment: (date) => vis.moment(date).utc(),
    stack: true,
    maxHeight: 280,
    minHeight: 140,
    zoomMin: 7 * DAY,
    zoomMax: 50 * 365 * DAY,
    orientation: "top",
    showCurrentTime: false,
    selectable: true,
    margin: { item: 4 },
    tooltip: { followMouse: false },
  });

  function timelineItem(feature) {
    const props = feature.properties;
    const precise = props.date_precision === "day" && !props.end;
    const content = el("span", { lang: props.lang, class: "item-title" }, props.title);
    const item = {
      id: feature.id,
      // What the item shows: when it is unchanged, a redraw keeps the item (see drawTimeline).
      shown: JSON.stringify([props.title, props.lang, props.start, props.end, props.date_precision, props.category]),
      content,
      start: firstDay(props.start),
      className: `precision-${props.date_precision} category-${props.category}`,
      style: `border-color: ${categoryOf(props.category).colour}`,
    };
    if (precise) item.type = "box";
    else {
      item.type = "range";
      item.end = afterLastDay(props.end || props.start, props.date_precision);
    }
    return item;
  }

  function drawTimeline(features, total) {
    // Events already drawn as they are now keep their items: vis-timeline measures and stacks only
    // new or changed ones (about 1.4 ms each), so a refresh that keeps most events costs little.
    const wanted = features.map(timelineItem);
    const ids = new Set(wanted.map((item) => item.id));
    items.remove(items.getIds().filter((id) => !ids.has(id)));
    items.update(wanted.filter((item) => items.get(item.id)?.shown !== item.shown));
    if (!state.start && !state.end && features.length) timeline.fit({ animation: false });
    else if (state.start || state.end) setTimelineWindow();
    if (state.sel && items.get(state.sel)) timeline.setSelection([state.sel]);
    drawList(features, total);
  }

  let programmaticRange = false;
  function setTimelineWindow() {
    const range = timeline.getWindow();
    const start = state.start ? firstDay(state.start) : range.start;
    const end = state.end ? new Date(firstDay(state.end).getTime() + DAY) : range.end;
    programmaticRange = true;
    timeline.setWindow(start, end, { animation: false });
    programmaticRange = false;
  }

  timeline.on("rangechanged", (props) => {
    if (!props.byUser || programmaticRange) return;
    state.start = isoDay(props.start);
    state.end = isoDay(new Date(props.end.getTime() - 1));
    $("window-start").value = state.start;
    $("window-end").value = state.end;
    drawWindowOnDensity();
    writeUrl(false);
    refreshMap();
    refreshTimelineData();
  });

  timeline.on("select", (props) => {
    if (props.items.length) select(String(props.items[0]), "timeline");
  });

  /* ---------------------------------------------------------------- the event list */

  const listItems = new Map();
  function drawList(features, total) {
    const list = $("timeline");
    list.replaceChildren();
    listItems.clear();
    for (const feature of features) {
      const props = feature.properties;
      const category = categoryOf(props.category);
      const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.background = category.colour;
      const button = el(
        "button",
        { type: "button", class: "item", "data-id": feature.id, "aria-pressed": String(feature.id === state.sel) },
        el("time", { class: "when", datetime: props.start }, formatWhen(props)),
        el("span", { class: "title", lang: props.lang }, props.title),
        el("span", { class: "chip" }, swatch, category.label),
      );
      button.addEventListener("click", () => select(feature.id, "list"));
      const item = el("li", { class: feature.id === state.sel ? "timeline-item selected" : "timeline-item" }, button);
      listItems.set(feature.id, item);
      list.append(item);
    }
    if (total > features.length) {
      const message = features.length
        ? t("more_items", { shown: numbers.format(features.length), total: numbers.format(total) })
        : t("too_many", { total: numbers.format(total) });
      list.append(el("li", { class: "muted" }, message));
    }
  }

  /* ---------------------------------------------------------------- details */

  function showDetails(feature) {
    const details = $("details");
    if (!feature) {
      details.hidden = true;
      details.replaceChildren();
      return;
    }
    const props = feature.properties;
    const facts = el("dl", { class: "facts" });
    const fact = (label, value) => {
      if (value === null || value === undefined || value === "") return;
      facts.append(el("dt", null, label), el("dd", null, value));
    };
    fact(t("date"), el("time", { datetime: props.end ? `${props.start}/${props.end}` : props.start }, formatWhen(props)));
    fact(t("place"), props.place);
    fact(t("category"), categoryOf(props.category).label);
    fact(t("confidence"), t(props.confidence));
    fact(t("actors"), (props.actors || []).join(", "));
    const sources = el("ul", { class: "sources" });
    for (const source of props.sources || []) {
      const label = [source.outlet, source.title].filter(Boolean).join(": ") || source.url || t("source");
      const href = safeUrl(source.url);
      const line = href ? el("a", { href, rel: "noopener noreferrer nofollow", target: "_blank" }, label) : el("span", null, label);
      sources.append(el("li", null, line, source.published ? ` (${source.published})` : null));
    }
    const close = el("button", { type: "button", class: "close", "aria-label": t("close") }, "×");
    close.addEventListener("click", () => select(null, "details"));
    const page = el("a", { href: script.dataset.eventPage.replace("__ID__", encodeURIComponent(feature.id)), class: "event-link" }, t("event_page"));
    details.replaceChildren(
      close,
      el("h2", { lang: props.lang }, props.title),
      facts,
      props.description ? el("p", { class: "description", lang: props.lang }, props.description) : null,
      (props.sources || []).length ? el("h3", null, t("sources")) : null,
      (props.sources || []).length ? sources : null,
      el("p", null, page),
    );
    details.hidden = false;
    details.scrollIntoView({ block: "nearest" });
  }

  /* ---------------------------------------------------------------- selection */

  async function select(id, from) {
    if (state.sel && state.sel !== id) {
      highlight(state.sel, false);
      const previous = listItems.get(state.sel);
      if (previous) {
        previous.classList.remove("selected");
        previous.querySelector("button").setAttribute("aria-pressed", "false");
      }
    }
    state.sel = id;
    if (!String(from).startsWith("restore")) writeUrl(true);
    if (!id) {
      timeline.setSelection([]);
      showDetails(null);
      return;
    }
    const item = listItems.get(id);
    if (item) {
      item.classList.add("selected");
      item.querySelector("button").setAttribute("aria-pressed", "true");
      if (from !== "list" && !String(from).startsWith("restore")) item.scrollIntoView({ block: "nearest" });
    }
    if (items.get(id)) timeline.setSelection([id], { focus: from !== "timeline", animation: false });
    let feature = full.get(id);
    if (!feature) {
      try {
        feature = await getJSON(`${script.dataset.api}/${encodeURIComponent(id)}`);
        full.set(id, feature);
      } catch (e) {
        state.sel = null;
        writeUrl(false);
        return;
      }
    }
    if (state.sel !== id) return;
    showDetails(feature);
    const layer = layers.get(id);
    highlight(id, true);
    if (from !== "map" && from !== "restore-view") {
      const bounds = layer && layer.getBounds ? layer.getBounds() : L.geoJSON(feature).getBounds();
      if (!map.getBounds().contains(bounds)) {
        if (bounds.getNorthEast().equals(bounds.getSouthWest())) map.setView(bounds.getCenter(), Math.max(map.getZoom(), 7));
        else map.fitBounds(bounds, { maxZoom: 10, padding: [20, 20] });
      }
    }
  }

  /* ---------------------------------------------------------------- loading by view */

  let total = null;
  /** Count first (cheap, from the cluster endpoint); draw events one by one only when few enough. */
  async function refreshMap() {
    const mine = ++generation;
    const params = filterParams({ bbox: true });
    params.set("zoom", String(map.getZoom()));
    try {
      const cells = await getJSON(`${script.dataset.clusters}?${params}`);
      if (mine !== generation) return;
      const matched = cells.numberMatched;
      if (matched > MAP_LIMIT) {
        drawClusters(cells);
      } else {
        params.delete("zoom");
        params.set("limit", String(MAP_LIMIT));
        params.set("view", "summary");
        const page = await getJSON(`${script.dataset.api}?${params}`);
        if (mine !== generation) return;
        drawFeatures(page.features);
      }
      if (total === null) total = (await getJSON(`${script.dataset.clusters}?zoom=0`)).numberMatched;
      $("status").textContent = t("count", { visible: numbers.format(matched), total: numbers.format(total) });
      if (state.vp) refreshTimelineData();
    } catch (e) {
      $("status").textContent = t("failed");
      console.error(e);
    }
  }

  let timelineGeneration = 0;
  /** The timeline's items: every matching event (in the map view if asked), or, when there are too
   * many for a timeline to show, those in the current window, up to a limit. */
  async function refreshTimelineData() {
    const mine = ++timelineGeneration;
    const params = filterParams({ bbox: state.vp, window: false });
    try {
      params.set("zoom", "0");
      let matched = (await getJSON(`${script.dataset.clusters}?${params}`)).numberMatched;
      params.delete("zoom");
      if (matched > TIMELINE_LIMIT) {
        if (!state.start && !state.end) {
          // Too many for a timeline: show their rhythm (the density strip) over their whole period
          // and let the visitor pick a stretch of it.
          drawTimeline([], matched);
          if (weeks.length) {
            const first = firstDay(weeks[0].start);
            const last = new Date(firstDay(weeks[weeks.length - 1].start).getTime() + 7 * DAY);
            programmaticRange = true;
            timeline.setWindow(first, last, { animation: false });
            programmaticRange = false;
            drawDensity();
          }
          return;
        }
        if (state.start) params.set("start", state.start);
        if (state.end) params.set("end", state.end);
      }
      params.set("limit", String(matched > TIMELINE_LIMIT ? WINDOW_PAGE : TIMELINE_LIMIT));
      params.set("view", "summary");
      const page = await getJSON(`${script.dataset.api}?${params}`);
      if (mine !== timelineGeneration) return;
      matched = page.numberMatched;
      drawTimeline(page.features, matched);
    } catch (e) {
      console.error(e);
    }
  }

  /* ---------------------------------------------------------------- density strip */

  let weeks = [];
  async function refreshDensity() {
    const params = filterParams({ window: false });
    try {
      weeks = (await getJSON(`${script.dataset.density}?${params}`)).weeks;
    } catch (e) {
      weeks = [];
    }
    drawDensity();
  }

  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  }

  function densityRange() {
    const range = timeline.getWindow();
    return [range.start.getTime(), range.end.getTime()];
  }

  function drawDensity() {
    const box = $("density");
    const width = box.clientWidth || 400;
    const height = 40;
    const chart = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "density-chart" });
    const [from, to] = densityRange();
    const span = Math.max(to - from, DAY);
    const most = Math.max(1, ...weeks.map((w) => w.count));
    const barWidth = Math.max(1, (7 * DAY * width) / span - 1);
    for (const week of weeks) {
      const x = ((firstDay(week.start).getTime() - from) / span) * width;
      if (x + barWidth < 0 || x > width) continue;
      const h = Math.max(2, (week.count / most) * (height - 2));
      const bar = svg("rect", { x: x.toFixed(1), y: (height - h).toFixed(1), width: barWidth.toFixed(1), height: h.toFixed(1), class: "density-bar" });
      const title = svg("title", {});
      title.textContent = t("per_week", { count: numbers.format(week.count), date: formatDate(week.start, "day") });
      bar.append(title);
      chart.append(bar);
    }
    box.replaceChildren(chart);
    box.setAttribute("aria-label", weeks.map((w) => `${w.start}: ${w.count}`).slice(0, 60).join("; "));
  }

  function drawWindowOnDensity() {
    drawDensity();
  }
  timeline.on("rangechange", debounce(drawDensity, 30));

  /* ---------------------------------------------------------------- controls */

  const refreshAll = () => {
    writeUrl(true);
    refreshMap();
    refreshTimelineData();
    refreshDensity();
  };

  $("filters").addEventListener("submit", (e) => e.preventDefault());
  $("category-list").addEventListener("change", () => {
    readCategoryFilter();
    refreshAll();
  });
  for (const box of document.querySelectorAll("input[name=confidence]")) {
    box.addEventListener("change", () => {
      readConfidenceFilter();
      refreshAll();
    });
  }
  $("search").addEventListener("input", debounce(() => {
    state.q = $("search").value.trim();
    refreshAll();
  }, 300));
  for (const id of ["window-start", "window-end"]) {
    $(id).addEventListener("change", () => {
      const start = $("window-start").value || null;
      const end = $("window-end").value || null;
      if (start && end && start > end) return;
      state.start = start;
      state.end = end;
      setTimelineWindow();
      writeUrl(true);
      refreshMap();
      drawDensity();
    });
  }
  $("all-time").addEventListener("click", () => {
    state.start = state.end = null;
    syncControls();
    timeline.fit({ animation: false });
    writeUrl(true);
    refreshMap();
    drawDensity();
  });
  $("viewport-only").addEventListener("change", () => {
    state.vp = $("viewport-only").checked;
    writeUrl(true);
    refreshTimelineData();
  });

  // Play: slide the window forward through time, a tenth of its width at a step.
  let playing = null;
  function stopPlaying() {
    clearInterval(playing);
    playing = null;
    $("play").textContent = t("play");
    $("play").setAttribute("aria-pressed", "false");
  }
  $("play").addEventListener("click", () => {
    if (playing) return stopPlaying();
    const last = weeks.length ? firstDay(weeks[weeks.length - 1].start).getTime() + 7 * DAY : Date.now();
    $("play").textContent = t("pause");
    $("play").setAttribute("aria-pressed", "true");
    playing = setInterval(() => {
      const range = timeline.getWindow();
      const step = (range.end - range.start) / 10;
      if (range.end.getTime() >= last) return stopPlaying();
      const start = new Date(range.start.getTime() + step);
      const end = new Date(range.end.getTime() + step);
      programmaticRange = true;
      timeline.setWindow(start, end, { animation: false });
      programmaticRange = false;
      state.start = isoDay(start);
      state.end = isoDay(new Date(end.getTime() - 1));
      syncControls();
      drawDensity();
      writeUrl(false);
      refreshMap();
    }, 700);
  });

  async function copy(text) {
    try {
      await navigator.clipboard.writeText(text);
      $("copied").textContent = t("copied");
    } catch (e) {
      $("copied").textContent = `${t("copy_failed")} ${text}`;
    }
  }
  if ($("copy-link")) {
    $("copy-link").addEventListener("click", () => copy(urlFor(new URL(window.location.pathname, window.location.href).href)));
    $("copy-embed").addEventListener("click", () => {
      const src = urlFor(new URL(script.dataset.embed, window.location.href).href);
      const code = el("iframe", { src, width: "100%", height: "600", style: "border:0", loading: "lazy", title: "Timeline Map" });
      copy(code.outerHTML);
    });
  }
  if ($("open-full")) $("open-full").addEventListener("click", () => $("open-full").setAttribute("href", urlFor(script.dataset.home)));

  map.on("moveend", debounce(() => {
    writeUrl(false);
    refreshMap();
  }, 150));

  window.addEventListener("popstate", () => restore(false));

  /** Apply the URL's view; on first load, also report what could not be read. */
  async function restore(first) {
    // While the view is being restored, its own side effects (moveend, refreshes) must not write
    // a half-restored state back into the URL.
    restoring = true;
    let chosenMeanwhile = false;
    try {
      chosenMeanwhile = await restoreView(first);
    } finally {
      restoring = false;
    }
    // What the visitor picked while the view was loading is now part of the view: put it in the address.
    if (chosenMeanwhile) writeUrl(false);
  }

  /** Returns whether the visitor chose an event while it ran (their choice then stands). */
  async function restoreView(first) {
    const { next, problems } = readUrl();
    if (first && categories.size) {
      const unknown = next.categories.filter((c) => !categories.has(c));
      if (unknown.length) {
        problems.push("cat");
        next.categories = [];
      }
    }
    const selectedBefore = state.sel;
    Object.assign(state, { start: next.start, end: next.end, categories: next.categories, confidences: next.confidences, q: next.q, vp: next.vp });
    syncControls();
    if (next.view) map.setView([next.view.lat, next.view.lon], next.view.z, { animate: false });
    if (first) showNotice(problems);
    await refreshDensity();
    await Promise.all([refreshMap(), refreshTimelineData()]);
    if (state.start || state.end) setTimelineWindow();
    drawDensity();
    // A visitor who picked an event while the view was loading (slow network) keeps it: their
    // click is newer than the address they came with.
    if (state.sel !== selectedBefore) return true;
    if (next.sel !== selectedBefore || first) await select(next.sel, next.view ? "restore-view" : "restore");
    return false;
  }

  async function start() {
    try {
      const body = await getJSON(script.dataset.categories);
      for (const c of body.categories) categories.set(c.slug, c);
    } catch (e) {
      console.error(e);
    }
    drawCategoryFilter();
    await restore(true);
  }

  if (script.dataset.tiles === "off") {
    loadBasemap();
  } else {
    // Tiles are configured: fall back to the bundled boundaries the first time one fails to load,
    // including failures that happened before this script ran (a broken image has no width).
    let fallback = false;
    const useBasemap = () => {
      if (!fallback) {
        fallback = true;
        loadBasemap();
      }
    };
    map.eachLayer((layer) => {
      if (layer instanceof L.TileLayer) layer.on("tileerror", useBasemap);
    });
    if ([...document.querySelectorAll("img.leaflet-tile")].some((img) => img.complete && img.naturalWidth === 0)) useBasemap();
  }
  start();
})();
