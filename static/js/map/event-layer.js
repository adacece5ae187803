/*
 * The events on the Leaflet map: each event drawn in its category's colour (areas under lines under
 * points, overlapping points grouped when there are many), or, when the view holds too many, the
 * server's clusters as counts to zoom into. Also the highlight of the selected event.
 *
 * Tooltips and cluster labels are DOM nodes built from text, never HTML strings.
 */

import { el } from "../shared/dom.js";
import { categoryOf } from "./store.js";

const MARKER_CLUSTER_FROM = 200; // this many points or more: group overlapping ones on the client
const CLUSTER_ZOOM_STEP = 3; // a click on a cluster zooms in at most this far

/** Keep a drawn event out of the tab order and the accessibility tree: Leaflet's shapes cannot be
 * named or operated from the keyboard, and the event list (and timeline) offer the same events as
 * named buttons, so a keyboard or screen-reader user meets each event once, where it works. */
function keyboardSkips(layer) {
  const node = layer.getElement && layer.getElement();
  if (!node) return;
  node.setAttribute("tabindex", "-1");
  node.setAttribute("aria-hidden", "true");
  node.setAttribute("focusable", "false");
}

export function createEventLayer({ map, store, ui, maxZoom, onSelect }) {
  const group = L.layerGroup().addTo(map);
  const layers = new Map(); // event id -> its Leaflet layer, for what is drawn now

  function baseStyle(feature) {
    const colour = categoryOf(store, feature.properties.category).colour;
    const type = feature.geometry.type;
    if (type.endsWith("Point")) return { weight: 2, color: "#ffffff", fillColor: colour, fillOpacity: 0.9 };
    return { color: colour, weight: 3, fillColor: colour, fillOpacity: 0.2, dashArray: type.endsWith("Polygon") ? "6 4" : null };
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

  /** Draw these events (slim features from /api/events?view=summary), replacing what was drawn. */
  function drawFeatures(features) {
    group.clearLayers();
    layers.clear();
    const rank = (f) => (f.geometry.type.endsWith("Polygon") ? 0 : f.geometry.type.endsWith("LineString") ? 1 : 2);
    const ordered = [...features].sort((a, b) => rank(a) - rank(b));
    const points = ordered.filter((f) => f.geometry.type === "Point").length;
    const pointGroup = points >= MARKER_CLUSTER_FROM && L.markerClusterGroup ? L.markerClusterGroup({ maxClusterRadius: 40 }) : null;
    L.geoJSON(ordered, {
      className: "event-feature",
      pointToLayer: (feature, latlng) => L.circleMarker(latlng, { radius: 7, className: "event-feature" }),
      style: baseStyle,
      onEachFeature: (feature, layer) => {
        layers.set(feature.id, layer);
        layer.bindTooltip(el("span", { lang: feature.properties.lang }, feature.properties.title));
        layer.on("click", () => onSelect(feature.id, "map"));
        layer.on("add", () => keyboardSkips(layer));
        (pointGroup && feature.geometry.type === "Point" ? pointGroup : group).addLayer(layer);
      },
    });
    if (pointGroup) group.addLayer(pointGroup);
    highlight(store.view.sel, true);
  }

  /** Draw the server's clusters (/api/clusters), replacing what was drawn. */
  function drawClusters(collection) {
    group.clearLayers();
    layers.clear();
    const largest = Math.max(1, ...collection.features.map((f) => f.properties.count));
    for (const cell of collection.features) {
      const count = cell.properties.count;
      const [lon, lat] = cell.geometry.coordinates;
      const size = 26 + Math.round(24 * Math.sqrt(count / largest));
      const icon = L.divIcon({ className: "cluster", iconSize: [size, size], html: "" });
      const marker = L.marker([lat, lon], { icon, keyboard: true, title: ui.t("zoom_in", { count: ui.number(count) }) });
      marker.on("add", () => marker.getElement().replaceChildren(el("span", null, ui.number(count))));
      marker.on("click", () => {
        const [w, s, e, n] = cell.properties.bbox;
        map.fitBounds([[s, w], [n, e]], { padding: [20, 20], maxZoom: Math.min(map.getZoom() + CLUSTER_ZOOM_STEP, maxZoom) });
      });
      group.addLayer(marker);
    }
  }

  return { drawFeatures, drawClusters, highlight, layerOf: (id) => layers.get(id) };
}
