/*
 * Loading by view. The map asks /api/clusters for its viewport and time window first (a count is
 * cheap); with more than MAP_LIMIT events in view it draws those clusters, with fewer it fetches the
 * slim features and draws them. The timeline lists every matching event while a story is small,
 * and a window's worth of a big one. The density strip counts every matching event per week.
 *
 * One truth on screen: the list, the timeline's window and the "N of M" count show the same set,
 * the events of the time window that match the filters (and, when asked, lie in the map view); the
 * map draws those in its view. A filter with no box ticked shows nothing, and an empty list says
 * why it is empty.
 *
 * Answers to requests that a newer one has replaced are dropped. While the map's events are not
 * yet those of its current view, the map pane says aria-busy="true" (assistive technology, and the
 * browser tests, wait for "false").
 */

import { debounce } from "../shared/dom.js";
import { firstDay, DAY } from "../shared/dates.js";
import { choosesNothing, filterParams, inTimeWindow, showsNothing } from "../shared/filters.js";
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
  let densityRequest = 0;
  let moveWaiting = false; // the map has moved and its refresh has not started yet
  // What the timeline holds: its features, how many match, and whether they are every matching
  // event of every date (then the list is their share in the time window, found here).
  let loaded = null;

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
    if (showsNothing(store.view)) {
      eventLayer.drawFeatures([]);
      settled(mine);
      if (store.view.vp) refreshTimeline();
      return;
    }
    const params = filterParams(store.view, { bounds: bounds() });
    params.set("zoom", String(map.getZoom()));
    try {
      const cells = await getJSON(`${urls.clusters}?${params}`);
      if (mine !== mapRequest) return;
      if (cells.numberMatched > MAP_LIMIT) {
        eventLayer.drawClusters(cells);
      } else {
        params.delete("zoom");
        params.set("limit", String(MAP_LIMIT));
        params.set("view", "summary");
        const page = await getJSON(`${urls.events}?${params}`);
        if (mine !== mapRequest) return;
        await eventLayer.ready(page.features);
        if (mine !== mapRequest) return;
        eventLayer.drawFeatures(page.features);
      }
      settled(mine);
      if (store.view.vp) refreshTimeline();
    } catch (e) {
      settled(mine);
      if (mine !== mapRequest) return; // superseded: the newer request speaks for the page
      status.textContent = ui.t("failed");
      console.error(e);
    }
  }

  /** Why nothing is listed, in the visitor's words. */
  function emptyReason() {
    const view = store.view;
    if (choosesNothing(view.categories)) return ui.t("no_category");
    if (choosesNothing(view.confidences)) return ui.t("no_confidence");
    return ui.t("no_match");
  }

  /** The list and the count for what the timeline holds and the view's time window. */
  function showList() {
    if (!loaded) return;
    const listed = loaded.complete ? loaded.features.filter((f) => inTimeWindow(f.properties, store.view)) : loaded.features;
    const matched = loaded.complete ? listed.length : loaded.matched;
    eventList.draw(listed, matched, emptyReason());
    if (store.totalEvents !== null) status.textContent = ui.t("count", { visible: ui.number(matched), total: ui.number(store.totalEvents) });
  }

  function drawTimeline(features, matched, complete) {
    timeline.draw(features);
    loaded = { features, matched, complete };
    showList();
    // Every matching event of every date is here: the density strip spreads each one over its
    // own period from these (see density.js); otherwise it draws the server's weekly counts.
    const spans = complete && !store.view.vp ? features.map((f) => f.properties) : null;
    if (spans || store.spans) {
      store.spans = spans;
      density.draw();
    }
  }

  /** The time window changed (and nothing else): the list and count follow it, fetched again
   * only when the timeline holds a window's worth of a big story. */
  function windowChanged() {
    if (loaded && loaded.complete) showList();
    else refreshTimeline();
  }

  /** The timeline's items: every matching event (in the map view if asked), or, when there are too
   * many for a timeline to show, those in the current window, up to a limit. */
  async function refreshTimeline() {
    const mine = ++timelineRequest;
    const view = store.view;
    try {
      // The story's size and the filters' count are asked for together (one round trip, not two).
      const total = store.totalEvents === null ? getJSON(`${urls.clusters}?zoom=0`) : null;
      const params = filterParams(view, { bounds: view.vp ? bounds() : null, timeWindow: false });
      params.set("zoom", "0");
      const counted = showsNothing(view) ? null : getJSON(`${urls.clusters}?${params}`);
      counted?.catch(() => {}); // its failure is reported below, once the total has come
      // On the page's first load the whole story is asked for beside its count, as most stories are
      // small enough to be drawn whole: the list then comes one round trip sooner.
      const early = total && counted ? getJSON(`${urls.events}?${wholeStoryParams(params)}`) : null;
      early?.catch(() => {}); // used only when the count says the story is whole; fetched again if it fails
      if (total) store.totalEvents = (await total).numberMatched;
      if (!counted) {
        if (mine === timelineRequest) drawTimeline([], 0, true);
        return;
      }
      let matched = (await counted).numberMatched;
      params.delete("zoom");
      if (matched > TIMELINE_LIMIT) {
        if (!view.start && !view.end) {
          // Too many for a timeline: show their rhythm (the density strip) over their whole period
          // and let the visitor pick a stretch of it.
          await densityLoaded;
          if (mine !== timelineRequest) return;
          drawTimeline([], matched, false);
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
      const whole = matched <= TIMELINE_LIMIT;
      params.set("limit", String(whole ? TIMELINE_LIMIT : WINDOW_PAGE));
      params.set("view", "summary");
      const page = (whole && early ? await early.catch(() => null) : null) || (await getJSON(`${urls.events}?${params}`));
      if (mine !== timelineRequest) return;
      matched = page.numberMatched;
      drawTimeline(page.features, matched, whole);
    } catch (e) {
      if (mine !== timelineRequest) return; // superseded: the newer request speaks for the page
      status.textContent = ui.t("failed");
      console.error(e);
    }
  }

  /** The query for every matching event of every date, as a whole story's timeline asks for it. */
  function wholeStoryParams(countParams) {
    const params = new URLSearchParams(countParams);
    params.delete("zoom");
    params.set("limit", String(TIMELINE_LIMIT));
    params.set("view", "summary");
    return params;
  }

  /** Events per week for the filters (every date), then the strip. The timeline of a big story
   * waits for them (it spans their weeks); the rest of the page does not. */
  let densityLoaded = Promise.resolve();
  function refreshDensity() {
    densityLoaded = loadDensity();
    return densityLoaded;
  }

  async function loadDensity() {
    const mine = ++densityRequest;
    let weeks = [];
    if (!showsNothing(store.view)) {
      try {
        weeks = (await getJSON(`${urls.density}?${filterParams(store.view, { timeWindow: false })}`)).weeks;
      } catch (e) {
        weeks = [];
      }
    }
    if (mine !== densityRequest) return; // the filters changed again meanwhile
    store.weeks = weeks;
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

  return { refreshMap, refreshTimeline, refreshDensity, mapMoved, windowChanged };
}
