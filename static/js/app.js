/*
 * The map page's entry module (also the embed page's): one shared state, the view, drives the
 * Folium-built Leaflet map, the vis-timeline, the event list, the density strip and the address.
 * Each of those is a module in map/; this file makes them, hands each the one store, and says what
 * follows from what the visitor does. Settings come from the server (shared/config.js), interface
 * text in the visitor's language from the #ui-text block.
 *
 * Event text is user data. It only ever reaches the page through textContent, attributes set with
 * setAttribute, or DOM nodes handed to Leaflet and vis-timeline — never through innerHTML or an HTML
 * string — and links are drawn only for http(s) URLs.
 */

import { addBasemap, basemapPane, whenTilesFail } from "./shared/basemap.js";
import { readPageConfig } from "./shared/config.js";
import { dateFormat, isoDay } from "./shared/dates.js";
import { afterPaint, byId, jsonData, readJsonBlock } from "./shared/dom.js";
import { getJSON } from "./shared/http.js";
import { addPlaceLabels, labelLanguage } from "./shared/place-labels.js";
import { createPlaceSearch, placeZoom } from "./shared/place-search.js";
import { translator } from "./shared/ui-text.js";
import { createAddress } from "./map/address.js";
import { createControls } from "./map/controls.js";
import { createDensityStrip } from "./map/density.js";
import { createDetails } from "./map/details.js";
import { createEventLayer } from "./map/event-layer.js";
import { createEventList } from "./map/event-list.js";
import { createLoader } from "./map/loading.js";
import { createPlayer } from "./map/play.js";
import { createRestorer } from "./map/restore.js";
import { createSelection } from "./map/selection.js";
import { wireDownloads } from "./map/downloads.js";
import { wireSharing } from "./map/share.js";
import { createStore } from "./map/store.js";
import { createTimeline } from "./map/timeline.js";

// How the boundary lines look on this map (regions finer and lighter than countries).
const BOUNDARY_STYLES = {
  regions: { color: "#8a8f98", weight: 0.7, fill: false },
  countries: { color: "#4b5563", weight: 1.4, fill: false },
};

const config = readPageConfig();
const map = window[config.page.mapVariable]; // made by Folium's inline script
const locale = document.documentElement.lang || "en";
const numbers = new Intl.NumberFormat(locale);
const ui = { locale, t: translator(readJsonBlock("ui-text")), number: (n) => numbers.format(n), ...dateFormat(locale) };
const store = createStore();

// Folium gives the zoom limits to tile layers only: a map without tiles would have none, and
// Leaflet.markercluster (many points) refuses a map that can zoom in without end.
if (!Number.isFinite(map.getMaxZoom())) map.setMaxZoom(config.maxZoom);
basemapPane(map);
// The map's box changes size as the page lays out around it (the timeline under it, a phone
// turned): Leaflet only watches the window, so tell it, or it loads and draws the wrong area.
new ResizeObserver(() => map.invalidateSize({ pan: false })).observe(map.getContainer());
addPlaceLabels(map, config.urls.placeLabels);
// Leaflet's container takes focus (arrow keys pan, + and − zoom) but has no name of its own.
map.getContainer().setAttribute("role", "group");
map.getContainer().setAttribute("aria-label", ui.t("map_help"));
const address = createAddress({ store, map, config });
// The parts below call each other through these (each is made further down).
const select = (id, from) => selection.select(id, from);
const drawDensity = () => density.draw();

const eventLayer = createEventLayer({
  map, store, ui, maxZoom: config.maxZoom, onSelect: select,
  clusterPlugin: jsonData(document.querySelector(".map-pane"), "clusterPlugin"),
});
const timeline = createTimeline({
  container: byId("vis-timeline"),
  store,
  ui,
  onSelect: select,
  onWindowChosen: (start, end) => {
    store.view.start = isoDay(start);
    store.view.end = isoDay(new Date(end.getTime() - 1));
    controls.showWindow();
    drawDensity();
    address.write(false);
    loader.refreshMap();
    loader.windowChanged();
  },
  onWindowMoving: drawDensity,
});
const eventList = createEventList({ list: byId("timeline"), store, ui, onSelect: select });
const details = createDetails({ panel: byId("details"), store, ui, config, onClose: () => select(null, "details") });
const density = createDensityStrip({ box: byId("density"), store, ui, timelineWindow: timeline.window });
const loader = createLoader({
  store,
  map,
  config,
  ui,
  address,
  eventLayer,
  timeline,
  eventList,
  density,
  status: byId("status"),
  mapPane: document.querySelector(".map-pane"),
});
const selection = createSelection({ store, map, config, address, eventLayer, eventList, timeline, details });

