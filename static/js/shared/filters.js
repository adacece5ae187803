/*
 * What the API is asked for: the view's filters (time window, categories, confidence, text) and
 * the map's bounds become the query parameters that /api/events, /api/clusters and /api/density
 * share (timeline/web/params.py reads them). Also the rule the filter checkboxes follow: every box
 * ticked means no filter at all.
 *
 * Pure: bounds are passed in as numbers; nothing here touches the map or the page.
 */

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
  if (bounds) params.set("bbox", bboxParam(bounds));
  return params;
}

/** A bbox parameter for map bounds, kept inside the world (a zoomed-out map shows more than it). */
export function bboxParam({ west, south, east, north }) {
  const box = [Math.max(-180, west), Math.max(-90, south), Math.min(180, east), Math.min(90, north)];
  return box.map((v) => v.toFixed(5)).join(",");
}

/** The values a filter chooses from its ticked boxes: all of them ticked is no filter ([]). */
export const chosenValues = (ticked, boxCount) => (ticked.length === boxCount ? [] : ticked);

/** Whether a box is ticked for a filter's chosen values ([] ticks every box). */
export const isTicked = (chosen, value) => !chosen.length || chosen.includes(value);
