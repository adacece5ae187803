/*
 * The events on the Leaflet map: each event drawn in its category's colour (areas under lines under
 * points, overlapping points grouped when there are many), or, when the view holds too many, the
 * server's clusters as counts to zoom into. Also the highlight of the selected event.
 *
 * Tooltips and cluster labels are DOM nodes built from text, never HTML strings.
 */

import { el, loadScript, loadStylesheet } from "../shared/dom.js";
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

const SPREAD_RADIUS_PX = 26; // how far from their shared point coincident events are fanned out
const SPREAD_STEP_PX = 5; // and further for each event beyond six

/** Where the n events of one position go when spread: a circle around it, first at the top. */
export function spreadOffsets(n) {
  const radius = SPREAD_RADIUS_PX + Math.max(0, n - 6) * SPREAD_STEP_PX;
  return Array.from({ length: n }, (_, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / n;
    return [Math.round(radius * Math.cos(angle)), Math.round(radius * Math.sin(angle))];
  });
}

/** Events at one position, by the position's coordinates (points only). */
function stacksOf(features) {
  const stacks = new Map();
  for (const f of features) {
    if (f.geometry.type !== "Point") continue;
    const key = f.geometry.coordinates.map((v) => v.toFixed(6)).join(",");
    if (!stacks.has(key)) stacks.set(key, []);
    stacks.get(key).push(f.id);
  }
  return stacks;
}

export function createEventLayer({ map, store, ui, maxZoom, onSelect, clusterPlugin = null }) {
  const group = L.layerGroup().addTo(map);
  const layers = new Map(); // event id -> its Leaflet layer, for what is drawn now
  // Spiderfy: events drawn at one position are fanned out around it when one of them is clicked
  // (that one is selected too), so each can be reached; they close up when the map is clicked
  // elsewhere. The fanned-out position survives a redraw of the same events and follows zooms.
  const legs = L.layerGroup().addTo(map);
  let stacks = new Map(); // position key -> ids of the events drawn there
  let spread = null; // the key of the fanned-out position

  function closeUp() {
    legs.clearLayers();
    for (const ids of stacks.values()) {
      for (const id of ids) {
        const layer = layers.get(id);
        if (layer && layer.home) layer.setLatLng(layer.home);
      }
    }
    spread = null;
  }

  function fanOut(key) {
    const ids = (stacks.get(key) || []).filter((id) => layers.has(id));
    closeUp();
    if (ids.length < 2) return;
    spread = key;
    const home = layers.get(ids[0]).home;
    const centre = map.latLngToLayerPoint(home);
    spreadOffsets(ids.length).forEach(([dx, dy], i) => {
      const layer = layers.get(ids[i]);
      const to = map.layerPointToLatLng(centre.add([dx, dy]));
      layer.setLatLng(to);
      legs.addLayer(L.polyline([home, to], { color: "#52606d", weight: 1, interactive: false }));
    });
    legs.addLayer(L.circleMarker(home, { radius: 3, color: "#52606d", weight: 1, fillOpacity: 1, interactive: false }));
  }

  map.on("click", () => {
    if (spread) closeUp();
  });
  map.on("zoomend", () => {
    if (spread) fanOut(spread);
  });

  function baseStyle(feature) {
    const colour = categoryOf(store, feature.properties.category).colour;
    const type = feature.geometry.type;
    if (type.endsWith("Point")) return { weight: 2, color: "#ffffff", fillColor: colour, fillOpacity: 0.9 };
    return { color: colour, weight: 3, fillColor: colour, fillOpacity: 0.2, dashArray: type.endsWith("Polygon") ? "6 4" : null };
  }

  /** Mark the selected event (or unmark it). ``away`` ("left", "top") opens its title on the side
   * away from the details panel, which covers the map's right side or bottom; hovering keeps
   * Leaflet's own choice. */
  let selectedAway = null;
  function highlight(id, on, away = null) {
    const layer = id && layers.get(id);
    if (!layer) return;
    const tooltip = layer.getTooltip && layer.getTooltip();
    if (on) {
      selectedAway = away;
      if (layer.setStyle) layer.setStyle({ weight: 5, color: "#111111" });
      if (layer.bringToFront) layer.bringToFront();
      if (tooltip) tooltip.options.direction = away || "auto";
      if (away && !layer.getLatLng && layer.getBounds) {
        // A line or area: its title at its edge on that side, rather than over the shape's middle.
        const b = layer.getBounds();
        layer.openTooltip(away === "left" ? L.latLng(b.getCenter().lat, b.getWest()) : L.latLng(b.getNorth(), b.getCenter().lng));
      } else layer.openTooltip();
    } else {
      if (tooltip) tooltip.options.direction = "auto";
      layer.closeTooltip();
      if (layer.setStyle) layer.setStyle(baseStyle(layer.feature));
    }
  }

  /** Draw these events (slim features from /api/events?view=summary), replacing what was drawn. */
  function drawFeatures(features) {
    const wasSpread = spread;
    closeUp();
    group.clearLayers();
    layers.clear();
    stacks = stacksOf(features);
    const keyOf = new Map();
    for (const [key, ids] of stacks) for (const id of ids) keyOf.set(id, key);
    const rank = (f) => (f.geometry.type.endsWith("Polygon") ? 0 : f.geometry.type.endsWith("LineString") ? 1 : 2);
    const ordered = [...features].sort((a, b) => rank(a) - rank(b));
    const points = ordered.filter((f) => f.geometry.type === "Point").length;
    const pointGroup = points >= MARKER_CLUSTER_FROM && L.markerClusterGroup ? L.markerClusterGroup({ maxClusterRadius: 40 }) : null;
    L.geoJSON(ordered, {
      className: "event-feature",
      pointToLayer: (feature, latlng) => {
        const marker = L.circleMarker(latlng, { radius: 7, className: "event-feature", bubblingMouseEvents: false });
        marker.home = latlng;
        return marker;
      },
      style: baseStyle,
      onEachFeature: (feature, layer) => {
        layers.set(feature.id, layer);
        layer.bindTooltip(el("span", { lang: feature.properties.lang }, feature.properties.title));
        layer.on("click", () => {
          const key = keyOf.get(feature.id);
          if (key && stacks.get(key).length > 1 && spread !== key) fanOut(key);
          onSelect(feature.id, "map");
        });
        layer.on("add", () => keyboardSkips(layer));
        (pointGroup && feature.geometry.type === "Point" ? pointGroup : group).addLayer(layer);
      },
    });
    if (pointGroup) group.addLayer(pointGroup);
    if (wasSpread && stacks.has(wasSpread) && !pointGroup) fanOut(wasSpread);
    highlight(store.view.sel, true, selectedAway);
  }

  /** Draw the server's clusters (/api/clusters), replacing what was drawn. */
  function drawClusters(collection) {
    closeUp();
    stacks = new Map();
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

  /** Resolves once drawFeatures can draw these as it means to: many points are grouped by
   * Leaflet.markercluster, which is loaded only for them (`clusterPlugin`: its script and
   * stylesheets), so a small story's page never waits for it. */
  function ready(features) {
    const points = features.filter((f) => f.geometry.type === "Point").length;
    if (points < MARKER_CLUSTER_FROM || L.markerClusterGroup || !clusterPlugin) return Promise.resolve();
    pluginLoading ||= Promise.all([...clusterPlugin.styles.map(loadStylesheet), loadScript(clusterPlugin.script)]);
    return pluginLoading;
  }
  let pluginLoading = null;

  return { ready, drawFeatures, drawClusters, highlight, layerOf: (id) => layers.get(id) };
}
