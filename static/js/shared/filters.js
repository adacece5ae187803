/*
 * What the API is asked for: the view's filters (time window, categories, confidence, text, region
 * or country) and the map's bounds become the query parameters that /api/events, /api/clusters and /api/density
 * share (timeline/web/params.py reads them). Also the rule the filter checkboxes follow: every box
 * ticked means no filter at all, no box ticked means no event.
 *
 * Pure: bounds are passed in as numbers; nothing here touches the map or the page.
 */

import { DAY, afterLastDay, firstDay } from "./dates.js";

/**
 * The API parameters for a view. `bounds` ({ west, south, east, north }, degrees) adds a bbox;
 * `timeWindow: false` leaves the time window out (the timeline and density strip show every date).
 */
export function filterParams(view, { bounds = null, timeWindow = true } = {}) {
  const params = new URLSearchParams();
  if (timeWindow && view.start) params.set("start", view.start);
  if (timeWindow && view.end) params.set("end", view.end);
  for (const c of view.categories) params.append("category", c);
  for (const c of view.confidences) params.append("confidence", c);
  if (view.q) params.set("q", view.q);
  if (view.region) params.set("region", view.region);
  if (view.country) params.set("country", view.country);
  if (bounds) params.set("bbox", bboxParam(bounds));
  return params;
}

/** A bbox parameter for map bounds, kept inside the world (a zoomed-out map shows more than it). */
export function bboxParam({ west, south, east, north }) {
  const box = [Math.max(-180, west), Math.max(-90, south), Math.min(180, east), Math.min(90, north)];
  return box.map((v) => v.toFixed(5)).join(",");
}

/** What a filter holds when no box is ticked: it chooses nothing, so nothing is shown (an empty
 * choice, [], means every value, which is not what a visitor who unticked every box sees). */
export const NOTHING = "-";

/** The values a filter chooses from its ticked boxes: all of them ticked is no filter ([]), none
 * ticked is [NOTHING]. */
export const chosenValues = (ticked, boxCount) => (ticked.length === boxCount ? [] : ticked.length ? ticked : [NOTHING]);

/** Whether a filter's chosen values rule out every event. */
export const choosesNothing = (chosen) => chosen.includes(NOTHING);

/** Whether a view can show no event at all (a filter with no box ticked), so nothing need be asked. */
export const showsNothing = (view) => choosesNothing(view.categories) || choosesNothing(view.confidences);

/** Whether a box is ticked for a filter's chosen values ([] ticks every box). */
export const isTicked = (chosen, value) => !chosen.length || chosen.includes(value);

/**
 * Whether an event (its properties: start, end, date_precision) falls in the view's time window,
 * as the API's start and end parameters decide it: some day of the event's period lies between the
 * window's first and last day. No window (start and end null) holds every event.
 */
export function inTimeWindow(props, view) {
  if (!view.start && !view.end) return true;
  const from = firstDay(props.start).getTime();
  const until = afterLastDay(props.end || props.start, props.date_precision).getTime();
  if (view.start && until <= firstDay(view.start).getTime()) return false;
  if (view.end && from >= firstDay(view.end).getTime() + DAY) return false;
  return true;
}
