/*
 * Place names on every map (the main page, the embed, event pages, the editor and history maps),
 * from the offline gazetteer's /api/places/labels: the server picks the places a zoom should name
 * (capitals and regional centres zoomed out, towns and villages zoomed in, region names), most
 * important first, in the interface language; this module draws them so that none overlap.
 *
 * The names are decoration for sighted readers: they sit in their own pane under the events,
 * take no pointer events and no focus, and are hidden from assistive technology (the events and
 * their place names are in the list and the details). Text goes in with textContent.
 *
 * Uses Leaflet's global L, only when a function is called.
 */

const PANE = "placeLabels";
const PANE_Z_INDEX = 390; // over the boundaries (250), under the events (overlay pane, 400)
const GAP = 3; // px kept free around each name
const LANGUAGES = ["en", "de", "ru", "uk"];

/** Credit for the names and boundaries every map draws (no national flag in Leaflet's prefix). */
export const PLACE_ATTRIBUTION =
  '<a href="https://www.geonames.org/">GeoNames</a> (CC BY 4.0) · <a href="https://www.naturalearthdata.com/">Natural Earth</a>';
export const LEAFLET_PREFIX = '<a href="https://leafletjs.com/">Leaflet</a>';

/**
 * Keep the boxes that do not overlap one already kept, in the order given (most important first).
 * `boxes` are {left, top, right, bottom} in pixels; answers the indexes kept. Pure.
 */
export function keepUnoverlapped(boxes, gap = GAP) {
  const kept = [];
  const taken = [];
  boxes.forEach((box, index) => {
    const grown = { left: box.left - gap, top: box.top - gap, right: box.right + gap, bottom: box.bottom + gap };
    const clashes = taken.some((t) => grown.left < t.right && grown.right > t.left && grown.top < t.bottom && grown.bottom > t.top);
    if (clashes) return;
    taken.push(box);
    kept.push(index);
  });
  return kept;
}

/**
 * The bbox to ask for, snapped outward to a grid of one tile's width at this zoom so that small
 * pans ask for the same URL (which the browser then has cached), clamped to the world.
 */
export function labelQuery(bounds, zoom) {
  const z = Math.max(0, Math.round(zoom));
  const step = 360 / 2 ** z;
  const snap = (value, round) => Math.round(round(value / step) * step * 1e4) / 1e4;
  const clamp = (value, limit) => Math.max(-limit, Math.min(limit, value));
  let west = snap(bounds.west, Math.floor);
  let east = snap(bounds.east, Math.ceil);
  if (east - west >= 360) [west, east] = [-180, 180];
  return {
    bbox: [clamp(west, 180), clamp(snap(bounds.south, Math.floor), 90), clamp(east, 180), clamp(snap(bounds.north, Math.ceil), 90)],
    zoom: z,
  };
}

/** The language the names are asked in: the page's, if the gazetteer has it. */
export function labelLanguage(doc = document) {
  const lang = (doc.documentElement.lang || "en").slice(0, 2).toLowerCase();
  return LANGUAGES.includes(lang) ? lang : "en";
}

/** Leaflet's prefix without the flag, and the names' and boundaries' sources, on a map. */
export function creditMap(map) {
  let control = map.attributionControl;
  if (!control) {
    control = L.control.attribution();
    map.addControl(control);
  }
  control.setPrefix(LEAFLET_PREFIX);
  control.addAttribution(PLACE_ATTRIBUTION);
}

/**
 * Draw the gazetteer's names on `map`, asked from `url` (the page config's urls.placeLabels) and
 * redrawn whenever the map stops moving. Answers {redraw} (for a map whose size changed).
 */
export function addPlaceLabels(map, url, lang = labelLanguage()) {
  if (!map.getPane(PANE)) {
    const pane = map.createPane(PANE);
    pane.style.zIndex = PANE_Z_INDEX;
    pane.style.pointerEvents = "none";
    pane.setAttribute("aria-hidden", "true");
  }
  const pane = map.getPane(PANE);
  creditMap(map);
  const answers = new Map(); // query URL → promise of features, so a map moving back asks no more
  let current = 0;

  function fetchLabels(address) {
    if (!answers.has(address)) {
      const answer = fetch(address, { headers: { Accept: "application/geo+json" } })
        .then((response) => {
          if (!response.ok) throw new Error(`${address}: HTTP ${response.status}`);
          return response.json();
        })
        .then((body) => body.features || [])
        .catch((e) => {
          answers.delete(address);
          console.warn("place names unavailable", e);
          return [];
        });
      answers.set(address, answer);
    }
    return answers.get(address);
  }

  function draw(features) {
    pane.replaceChildren();
    const placed = [];
    for (const feature of features) {
      const [lon, lat] = feature.geometry.coordinates;
      const { label, kind } = feature.properties;
      const node = document.createElement("div");
      node.className = `place-label place-${kind === "custom" ? "city" : kind}`;
      node.textContent = label;
      const point = map.latLngToLayerPoint([lat, lon]);
      node.style.left = `${point.x}px`;
      node.style.top = `${point.y}px`;
      pane.append(node);
      placed.push({ node, point });
    }
    // Measure all, then lay out: reading sizes between writes would lay the page out each time.
    const boxes = placed.map(({ node, point }) => {
      const width = node.offsetWidth;
      const height = node.offsetHeight;
      const centred = !node.classList.contains("place-city");
      const left = centred ? point.x - width / 2 : point.x - 4;
      return { left, right: left + width, top: point.y - height / 2, bottom: point.y + height / 2 };
    });
    const size = map.getSize();
    const origin = map.containerPointToLayerPoint([0, 0]);
    const onScreen = (b) => b.right > origin.x && b.left < origin.x + size.x && b.bottom > origin.y && b.top < origin.y + size.y;
    const order = boxes.map((box, i) => i).filter((i) => onScreen(boxes[i]));
    const kept = new Set(keepUnoverlapped(order.map((i) => boxes[i])).map((k) => order[k]));
    placed.forEach(({ node }, i) => {
      if (!kept.has(i)) node.remove();
    });
  }

  async function redraw() {
    const mine = ++current;
    const b = map.getBounds();
    const query = labelQuery({ west: b.getWest(), south: b.getSouth(), east: b.getEast(), north: b.getNorth() }, map.getZoom());
    const params = new URLSearchParams({ bbox: query.bbox.join(","), zoom: String(query.zoom), lang });
    const features = await fetchLabels(`${url}?${params}`);
    if (mine === current) draw(features); // a later move has its own answer coming
  }

  map.on("zoomstart", () => {
    pane.style.visibility = "hidden"; // names would scale with the zoom animation
  });
  map.on("moveend", () => {
    pane.style.visibility = "";
    redraw();
  });
  map.whenReady(redraw);
  return { redraw };
}
