/*
 * Selecting an event, from wherever it was picked (the map, the list, the timeline, the details
 * panel's close button, or a restored address): every part shows the same selection, the whole
 * event is fetched once and shown in the details panel, and the map brings it into view.
 *
 * `from` says where the choice came from: "map", "list", "timeline", "details", or "restore" and
 * "restore-view" for an address being applied ("restore-view": the address also set the map view,
 * which then stays as it is). A restored selection is not written back to the address.
 */

import { eventUrl } from "../shared/config.js";
import { revealInside } from "../shared/dom.js";
import { getJSON } from "../shared/http.js";

const POINT_ZOOM = 7; // a selected point out of view is shown at least this close
const AREA_MAX_ZOOM = 10; // a selected line or area out of view is fitted, at most this close

export function createSelection({ store, map, config, address, eventLayer, eventList, timeline, details }) {
  const whole = new Map(); // event id -> the whole feature, fetched when it is first opened

  async function select(id, from) {
    const view = store.view;
    const restoring = String(from).startsWith("restore");
    if (view.sel && view.sel !== id) {
      eventLayer.highlight(view.sel, false);
      eventList.mark(view.sel, false);
    }
    view.sel = id;
    if (!restoring) address.write(true);
    if (!id) {
      timeline.clearSelection();
      details.show(null, { focus: from === "details" });
      return;
    }
    const row = eventList.mark(id, true);
    if (row && from !== "list" && !restoring) revealInside(row);
    // The timeline marks it without moving its window: the window is the view's time filter, and
    // moving it for a selection would show another period than the list and the count.
    if (timeline.has(id)) timeline.select(id, false);
    let feature = whole.get(id);
    if (!feature) {
      try {
        feature = await getJSON(eventUrl(config, id));
        whole.set(id, feature);
      } catch (e) {
        view.sel = null;
        address.write(false);
        return;
      }
    }
    if (store.view.sel !== id) return; // chosen again meanwhile
    details.show(feature, { focus: !restoring });
    const layer = eventLayer.layerOf(id);
    const padding = uncoveredPadding();
    const [right, bottom] = padding.paddingBottomRight.map((p) => p - padding.paddingTopLeft[0]);
    eventLayer.highlight(id, true, right > 0 ? "left" : bottom > 0 ? "top" : null);
    if (from === "restore-view") return; // the link's map view stays as it was
    const bounds = layer && layer.getBounds ? layer.getBounds() : L.geoJSON(feature).getBounds();
    const visible = visibleArea(padding);
    if (from !== "map" && !visible.intersects(bounds)) {
      if (bounds.getNorthEast().equals(bounds.getSouthWest())) {
        map.setView(bounds.getCenter(), Math.max(map.getZoom(), POINT_ZOOM), { animate: false });
        map.panInside(bounds.getCenter(), { ...padding, animate: false });
      } else map.fitBounds(bounds, { maxZoom: AREA_MAX_ZOOM, ...padding });
    } else if (from !== "map" && !visible.contains(bounds)) {
      map.fitBounds(bounds, { maxZoom: map.getZoom(), ...padding }); // in part out of sight: pan (or zoom out), never in
    } else if (!visible.contains(bounds.getCenter())) {
      map.panInside(bounds.getCenter(), padding); // what was clicked slid under the details: bring it out
    }
  }

  /** Map padding (pixels) that leaves out what the details panel covers: a drawer over the map's
   * right side on wide screens, a sheet over its bottom on phones. */
  function uncoveredPadding() {
    const margin = 20;
    const panel = details.element;
    const box = map.getContainer().getBoundingClientRect();
    const sheet = panel.getBoundingClientRect();
    let right = 0;
    let bottom = 0;
    if (!panel.hidden && sheet.width && sheet.height) {
      if (sheet.top > box.top + box.height / 3) bottom = Math.max(0, Math.min(box.bottom, window.innerHeight) - sheet.top);
      else if (sheet.left > box.left + box.width / 3) right = Math.max(0, box.right - sheet.left);
    }
    return { paddingTopLeft: [margin, margin], paddingBottomRight: [margin + right, margin + bottom] };
  }

  /** The part of the map a visitor can see, inside the padding. */
  function visibleArea({ paddingTopLeft, paddingBottomRight }) {
    const size = map.getSize();
    const topLeft = map.containerPointToLatLng(paddingTopLeft);
    const bottomRight = map.containerPointToLatLng([size.x - paddingBottomRight[0], size.y - paddingBottomRight[1]]);
    return L.latLngBounds(topLeft, bottomRight);
  }

  return { select };
}
