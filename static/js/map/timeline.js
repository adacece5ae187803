/*
 * The vis-timeline beside the map: one item per event, a point for a day, a hatched span for a
 * month or a year, a range for a range. The window it shows is the view's time window: a sideways
 * drag or a zoom by the visitor chooses a new one (onWindowChosen); the page moving it (restoring
 * a link, Play) does not count as a choice.
 *
 * Every item of the window can be seen: the items run in one lane per category (named at the
 * left), and lanes that do not fit the timeline's box scroll, with the browser's scrollbar, and a drag that is mostly up or down scrolls them without moving the window
 * (so it never changes the time filter). Each title carries its full text and date as a tooltip,
 * for items too narrow to show it.
 *
 * Item content is a DOM node built from text.
 *
 * vis-timeline (with vis-data and moment, one bundle: tools/build_assets.mjs) is loaded only once
 * the page's events are on screen, when the browser is idle (or at once when the visitor reaches
 * for the timeline), so the map, the list and the count never wait for it. Until then the box
 * keeps its height, empty, and what the page asks of the timeline is kept and done once it is
 * there; its window, meanwhile, is the one it will show (see expectedWindow).
 *
 * Keyboard: the items are one tab stop (a roving tabindex: the selected or last visited item is
 * reachable with Tab, the others with the arrow keys, in time order); Enter or Space opens an item,
 * Home and End go to the first and last, + and − zoom the window in and out, which chooses a new
 * time window as a drag or the mouse wheel does.
 */

import { afterPaint, el, debounce, loadStylesheet } from "../shared/dom.js";
import { DAY, afterLastDay, firstDay } from "../shared/dates.js";
import { categoryOf } from "./store.js";

const RANGE_REDRAW_MS = 30; // while the window moves, what depends on it is redrawn this often at most
const KEY_ZOOM = 0.5; // + and − zoom by this share of the window
const NEXT_KEYS = new Set(["ArrowRight", "ArrowDown"]);
const PREVIOUS_KEYS = new Set(["ArrowLeft", "ArrowUp"]);
const ZOOM_IN_KEYS = new Set(["+", "="]);
const ZOOM_OUT_KEYS = new Set(["-", "−", "_"]);
const DRAG_DECIDES_PX = 6; // a drag's direction is known once it has moved this far

