/*
 * The custom place form's map (timeline/templates/editor/places_form.html): clicking the map sets
 * the place's point and writes it into the latitude and longitude fields; typed coordinates move
 * the marker there, and dragging the marker moves the point. The form works without this script
 * (coordinates typed by hand).
 *
 * The map is the editor's: the shared boundary base map and the gazetteer's place names, opening
 * on the server's default view, or on the place's point when it has one.
 */

import { addBasemap } from "../shared/basemap.js";
import { readPageConfig } from "../shared/config.js";
import { byId } from "../shared/dom.js";
import { addPlaceLabels } from "../shared/place-labels.js";

const BOUNDARY_STYLE = { color: "#6b7280", weight: 1, fill: false };
const POINT_ZOOM = 12; // a place's point is shown this close: villages are labelled from here

const config = readPageConfig();
const lonField = byId("lon");
const latField = byId("lat");

/** The point the fields hold, or null when they do not hold one in range. */
function typedPoint() {
  const lon = parseFloat(lonField.value.replace(",", "."));
  const lat = parseFloat(latField.value.replace(",", "."));
  if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon) > 180 || Math.abs(lat) > 90) return null;
  return L.latLng(lat, lon);
}

const map = L.map("place-map", { worldCopyJump: true });
const start = typedPoint();
if (start) map.setView(start, POINT_ZOOM);
else map.setView(config.defaultView.centre, config.defaultView.zoom);
addBasemap(map, config.urls.basemap, () => BOUNDARY_STYLE);
addPlaceLabels(map, config.urls.placeLabels);
L.control.scale({ imperial: false }).addTo(map);

let marker = null;

function showPoint(latlng) {
  if (!marker) {
    marker = L.marker(latlng, { draggable: true, keyboard: false }).addTo(map);
    marker.on("dragend", () => writePoint(marker.getLatLng()));
  } else {
    marker.setLatLng(latlng);
  }
}

function writePoint(latlng) {
  const point = latlng.wrap();
  lonField.value = point.lng.toFixed(5);
  latField.value = point.lat.toFixed(5);
}

if (start) showPoint(start);

map.on("click", (e) => {
  showPoint(e.latlng);
  writePoint(e.latlng);
});

for (const field of [lonField, latField]) {
  field.addEventListener("change", () => {
    const point = typedPoint();
    if (!point) return;
    showPoint(point);
    map.setView(point, Math.max(map.getZoom(), POINT_ZOOM - 3));
  });
}
