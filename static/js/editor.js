/*
 * The event form's map (the editor's entry module): click to place a point, or draw a line or area
 * with Leaflet-Geoman. Whatever is on the map is written, as GeoJSON, into the form's hidden
 * geometry field; typed coordinates move the point. Source rows can be added and removed. The form
 * still works without this script (coordinates typed by hand).
 *
 * The map opens on the server's default view (shared/config.js) over the shared boundary base map.
 *
 * The place name box autocompletes from the offline gazetteer: choosing a place sets the point
 * there, names it, and flies the map to it. A point placed by clicking (or dragging) asks the
 * gazetteer for the nearest place and proposes its name, filling an empty box at once.
 */

import { addBasemap } from "./shared/basemap.js";
import { readPageConfig } from "./shared/config.js";
import { byId } from "./shared/dom.js";
import { addPlaceLabels, labelLanguage } from "./shared/place-labels.js";
import { createPlaceSearch, placeZoom } from "./shared/place-search.js";
import { translator } from "./shared/ui-text.js";

const BOUNDARY_STYLE = { color: "#6b7280", weight: 1, fill: false };
const POINT_ZOOM = 9; // an existing point is shown this close
const SHAPE_MAX_ZOOM = 11; // an existing line or area is fitted, at most this close
const TYPED_POINT_ZOOM = 8; // a typed point is shown at least this close

const config = readPageConfig();
const t = translator((config.page && config.page.text) || {});
const form = byId("event-form");
const geometryField = byId("geometry");
const lonField = byId("lon");
const latField = byId("lat");
const placeField = byId("place");
const proposal = byId("place-proposal");
const lang = labelLanguage();

const map = L.map("editor-map", { worldCopyJump: true }).setView(config.defaultView.centre, config.defaultView.zoom);
addBasemap(map, config.urls.basemap, () => BOUNDARY_STYLE);
addPlaceLabels(map, config.urls.placeLabels);
L.control.scale({ imperial: false }).addTo(map); // kilometres only, as on every map

// The editing state of the form: the one geometry of this event, as a Leaflet layer (or none).
const editing = { shape: null };

function write() {
  if (!editing.shape) {
    geometryField.value = "";
    return;
  }
  const geometry = editing.shape.toGeoJSON().geometry;
  geometryField.value = JSON.stringify(geometry);
  if (geometry.type === "Point") {
    lonField.value = geometry.coordinates[0].toFixed(5);
    latField.value = geometry.coordinates[1].toFixed(5);
  } else {
    lonField.value = "";
    latField.value = "";
  }
}

function setShape(layer) {
  if (editing.shape && editing.shape !== layer) map.removeLayer(editing.shape);
  editing.shape = layer;
  layer.on("pm:edit pm:dragend", write);
  write();
}

function placePoint(latlng) {
  setShape(L.marker(latlng, { draggable: true }).addTo(map));
  editing.shape.on("dragend", () => {
    write();
    proposeName(editing.shape.getLatLng());
  });
}

// The name last put in the box by the gazetteer (not typed): a new proposal may replace it.
let proposedName = null;
let proposing = 0;

/** Ask for the nearest named place to a point the editor placed, and offer its name. */
async function proposeName(latlng) {
  const mine = ++proposing;
  const point = latlng.wrap();
  const params = new URLSearchParams({ lon: point.lng.toFixed(5), lat: point.lat.toFixed(5), lang });
  let body;
  try {
    const response = await fetch(`${config.urls.placeReverse}?${params}`, { headers: { Accept: "application/geo+json" } });
    if (!response.ok) return;
    body = await response.json();
  } catch (e) {
    console.warn("reverse geocoding failed", e);
    return;
  }
  if (mine !== proposing) return;
  const nearest = body.features && body.features[0];
  proposal.replaceChildren();
  if (!nearest) return;
  const region = body.region && body.region.label;
  const name = [nearest.properties.label, region].filter(Boolean).join(", ");
  const km = nearest.properties.distance_km;
  const text = document.createElement("span");
  text.textContent = t("nearest", { name, distance: km < 1 ? t("under_one") : Math.round(km) });
  proposal.append(text);
  if (!placeField.value.trim() || placeField.value === proposedName) {
    placeField.value = name;
    proposedName = name;
    return;
  }
  if (placeField.value === name) return;
  const use = document.createElement("button");
  use.type = "button";
  use.textContent = t("use_name");
  use.addEventListener("click", () => {
    placeField.value = name;
    proposedName = name;
    proposal.replaceChildren(text);
    placeField.focus();
  });
  proposal.append(use);
}

