/*
 * The base map every one of our maps can draw without the internet: Natural Earth's admin-1 regions
 * and countries, built by tools/build_assets.mjs into static/basemap/. Which files there are, in
 * which order they are drawn (regions under countries), the pane they go in, and the fallback from
 * tiles that fail to load live here once; each page only says how its lines look.
 *
 * Uses Leaflet's global L (a classic vendor script), only when a function is called.
 */

import { getJSON } from "./http.js";

/** The boundary layers, bottom first. */
export const BASEMAP_LAYERS = Object.freeze([
  Object.freeze({ file: "admin1.geojson", kind: "regions" }),
  Object.freeze({ file: "countries.geojson", kind: "countries" }),
]);

const PANE = "basemap";
const PANE_Z_INDEX = 250; // above tiles (200), under the events' overlays (400)

/** The map's pane for boundaries (made the first time it is asked for). */
export function basemapPane(map) {
  if (!map.getPane(PANE)) map.createPane(PANE).style.zIndex = PANE_Z_INDEX;
  return PANE;
}

/**
 * Draw the boundaries on a map: `baseUrl` is where the files are (the page config's
 * urls.basemap), `styleOf(layer)` the Leaflet path style of a layer of BASEMAP_LAYERS. The files
 * are fetched together and drawn in order; one that cannot be had is left out, with a warning.
 */
export async function addBasemap(map, baseUrl, styleOf) {
  const pane = basemapPane(map);
  const answers = BASEMAP_LAYERS.map((layer) =>
    getJSON(baseUrl + layer.file).catch((e) => {
      console.warn("basemap layer unavailable", layer.file, e);
      return null;
    }),
  );
  for (const [i, layer] of BASEMAP_LAYERS.entries()) {
    const data = await answers[i];
    if (data) L.geoJSON(data, { pane, interactive: false, style: () => styleOf(layer) }).addTo(map);
  }
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