/** The timeline itself, made from the loaded bundle: the same methods as createTimeline's. */
function mountTimeline({ Timeline, DataSet, moment }, { container, store, ui, onSelect, onWindowChosen, onWindowMoving }) {
  const items = new DataSet();
  const groups = new DataSet();
  const timeline = new Timeline(container, items, {
    locale: ui.locale.startsWith("de") ? "de" : "en",
    moment: (date) => moment(date).utc(),
    stack: true,
    // As tall as its lanes: the box around it scrolls (app.css), with the browser's own scrollbar,
    // and every item stays drawn (vis-timeline's own vertical scroll draws only the lanes in sight).
    minHeight: 140,
    zoomMin: 7 * DAY,
    zoomMax: 50 * 365 * DAY,
    orientation: "top",
    showCurrentTime: false,
    selectable: true,
    margin: { item: 4 },
    tooltip: { followMouse: false },
    groupOrder: "order",
  });
  let movedByPage = false; // set while the page itself moves the window
  const nodes = new Map(); // event id -> the item's focusable content node
  let order = []; // event ids in time order, as the arrow keys walk them
  let current = null; // the item that is the timeline's one tab stop

  /** Make `id` the item that Tab reaches (the others are reached with the arrow keys). */
  function setCurrent(id) {
    current = nodes.has(id) ? id : order[0] || null;
    for (const [itemId, node] of nodes) node.setAttribute("tabindex", itemId === current ? "0" : "-1");
  }

  function itemOf(feature) {
    const props = feature.properties;
    const content = el(
      "span",
      {
        lang: props.lang, class: "item-title", role: "button", tabindex: "-1", "data-id": feature.id,
        "aria-label": `${props.title}, ${ui.when(props)}`, title: `${props.title} (${ui.when(props)})`,
      },
      props.title,
    );
    nodes.set(feature.id, content);
    const item = {
      id: feature.id,
      // What the item shows: when it is unchanged, a redraw keeps the item (see draw).
      shown: JSON.stringify([props.title, props.lang, props.start, props.end, props.date_precision, props.category]),
      content,
      start: firstDay(props.start),
      group: props.category,
      className: `precision-${props.date_precision} category-${props.category}`,
      style: `border-color: ${categoryOf(store, props.category).colour}`,
    };
    if (props.date_precision === "day" && !props.end) item.type = "point"; // a day is an instant, not a bar
    else {
      item.type = "range";
      item.end = afterLastDay(props.end || props.start, props.date_precision);
    }
    return item;
  }

  /** Move the window without it counting as the visitor's choice. */
  function moveWindow(start, end) {
    movedByPage = true;
    timeline.setWindow(start, end, { animation: false });
    movedByPage = false;
  }

  /** Show the view's time window. An open edge reaches to the story's first or last event (so
   * "until October" shows everything up to October), or keeps the window's edge when there is none. */
  function showViewWindow() {
    const range = timeline.getWindow();
    const { start, end } = store.view;
    const all = items.get();
    const earliest = all.length ? new Date(Math.min(...all.map((item) => item.start.getTime()))) : range.start;
    const latest = all.length ? new Date(Math.max(...all.map((item) => (item.end || item.start).getTime())) + DAY) : range.end;
    let from = start ? firstDay(start) : earliest;
    let until = end ? new Date(firstDay(end).getTime() + DAY) : latest;
    if (!start && from >= until) from = new Date(until.getTime() - 7 * DAY);
    if (!end && until <= from) until = new Date(from.getTime() + 7 * DAY);
    moveWindow(from, until);
  }

  /** One lane per category that has events to show, in the legend's order, named by its label. */
  function drawLanes(features) {
    const slugs = new Set(features.map((f) => f.properties.category));
    const known = [...store.categories.keys()];
    const rank = (slug) => (known.includes(slug) ? known.indexOf(slug) : known.length);
    const wanted = [...slugs].map((slug) => {
      const category = categoryOf(store, slug);
      const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.background = category.colour;
      const content = el("span", { class: "lane-label" }, swatch, category.label);
      return { id: slug, content, order: rank(slug), shown: `${category.label}|${category.colour}|${rank(slug)}` };
    });
    groups.remove(groups.getIds().filter((id) => !slugs.has(id)));
    groups.update(wanted.filter((group) => groups.get(group.id)?.shown !== group.shown));
  }

  /** Show these events. Events already drawn as they are now keep their items: vis-timeline
   * measures and stacks only new or changed ones (about 1.4 ms each), so a refresh that keeps most
   * events costs little. */
  function draw(features) {
    drawLanes(features);
    const ids = new Set(features.map((f) => f.id));
    for (const id of [...nodes.keys()]) if (!ids.has(id)) nodes.delete(id);
    const kept = new Map(items.get().map((item) => [item.id, item]));
    const wanted = features.map((feature) => {
      const old = kept.get(feature.id);
      const item = itemOf(feature);
      if (old && old.shown === item.shown) nodes.set(feature.id, old.content); // vis keeps showing the old node
      return item;
    });
    items.remove(items.getIds().filter((id) => !ids.has(id)));
    items.update(wanted.filter((item) => items.get(item.id)?.shown !== item.shown));
    order = [...wanted].sort((a, b) => a.start - b.start || (a.end || a.start) - (b.end || b.start)).map((item) => item.id);
    setCurrent(store.view.sel || current);
    const { start, end, sel } = store.view;
    if (!start && !end && features.length) timeline.fit({ animation: false });
    else if (start || end) showViewWindow();
    if (sel && items.get(sel)) timeline.setSelection([sel]);
  }

  // A drag that is mostly up or down scrolls the lanes: vis-timeline would pan the window by its
  // small sideways part, so once such a drag shows its direction the window is held still (and put
  // back where it was) and the box scrolls with the pointer instead.
  let drag = null;
  container.addEventListener(
    "pointerdown",
    (e) => {
      drag = { x: e.clientX, y: e.clientY, scrollTop: container.scrollTop, vertical: null, window: timeline.getWindow() };
    },
    true,
  );
  container.addEventListener(
    "pointermove",
    (e) => {
      if (!drag || !e.buttons) return;
      if (drag.vertical === null) {
        const dx = Math.abs(e.clientX - drag.x);
        const dy = Math.abs(e.clientY - drag.y);
        if (Math.max(dx, dy) < DRAG_DECIDES_PX) return;
        drag.vertical = dy > dx;
        if (drag.vertical) {
          timeline.setOptions({ moveable: false });
          moveWindow(drag.window.start, drag.window.end);
        }
      }
      if (drag.vertical) container.scrollTop = drag.scrollTop - (e.clientY - drag.y);
    },
    true,
  );
  const dragEnded = () => {
    if (drag && drag.vertical && !drag.ended) {
      drag.ended = true;
      timeline.setOptions({ moveable: true });
      moveWindow(drag.window.start, drag.window.end);
    }
  };
  window.addEventListener("pointerup", dragEnded, true);
  window.addEventListener("pointercancel", dragEnded, true);
  container.addEventListener("wheel", () => (drag = null), { capture: true, passive: true });

  timeline.on("rangechanged", (props) => {
    if (!props.byUser || movedByPage) return;
    if (drag && drag.vertical) return; // a scroll of the items, not a new window
    onWindowChosen(props.start, props.end);
  });
  timeline.on("select", (props) => {
    if (props.items.length) onSelect(String(props.items[0]), "timeline");
  });
  timeline.on("rangechange", debounce(onWindowMoving, RANGE_REDRAW_MS));

  /** Move keyboard focus to an item, bringing it into the window first when it is outside. */
  function focusItem(id) {
    setCurrent(id);
    let node = nodes.get(id);
    if (!node.isConnected) {
      const item = items.get(id);
      timeline.moveTo(item.start, { animation: false });
      timeline.redraw();
      const range = timeline.getWindow();
      onWindowChosen(range.start, range.end);
      node = nodes.get(id);
    }
    if (node && node.isConnected) node.focus();
  }

  /** Zoom from the keyboard: a new window the visitor chose, as with the mouse wheel. */
  function zoom(inwards) {
    if (inwards) timeline.zoomIn(KEY_ZOOM, { animation: false });
    else timeline.zoomOut(KEY_ZOOM, { animation: false });
    const range = timeline.getWindow();
    onWindowChosen(range.start, range.end);
    onWindowMoving();
  }

  container.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (ZOOM_IN_KEYS.has(e.key) || ZOOM_OUT_KEYS.has(e.key)) {
      e.preventDefault();
      zoom(ZOOM_IN_KEYS.has(e.key));
      return;
    }
    const node = e.target.closest && e.target.closest(".item-title[data-id]");
    if (!node || !order.length) return;
    const id = node.dataset.id;
    const at = order.indexOf(id);
    let next = null;
    if (NEXT_KEYS.has(e.key)) next = order[Math.min(at + 1, order.length - 1)];
    else if (PREVIOUS_KEYS.has(e.key)) next = order[Math.max(at - 1, 0)];
    else if (e.key === "Home") next = order[0];
    else if (e.key === "End") next = order[order.length - 1];
    else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      setCurrent(id);
      onSelect(id, "timeline");
      return;
    } else return;
    e.preventDefault();
    focusItem(next);
  });

  return {
    timeline,
    /** Its lanes for these events, in a task of its own: vis-timeline redraws whole, at once, for
     * each change until it has drawn its first items, so the mount is cut into such steps. */
    drawLanes: (features) => {
      timeline.setGroups(groups);
      drawLanes(features);
    },
    draw,
    moveWindow,
    showViewWindow,
    fit: () => timeline.fit({ animation: false }),
    window: () => timeline.getWindow(),
    has: (id) => Boolean(items.get(id)),
    select: (id, focus) => {
      timeline.setSelection([id], { focus, animation: false });
      setCurrent(id);
    },
    clearSelection: () => timeline.setSelection([]),
  };
}