function clearShape() {
  if (editing.shape) map.removeLayer(editing.shape);
  editing.shape = null;
  geometryField.value = "";
}

// What the form already holds (an existing event, or a form shown again after an error).
try {
  if (geometryField.value.trim()) {
    const existing = L.geoJSON(JSON.parse(geometryField.value), { pointToLayer: (f, ll) => L.marker(ll, { draggable: true }) });
    const layer = existing.getLayers()[0];
    if (layer) {
      layer.addTo(map);
      editing.shape = layer;
      layer.on("pm:edit pm:dragend dragend", write);
      if (layer.getLatLng) map.setView(layer.getLatLng(), POINT_ZOOM);
      else map.fitBounds(layer.getBounds(), { maxZoom: SHAPE_MAX_ZOOM });
    }
  }
} catch (e) {
  geometryField.value = "";
}

if (document.documentElement.lang.startsWith("de")) map.pm.setLang("de");
map.pm.addControls({
  position: "topleft", drawMarker: false, drawCircleMarker: false, drawCircle: false, drawRectangle: false, drawText: false,
  cutPolygon: false, rotateMode: false, drawPolyline: true, drawPolygon: true, editMode: true, dragMode: true, removalMode: true,
});
// Geoman names its tool buttons only in the title of the box around them; screen readers read
// the button itself, so it gets the same (Geoman-translated) name.
function nameToolButtons() {
  for (const box of map.getContainer().querySelectorAll(".leaflet-pm-toolbar .button-container[title]")) {
    const button = box.querySelector(".leaflet-buttons-control-button");
    if (button) button.setAttribute("aria-label", box.getAttribute("title"));
  }
}
nameToolButtons();
map.on("pm:langchange", nameToolButtons);
map.on("pm:create", (e) => setShape(e.layer));
map.on("pm:remove", () => {
  editing.shape = null;
  write();
});
map.on("click", (e) => {
  if (map.pm.globalDrawModeEnabled() || map.pm.globalEditModeEnabled() || map.pm.globalRemovalModeEnabled()) return;
  placePoint(e.latlng);
  proposeName(e.latlng);
});

// The place box: a chosen place sets the point and the name, and the map flies there.
createPlaceSearch({
  input: placeField,
  url: config.urls.places,
  lang,
  noMatchText: t("no_place"),
  context: () => {
    const centre = map.getCenter().wrap();
    return { near: [centre.lng, centre.lat] };
  },
  onChoose: (place) => {
    const [lon, lat] = place.geometry.coordinates;
    const latlng = L.latLng(lat, lon);
    placePoint(latlng);
    proposedName = null;
    proposal.replaceChildren();
    map.flyTo(latlng, Math.max(placeZoom(place.properties), TYPED_POINT_ZOOM), { duration: 0.8 });
  },
});

// Typed coordinates: a point there (the hidden field is cleared so the typed values win).
for (const field of [lonField, latField]) {
  field.addEventListener("change", () => {
    const lon = parseFloat(lonField.value);
    const lat = parseFloat(latField.value);
    if (Number.isFinite(lon) && Number.isFinite(lat) && Math.abs(lon) <= 180 && Math.abs(lat) <= 90) {
      placePoint(L.latLng(lat, lon));
      map.setView([lat, lon], Math.max(map.getZoom(), TYPED_POINT_ZOOM));
    } else {
      clearShape();
    }
  });
}

// Source rows.
const sources = byId("sources");
byId("add-source").addEventListener("click", () => {
  const row = sources.querySelector(".source-row").cloneNode(true);
  for (const input of row.querySelectorAll("input")) input.value = "";
  for (const error of row.querySelectorAll(".field-error")) error.remove();
  sources.append(row);
  row.querySelector("input").focus();
});
sources.addEventListener("click", (e) => {
  if (!e.target.classList.contains("remove-source")) return;
  const rows = sources.querySelectorAll(".source-row");
  const row = e.target.closest(".source-row");
  if (rows.length > 1) row.remove();
  else for (const input of row.querySelectorAll("input")) input.value = "";
});

form.addEventListener("submit", write);
