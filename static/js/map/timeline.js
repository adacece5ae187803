/*
 * The vis-timeline beside the map: one item per event, a point for a day, a hatched span for a
 * month or a year, a range for a range. The window it shows is the view's time window: a drag or
 * zoom by the visitor chooses a new one (onWindowChosen); the page moving it (restoring a link,
 * Play) does not count as a choice.
 *
 * Item content is a DOM node built from text. Uses vis-timeline's global `vis` (a classic script).
 */

import { el, debounce } from "../shared/dom.js";
import { DAY, afterLastDay, firstDay } from "../shared/dates.js";
import { categoryOf } from "./store.js";

const RANGE_REDRAW_MS = 30; // while the window moves, what depends on it is redrawn this often at most

export function createTimeline({ container, store, ui, onSelect, onWindowChosen, onWindowMoving }) {
  const items = new vis.DataSet();
  const timeline = new vis.Timeline(container, items, {
    locale: ui.locale.startsWith("de") ? "de" : "en",
    moment: (date) => vis.moment(date).utc(),
    stack: true,
    maxHeight: 280,
    minHeight: 140,
    zoomMin: 7 * DAY,
    zoomMax: 50 * 365 * DAY,
    orientation: "top",
    showCurrentTime: false,
    selectable: true,
    margin: { item: 4 },
    tooltip: { followMouse: false },
  });
  let movedByPage = false; // set while the page itself moves the window

  function itemOf(feature) {
    const props = feature.properties;
    const item = {
      id: feature.id,
      // What the item shows: when it is unchanged, a redraw keeps the item (see draw).
      shown: JSON.stringify([props.title, props.lang, props.start, props.end, props.date_precision, props.category]),
      content: el("span", { lang: props.lang, class: "item-title" }, props.title),
      start: firstDay(props.start),
      className: `precision-${props.date_precision} category-${props.category}`,
      style: `border-color: ${categoryOf(store, props.category).colour}`,
    };
    if (props.date_precision === "day" && !props.end) item.type = "box";
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

  /** Show the view's time window (an open end keeps the window's current end). */
  function showViewWindow() {
    const range = timeline.getWindow();
    const { start, end } = store.view;
    moveWindow(start ? firstDay(start) : range.start, end ? new Date(firstDay(end).getTime() + DAY) : range.end);
  }

  /** Show these events. Events already drawn as they are now keep their items: vis-timeline
   * measures and stacks only new or changed ones (about 1.4 ms each), so a refresh that keeps most
   * events costs little. */
  function draw(features) {
    const wanted = features.map(itemOf);
    const ids = new Set(wanted.map((item) => item.id));
    items.remove(items.getIds().filter((id) => !ids.has(id)));
    items.update(wanted.filter((item) => items.get(item.id)?.shown !== item.shown));
    const { start, end, sel } = store.view;
    if (!start && !end && features.length) timeline.fit({ animation: false });
    else if (start || end) showViewWindow();
    if (sel && items.get(sel)) timeline.setSelection([sel]);
  }

  timeline.on("rangechanged", (props) => {
    if (!props.byUser || movedByPage) return;
    onWindowChosen(props.start, props.end);
  });
  timeline.on("select", (props) => {
    if (props.items.length) onSelect(String(props.items[0]), "timeline");
  });
  timeline.on("rangechange", debounce(onWindowMoving, RANGE_REDRAW_MS));

  return {
    draw,
    moveWindow,
    showViewWindow,
    fit: () => timeline.fit({ animation: false }),
    window: () => timeline.getWindow(),
    has: (id) => Boolean(items.get(id)),
    select: (id, focus) => timeline.setSelection([id], { focus, animation: false }),
    clearSelection: () => timeline.setSelection([]),
  };
}
