/*
 * The base map every one of our maps can draw without the internet: Natural Earth's countries for
 * the world and, where the story is, finer borders and admin-1 regions, built by
 * tools/build_assets.mjs into static/basemap/. Which files there are, in
 * which order they are drawn (regions under countries), the pane they go in, and the fallback from
 * tiles that fail to load live here once; each page only says how its lines look.
 *
 * Uses Leaflet's global L (a classic vendor script), only when a function is called.
 */

import { getJSON } from "./http.js";

/**
 * The boundary layers, bottom first. The world file (Natural Earth 1:110m borders and coasts) is
 * small and always drawn; the `detail` files (the story's region: 1:10m borders, admin-1 regions)
 * are fetched only when a map looks at that region closely enough to tell them apart, and then
 * replace the world file's coarse lines there (the world file's "region" part, whose detail_bbox
 * says where the detail is). tools/build_assets.mjs writes them all.
 */
export const BASEMAP_LAYERS = Object.freeze([
  Object.freeze({ file: "admin1.geojson", kind: "regions", detail: true }),
  Object.freeze({ file: "region-countries.geojson", kind: "countries", detail: true }),
  Object.freeze({ file: "countries.geojson", kind: "countries", detail: false }),
]);

/** From this zoom on, a map that shows the story's region draws its detailed boundaries. */
export const DETAIL_ZOOM = 5;

const PANE = "basemap";
const PANE_Z_INDEX = 250; // above tiles (200), under the events' overlays (400)
const URLS_BLOCK = "basemap-urls"; // pages/base.html: each file's fingerprinted URL

/** The map's pane for boundaries (made the first time it is asked for). */
export function basemapPane(map) {
  if (!map.getPane(PANE)) map.createPane(PANE).style.zIndex = PANE_Z_INDEX;
  return PANE;
}

/** Where a basemap file is: its fingerprinted URL from the page when it has one (cached for a
 * year by the browser), else the folder URL and the name. */
export function basemapUrl(baseUrl, file, doc = globalThis.document) {
  const block = doc && doc.getElementById(URLS_BLOCK);
  if (block) {
    try {
      const urls = JSON.parse(block.textContent);
      if (typeof urls[file] === "string") return urls[file];
    } catch (e) {
      console.warn("unreadable basemap URLs", e);
    }
  }
  return baseUrl + file;
}

/** Whether a [west, south, east, north] box and a map view's bounds overlap. */
export function viewNeedsDetail(zoom, bounds, box) {
  if (!box || zoom < DETAIL_ZOOM) return false;
  const [w, s, e, n] = box;
  return bounds.west <= e && bounds.east >= w && bounds.south <= n && bounds.north >= s;
}

/**
 * Draw the boundaries on a map: `baseUrl` is where the files are (the page config's
 * urls.basemap), `styleOf(layer)` the Leaflet path style of a layer of BASEMAP_LAYERS. A file
 * that cannot be had is left out, with a warning. `ready` (a promise) holds the detail back until
 * the map is where the page means it to be (a link's view), so a page opened far from the story
 * never fetches it for the default view it starts in. Resolves once the world file is drawn.
 */
export async function addBasemap(map, baseUrl, styleOf, { ready = Promise.resolve() } = {}) {
  const pane = basemapPane(map);
  const fetchLayer = (layer) =>
    getJSON(basemapUrl(baseUrl, layer.file)).catch((e) => {
      console.warn("basemap layer unavailable", layer.file, e);
      return null;
    });
  const draw = (layer, data) => L.geoJSON(data, { pane, interactive: false, style: () => styleOf(layer) });
  const worldLayer = BASEMAP_LAYERS.find((layer) => !layer.detail);
  const world = await fetchLayer(worldLayer);
  if (!world) return;
  const regionPart = world.features.find((f) => f.properties && f.properties.part === "region");
  const box = regionPart && regionPart.properties.detail_bbox;
  const worldOutside = draw(worldLayer, { type: "FeatureCollection", features: world.features.filter((f) => f !== regionPart) }).addTo(map);
  const worldInside = regionPart ? draw(worldLayer, regionPart).addTo(map) : null;
  let detail = null; // a promise of the detailed layers, once asked for
  let showing = false;

  async function update() {
    const b = map.getBounds();
    const wanted = viewNeedsDetail(map.getZoom(), { west: b.getWest(), south: b.getSouth(), east: b.getEast(), north: b.getNorth() }, box);
    if (wanted === showing) return;
    showing = wanted;
    if (wanted && !detail) {
      const layers = BASEMAP_LAYERS.filter((layer) => layer.detail);
      detail = Promise.all(layers.map(fetchLayer)).then((answers) => answers.map((data, i) => data && draw(layers[i], data)).filter(Boolean));
    }
    const drawn = detail ? await detail : [];
    if (showing !== wanted) return; // the view changed again while the files came
    for (const layer of drawn) {
      if (wanted) layer.addTo(map);
      else layer.remove();
    }
    if (worldInside && drawn.length) {
      if (wanted) worldInside.remove();
      else worldInside.addTo(map);
    }
    worldOutside.bringToFront(); // countries over regions, as everywhere else
  }
  await ready;
  map.on("moveend zoomend", update);
  await update();
}

/**
 * Call `fallBack` once, the first time one of the map's tiles fails to load, including failures
 * that happened before this ran (a broken image has no width).
 */
export function whenTilesFail(map, fallBack) {
  let fallen = false;
  const once = () => {
    if (fallen) return;
    fallen = true;
    fallBack();
  };
  map.eachLayer((layer) => {
    if (layer instanceof L.TileLayer) layer.on("tileerror", once);
  });
  const broken = [...map.getContainer().querySelectorAll("img.leaflet-tile")].some((img) => img.complete && img.naturalWidth === 0);
  if (broken) once();
}
