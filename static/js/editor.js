/*
 * The event form's map: click to place a point, or draw a line or area with Leaflet-Geoman.
 * Whatever is on the map is written, as GeoJSON, into the form's hidden geometry field; typed
 * coordinates move the point. Source rows can be added and removed. The form still works without
 * this script (coordinates typed by hand).
 */
(function () {
  "use strict";

  const script = document.getElementById("editor-script");
  const form = document.getElementById("event-form");
  const geometryField = document.getElementById("geometry");
  const lonField = document.getElementById("lon");
  const latField = document.getElementById("lat");

  const map = L.map("editor-map", { worldCopyJump: true }).setView([51.4, 35.4], 7);
  map.createPane("basemap").style.zIndex = 250;
  for (const name of ["admin1.geojson", "countries.geojson"]) {
    fetch(script.dataset.basemap + name)
      .then((r) => (r.ok ? r.json() : null))
      .then((data) => data && L.geoJSON(data, { pane: "basemap", interactive: false, style: { color: "#6b7280", weight: 1, fill: false } }).addTo(map));
  }

  let shape = null; // the one geometry of this event

  function write() {
    if (!shape) {
      geometryField.value = "";
      return;
    }
    const geometry = shape.toGeoJSON().geometry;
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
    if (shape && shape !== layer) map.removeLayer(shape);
    shape = layer;
    shape.on("pm:edit pm:dragend", write);
    write();
  }

  function placePoint(latlng) {
    setShape(L.marker(latlng, { draggable: true }).addTo(map));
    shape.on("dragend", write);
  }

  // What the form already holds (an existing event, or a form shown again after an error).
  try {
    if (geometryField.value.trim()) {
      const existing = L.geoJSON(JSON.parse(geometryField.value), { pointToLayer: (f, ll) => L.marker(ll, { draggable: true }) });
      const layer = existing.getLayers()[0];
      if (layer) {
        layer.addTo(map);
        shape = layer;
        shape.on("pm:edit pm:dragend dragend", write);
        if (layer.getLatLng) map.setView(layer.getLatLng(), 9);
        else map.fitBounds(layer.getBounds(), { maxZoom: 11 });
      }
    }
  } catch (e) {
    geometryField.value = "";
  }

  map.pm.addControls({
    position: "topleft", drawMarker: false, drawCircleMarker: false, drawCircle: false, drawRectangle: false, drawText: false,
    cutPolygon: false, rotateMode: false, drawPolyline: true, drawPolygon: true, editMode: true, dragMode: true, removalMode: true,
  });
  map.on("pm:create", (e) => setShape(e.layer));
  map.on("pm:remove", () => {
    shape = null;
    write();
  });
  map.on("click", (e) => {
    if (map.pm.globalDrawModeEnabled() || map.pm.globalEditModeEnabled() || map.pm.globalRemovalModeEnabled()) return;
    placePoint(e.latlng);
  });

  // Typed coordinates: a point there (the hidden field is cleared so the typed values win).
  for (const field of [lonField, latField]) {
    field.addEventListener("change", () => {
      const lon = parseFloat(lonField.value);
      const lat = parseFloat(latField.value);
      if (Number.isFinite(lon) && Number.isFinite(lat) && Math.abs(lon) <= 180 && Math.abs(lat) <= 90) {
        placePoint(L.latLng(lat, lon));
        map.setView([lat, lon], Math.max(map.getZoom(), 8));
      } else {
        if (shape) map.removeLayer(shape);
        shape = null;
        geometryField.value = "";
      }
    });
  }

  // Source rows.
  const sources = document.getElementById("sources");
  document.getElementById("add-source").addEventListener("click", () => {
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
})();
