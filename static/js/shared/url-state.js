/*
 * The map page's view lives in its address, so every view is a link and back and forward walk
 * through views. This module is the one translation between a query string and a view: what a
 * link may hold, what is refused (and reported, so the page can say so), and how a view is written.
 *
 * Pure: it never reads window.location or the map; callers pass the query string and map view in.
 *
 * A view: { start, end } the time window as ISO days or null (all time); categories and confidences
 * chosen (empty: all); q the text search; sel the selected event id or null; vp whether the
 * timeline lists only events in the map view; region and country the place chosen in the region
 * filter (a code such as RU-KRS or RU, or a stored name; "" for every place). The map view is
 * { z, lat, lon }.
 */

import { isIsoDay } from "./dates.js";
import { NOTHING } from "./filters.js";

/** The view a page opens with when its address holds nothing. */
export function emptyView() {
  return { start: null, end: null, categories: [], confidences: [], q: "", sel: null, vp: false, region: "", country: "" };
}

/** Whether a link's region or country is one the API takes: one code (RU-KRS, RU) or one place
 * name (letters first; no comma, which would make it two), as timeline/web/params.py checks it. */
const isPlaceValue = (value) => value.length <= 200 && /^[\p{L}\p{N}][\p{L}\p{N}\p{M} .'’()/-]*$/u.test(value);

const list = (text) => (text || "").split(",").filter(Boolean);

/**
 * Read a view from a query string. What cannot be read is left at its default and named in
 * `problems`; `mapView` is null when the link has no (readable) map view.
 * `rules`: { confidences: the known levels, maxZoom, searchMaxLength }.
 */
export function readView(search, rules) {
  const params = new URLSearchParams(search);
  const problems = [];
  const view = emptyView();
  for (const key of ["start", "end"]) {
    const value = params.get(key);
    if (value === null || value === "") continue;
    if (isIsoDay(value)) view[key] = value;
    else problems.push(key);
  }
  if (view.start && view.end && view.start > view.end) {
    problems.push("start > end");
    view.start = view.end = null;
  }
  // A filter that chose nothing is written as "-" (nothing is shown), whatever else it lists.
  const chosen = (values) => (values.includes(NOTHING) ? [NOTHING] : values);
  view.categories = chosen(list(params.get("cat")));
  const confidences = chosen(list(params.get("conf")));
  if (confidences.some((c) => c !== NOTHING && !rules.confidences.includes(c))) problems.push("conf");
  else view.confidences = confidences;
  view.q = (params.get("q") || "").slice(0, rules.searchMaxLength);
  for (const key of ["region", "country"]) {
    const value = params.get(key) || "";
    if (!value || isPlaceValue(value)) view[key] = value;
    else problems.push(key);
  }
  view.sel = params.get("sel") || null;
  view.vp = params.get("vp") === "1";
  let mapView = null;
  const written = params.get("map");
  if (written) {
    const [z, lat, lon] = written.split("/").map(Number);
    const readable = [z, lat, lon].every(Number.isFinite) && z >= 0 && z <= rules.maxZoom;
    if (readable && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) mapView = { z, lat, lon };
    else problems.push("map");
  }
  return { view, mapView, problems };
}

/**
 * Categories the story does not have are a problem of the link, like any other: the view then
 * shows every category. `known` is a Set or Map of category slugs; an empty one checks nothing
 * (the categories could not be loaded).
 */
export function withKnownCategories({ view, mapView, problems }, known) {
  if (!known.size || view.categories.every((c) => c === NOTHING || known.has(c))) return { view, mapView, problems };
  return { view: { ...view, categories: [] }, mapView, problems: [...problems, "cat"] };
}

/** The query string of a view and map view, with commas and slashes left readable. */
export function viewQuery(view, mapView) {
  const params = new URLSearchParams();
  params.set("map", `${mapView.z}/${mapView.lat.toFixed(4)}/${mapView.lon.toFixed(4)}`);
  if (view.start) params.set("start", view.start);
  if (view.end) params.set("end", view.end);
  if (view.categories.length) params.set("cat", view.categories.join(","));
  if (view.confidences.length) params.set("conf", view.confidences.join(","));
  if (view.q) params.set("q", view.q);
  if (view.sel) params.set("sel", view.sel);
  if (view.vp) params.set("vp", "1");
  if (view.region) params.set("region", view.region);
  if (view.country) params.set("country", view.country);
  return params.toString().replace(/%2C/g, ",").replace(/%2F/g, "/");
}

/** A link to a page (`base`: a path or a whole URL) showing this view. */
export const linkTo = (base, view, mapView) => `${base}?${viewQuery(view, mapView)}`;
