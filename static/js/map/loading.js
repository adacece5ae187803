/*
 * Loading by view. The map asks /api/clusters for its viewport and time window first (a count is
 * cheap); with more than MAP_LIMIT events in view it draws those clusters, with fewer it fetches the
 * slim features and draws them. The timeline lists every matching event while a story is small,
 * and a window's worth of a big one. The density strip counts every matching event per week.
 *
 * Answers to requests that a newer one has replaced are dropped. While the map's events are not
 * yet those of its current view, the map pane says aria-busy="true" (assistive technology, and the
 * browser tests, wait for "false").
 */

import { debounce } from "../shared/dom.js";
import { firstDay, DAY } from "../shared/dates.js";
import { filterParams } from "../shared/filters.js";
import { getJSON } from "../shared/http.js";

const MAP_LIMIT = 500; // more than this in view: clusters instead of events
const TIMELINE_LIMIT = 200; // a story up to this size is drawn whole
// A bigger story is drawn a window at a time, this many events of it. vis-timeline lays out each
// new item by measuring its box and stacking it (about 1.4 ms an item on a 2-core machine), so
// 200 new items after a drag held the page for 280 ms; 100 stay under the 200 ms budget (bench e4).
const WINDOW_PAGE = 100;
const MOVE_SETTLE_MS = 150; // a moved map is loaded once it has stopped moving for this long

export function createLoader({ store, map, config, ui, address, eventLayer, timeline, eventList, density, status, mapPane }) {
  const urls = config.urls;
  let mapRequest = 0; // the newest map request; older answers are dropped
  let timelineRequest = 0;
  let moveWaiting = false; // the map has moved and its refresh has not started yet

  const bounds = () => {
    const b = map.getBounds();
    return { west: b.getWest(), south: b.getSouth(), east: b.getEast(), north: b.getNorth() };
  };
  const setBusy = (busy) => mapPane.setAttribute("aria-busy", String(busy));
  const settled = (mine) => {
    if (mine === mapRequest && !moveWaiting) setBusy(false);
  };

  /** Count first (cheap, from the cluster endpoint); draw events one by one only when few enough. */
  async function refreshMap() {
    const mine = ++mapRequest;
    setBusy(true);
    const params = filterParams(store.view, { bounds: bounds() });
    params.set("zoom", String(map.getZoom()));
    try {
      const cells = await getJSON(`${urls.clusters}?${params}`);
      if (mine !== mapRequest) return;
      const matched = cells.numberMatched;
      if (matched > MAP_LIMIT) {
        eventLayer.drawClusters(cells);
      } else {
        params.delete("zoom");
        params.set("limit", String(MAP_LIMIT));
        params.set("view", "summary");
        const page = await getJSON(`${urls.events}?${params}`);
        if (mine !== mapRequest) return;
        eventLayer.drawFeatures(page.features);
      }
      if (store.totalEvents === null) store.totalEvents = (await getJSON(`${urls.clusters}?zoom=0`)).numberMatched;
      status.textContent = ui.t("count", { visible: ui.number(matched), total: ui.number(store.totalEvents) });
      settled(mine);
      if (store.view.vp) refreshTimeline();
    } catch (e) {
      status.textContent = ui.t("failed");
      settled(mine);
      console.error(e);
    }
  }

  function drawTimeline(features, matched) {
    timeline.draw(features);
    eventList.draw(features, matched);
  }

  /** The timeline's items: every matching event (in the map view if asked), or, when there are too
   * many for a timeline to show, those in the current window, up to a limit. */
  async function refreshTimeline() {
    const mine = ++timelineRequest;
    const view = store.view;
    const params = filterParams(view, { bounds: view.vp ? bounds() : null, timeWindow: false });
    try {
      params.set("zoom", "0");
      let matched = (await getJSON(`${urls.clusters}?${params}`)).numberMatched;
      params.delete("zoom");
      if (matched > TIMELINE_LIMIT) {
        if (!view.start && !view.end) {
          // Too many for a timeline: show their rhythm (the density strip) over their whole period
          // and let the visitor pick a stretch of it.
          drawTimeline([], matched);
          const weeks = store.weeks;
          if (weeks.length) {
            const first = firstDay(weeks[0].start);
            const last = new Date(firstDay(weeks[weeks.length - 1].start).getTime() + 7 * DAY);
            timeline.moveWindow(first, last);
            density.draw();
          }
          return;
        }
        if (view.start) params.set("start", view.start);
        if (view.end) params.set("end", view.end);
      }
      params.set("limit", String(matched > TIMELINE_LIMIT ? WINDOW_PAGE : TIMELINE_LIMIT));
      params.set("view", "summary");
      const page = await getJSON(`${urls.events}?${params}`);
      if (mine !== timelineRequest) return;
      matched = page.numberMatched;
      drawTimeline(page.features, matched);
    } catch (e) {
      console.error(e);
    }
  }

  /** Events per week for the filters (every date), then the strip. */
  async function refreshDensity() {
    try {
      store.weeks = (await getJSON(`${urls.density}?${filterParams(store.view, { timeWindow: false })}`)).weeks;
    } catch (e) {
      store.weeks = [];
    }
    density.draw();
  }

  const refreshAfterMove = debounce(() => {
    moveWaiting = false;
    address.write(false);
    refreshMap();
  }, MOVE_SETTLE_MS);

  /** The map has moved (Leaflet's moveend): its events are stale until it has settled and loaded. */
  function mapMoved() {
    moveWaiting = true;
    setBusy(true);
    refreshAfterMove();
  }

  return { refreshMap, refreshTimeline, refreshDensity, mapMoved };
}