const IDLE_TIMEOUT_MS = 1500; // the timeline is loaded by then even on a page that is never idle
const FIT_MARGIN = 0.01; // vis-timeline's fit shows 1 % more on each side than its items span

/** One task ends and the next begins: the browser paints and answers input in between. */
const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

/** The timeline under the map. It answers at once; vis-timeline comes later (see the top of this file). */
export function createTimeline(options) {
  const { container, store, ui } = options;
  container.setAttribute("role", "group");
  container.setAttribute("aria-label", ui.t("timeline_help"));
  container.classList.add("timeline-pending");
  let real = null;
  let queued = []; // [method, args] the page asked for before the timeline was there
  let features = []; // what the latest draw asked to show
  let windowAsked = null; // the latest window the page moved to, before the timeline was there
  let loading = null;

  function mount() {
    loading ||= (async () => {
      const vendor = await loadBundle(ui.locale, container);
      await nextTask(); // parsing the bundle was one task; making the timeline is the next
      const made = mountTimeline(vendor, options);
      await nextTask();
      made.drawLanes(features);
      await nextTask();
      // Shown once drawn with its items and settled (vis-timeline redraws a few times as it
      // measures and stacks them): nothing in the box moves on screen as it fills.
      const reveal = () => container.classList.remove("timeline-pending");
      if (queued.some(([method]) => method === "draw")) revealWhenSettled(made.timeline, reveal);
      else reveal();
      for (const [method, args] of queued) made[method](...args);
      queued = [];
      real = made;
      options.onWindowMoving(); // what was drawn for the expected window follows the real one
    })().catch((e) => {
      loading = null; // the next draw tries again
      console.error(e);
    });
    return loading;
  }

  function ask(method, ...args) {
    if (real) return real[method](...args);
    // A draw replaces the items of every earlier one: only the latest is kept.
    if (method === "draw") queued = queued.filter(([name]) => name !== "draw");
    queued.push([method, args]);
    if (method === "draw") {
      features = args[0];
      afterPaint(IDLE_TIMEOUT_MS).then(mount);
    }
    return undefined;
  }

  /** The window the timeline will show once it is there: the page's last move, or the view's
   * period, or all of the drawn events' time (as vis-timeline fits it), or the year up to now. */
  function expectedWindow() {
    if (windowAsked) return windowAsked;
    const starts = features.map((f) => firstDay(f.properties.start).getTime());
    const ends = features.map((f) => afterLastDay(f.properties.end || f.properties.start, f.properties.date_precision).getTime());
    const earliest = starts.length ? Math.min(...starts) : Date.now() - 365 * DAY;
    const latest = ends.length ? Math.max(...ends) : Date.now();
    const { start, end } = store.view;
    if (start || end) {
      return { start: start ? firstDay(start) : new Date(earliest), end: end ? new Date(firstDay(end).getTime() + DAY) : new Date(latest) };
    }
    const margin = (latest - earliest) * FIT_MARGIN;
    return { start: new Date(earliest - margin), end: new Date(latest + margin) };
  }

  // Reaching for the timeline (a tap or a click on its box) loads it now.
  container.addEventListener("pointerdown", mount, { once: true });

  return {
    draw: (shown) => {
      // A draw fits the window to its events, or shows the view's period (see mountTimeline's draw).
      if (!real && (shown.length || store.view.start || store.view.end)) windowAsked = null;
      return ask("draw", shown);
    },
    moveWindow: (start, end) => {
      if (!real) windowAsked = { start, end };
      return ask("moveWindow", start, end);
    },
    showViewWindow: () => {
      if (!real) windowAsked = null;
      return ask("showViewWindow");
    },
    fit: () => {
      if (!real) windowAsked = null;
      return ask("fit");
    },
    window: () => (real ? real.window() : expectedWindow()),
    has: (id) => (real ? real.has(id) : features.some((f) => f.id === id)),
    select: (id, focus) => ask("select", id, focus),
    clearSelection: () => ask("clearSelection"),
  };
}

/** Call `reveal` once `timeline` has redrawn and then not again for a frame. */
function revealWhenSettled(timeline, reveal) {
  let redraws = 0;
  const changed = () => {
    const seen = ++redraws;
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        if (seen !== redraws) return; // it redrew again meanwhile
        timeline.off("changed", changed);
        reveal();
      }),
    );
  };
  timeline.on("changed", changed);
}

/** The bundle, its stylesheet (the box names its URL), and moment's German for a German page's axis. */
async function loadBundle(locale, container) {
  const [vendor] = await Promise.all([
    import("../../vendor/timeline/timeline.js"),
    locale.startsWith("de") ? import("../../vendor/timeline/moment-de.js") : null,
    container.dataset.stylesheet ? loadStylesheet(container.dataset.stylesheet) : null,
  ]);
  return vendor;
}
