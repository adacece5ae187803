/*
 * The event page's entry module: its small Folium-built map gets the shared boundary base map and
 * the gazetteer's place names, so a reader sees where the event happened (the geometry itself is
 * drawn by Folium's inline script; it holds only coordinates).
 */

import { addBasemap } from "./shared/basemap.js";
import { readPageConfig } from "./shared/config.js";
import { addPlaceLabels } from "./shared/place-labels.js";

const BOUNDARY_STYLES = {
  regions: { color: "#8a8f98", weight: 0.7, fill: false },
  countries: { color: "#4b5563", weight: 1.4, fill: false },
};

const config = readPageConfig();
const map = window[config.page.mapVariable];
if (map) {
  addBasemap(map, config.urls.basemap, (layer) => BOUNDARY_STYLES[layer.kind]);
  addPlaceLabels(map, config.urls.placeLabels);
}