const controls = createControls({
  store,
  ui,
  on: {
    filtersChanged: () => {
      address.write(true);
      loader.refreshMap();
      loader.refreshTimeline();
      loader.refreshDensity();
    },
    windowTyped: () => {
      timeline.showViewWindow();
      address.write(true);
      loader.refreshMap();
      loader.windowChanged();
      drawDensity();
    },
    allTime: () => {
      timeline.fit();
      address.write(true);
      loader.refreshMap();
      loader.windowChanged();
      drawDensity();
    },
    scopeChanged: () => {
      address.write(true);
      loader.refreshTimeline();
    },
  },
});

// The filters and legend: open beside the map on wide screens, folded under the timeline on a
// phone (one tap opens them), where the map and the timeline come first.
if (window.matchMedia("(min-width: 801px)").matches) byId("filter-panel").open = true;

createPlayer({
  button: byId("play"),
  progress: byId("play-progress"),
  store,
  ui,
  timeline,
  onStep: (start, end) => {
    store.view.start = isoDay(start);
    store.view.end = isoDay(new Date(end.getTime() - 1));
    controls.show();
    drawDensity();
    address.write(false);
    loader.refreshMap();
    loader.windowChanged();
  },
});
wireSharing({ address, config, ui });
wireDownloads({
  menu: document.getElementById("downloads"),
  store,
  bounds: () => {
    const b = map.getBounds();
    return { west: b.getWest(), south: b.getSouth(), east: b.getEast(), north: b.getNorth() };
  },
});

// "Find a place": the map flies there (the events in the new view follow from its moveend).
byId("place-search-form").addEventListener("submit", (e) => e.preventDefault());
createPlaceSearch({
  input: byId("place-search"),
  url: config.urls.places,
  lang: labelLanguage(),
  noMatchText: ui.t("no_place"),
  context: () => {
    const centre = map.getCenter().wrap();
    return { near: [centre.lng, centre.lat] };
  },
  onChoose: (place) => {
    const [lon, lat] = place.geometry.coordinates;
    map.flyTo([lat, lon], placeZoom(place.properties), { duration: 0.8 });
  },
});

const restorer = createRestorer({ store, map, ui, address, controls, loader, timeline, density, selection, notice: byId("notice") });
map.on("moveend", loader.mapMoved);
window.addEventListener("popstate", () => restorer.restore(false));

// Without tiles the boundaries are the base map; with tiles, they replace tiles that fail to load.
// Their detailed part waits until the address's view is restored (start(), below) and its events
// are painted: the region's files are the largest the page loads, and nothing waits for them.
let started;
const restored = new Promise((resolve) => {
  started = resolve;
});
const drawBoundaries = () => addBasemap(map, config.urls.basemap, (layer) => BOUNDARY_STYLES[layer.kind], { ready: restored.then(() => afterPaint()) });
if (config.tiles) whenTilesFail(map, drawBoundaries);
else drawBoundaries();

async function start() {
  // The region list is asked for beside the categories; without it the filter offers "All regions"
  // only (and still shows a link's region).
  const places = getJSON(config.urls.regions).catch((e) => console.error(e));
  try {
    const body = await getJSON(config.urls.categories);
    for (const c of body.categories) store.categories.set(c.slug, c);
  } catch (e) {
    console.error(e);
  }
  store.places = (await places)?.countries || [];
  controls.drawCategories();
  controls.drawRegions();
  try {
    await restorer.restore(true);
  } finally {
    started();
  }
}

start();
