/*
 * The history page's entry module: draw each geometry change on a small map, before (dashed grey)
 * and after (solid red). The geometries come from the page's data attributes; one that is missing
 * or cannot be read is left off its map. Each map has the boundaries and place names under them.
 */

import { addBasemap } from "./shared/basemap.js";
import { readPageConfig } from "./shared/config.js";
import { jsonData } from "./shared/dom.js";
import { addPlaceLabels } from "./shared/place-labels.js";

const BEFORE = { color: "#6b7280", dashArray: "4 4", weight: 2, className: "geometry-old" };
const AFTER = { color: "#b91c1c", weight: 3, className: "geometry-new" };
const POINT_RADIUS = 6;
const BOUNDARY_STYLE = { color: "#6b7280", weight: 1, fill: false };
const config = readPageConfig();

for (const box of document.querySelectorAll(".diff-map")) {
  const map = L.map(box, { zoomControl: false });
  addBasemap(map, config.urls.basemap, () => BOUNDARY_STYLE);
  addPlaceLabels(map, config.urls.placeLabels);
  const layers = [];
  for (const [geometry, style] of [[jsonData(box, "old"), BEFORE], [jsonData(box, "new"), AFTER]]) {
    if (!geometry) continue;
    const pointToLayer = (f, ll) => L.circleMarker(ll, { ...style, radius: POINT_RADIUS });
    layers.push(L.geoJSON(geometry, { style, pointToLayer }).addTo(map));
  }
  const bounds = layers.reduce((b, l) => b.extend(l.getBounds()), L.latLngBounds([]));
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 12 });
}
