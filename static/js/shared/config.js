/*
 * The settings the server gives every page once (timeline/web/page_config.py renders them as JSON
 * in <script type="application/json" id="page-config">): the default map view, the zoom range, the
 * confidence levels, the longest text search, whether tiles are configured, and the URLs of the
 * API, the base map and the event pages. Pages read them here instead of keeping copies.
 *
 * parsePageConfig is pure and checks the shape, so a page that is served a broken block fails at
 * once, with a message naming what is wrong, rather than later in some unrelated place.
 */

export const URL_NAMES = [
  "events", "clusters", "density", "categories", "eventPage", "embed", "home", "basemap",
  "places", "placeLabels", "placeReverse", "regions",
];

function fail(what) {
  throw new Error(`page config: ${what}`);
}

const isNumber = (value) => typeof value === "number" && Number.isFinite(value);

/** The page's settings from the JSON text the server wrote, checked and frozen. */
export function parsePageConfig(text) {
  let raw;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    fail(`not JSON (${e.message})`);
  }
  if (!raw || typeof raw !== "object") fail("not an object");
  const { defaultView, maxZoom, confidences, searchMaxLength, tiles, idPlaceholder, urls, page = {} } = raw;
  const centre = defaultView && defaultView.centre;
  if (!Array.isArray(centre) || centre.length !== 2 || !centre.every(isNumber)) fail("defaultView.centre must be [lat, lon]");
  if (Math.abs(centre[0]) > 90 || Math.abs(centre[1]) > 180) fail("defaultView.centre is outside the world");
  if (!isNumber(defaultView.zoom)) fail("defaultView.zoom must be a number");
  if (!isNumber(maxZoom) || maxZoom < defaultView.zoom) fail("maxZoom must be a number, at least the default zoom");
  if (!Array.isArray(confidences) || !confidences.length || !confidences.every((c) => typeof c === "string" && c)) {
    fail("confidences must be a list of names");
  }
  if (!Number.isInteger(searchMaxLength) || searchMaxLength < 1) fail("searchMaxLength must be a positive integer");
  if (typeof tiles !== "boolean") fail("tiles must be true or false");
  if (typeof idPlaceholder !== "string" || !idPlaceholder) fail("idPlaceholder must be text");
  if (!urls || typeof urls !== "object") fail("urls missing");
  for (const name of URL_NAMES) if (typeof urls[name] !== "string" || !urls[name]) fail(`urls.${name} missing`);
  if (!urls.eventPage.includes(idPlaceholder)) fail("urls.eventPage has no place for the id");
  if (typeof page !== "object" || page === null) fail("page must be an object");
  return Object.freeze({
    defaultView: Object.freeze({ centre: Object.freeze([...centre]), zoom: defaultView.zoom }),
    maxZoom,
    confidences: Object.freeze([...confidences]),
    searchMaxLength,
    tiles,
    idPlaceholder,
    urls: Object.freeze(Object.fromEntries(URL_NAMES.map((name) => [name, urls[name]]))),
    page: Object.freeze({ ...page }),
  });
}

/** The settings of the page this script runs in (reads the DOM when called, not when imported). */
export function readPageConfig(doc = document) {
  const block = doc.getElementById("page-config");
  if (!block) fail("no #page-config block in the page");
  return parsePageConfig(block.textContent);
}

/** The address of an event's own page. */
export const eventPageUrl = (config, id) => config.urls.eventPage.replace(config.idPlaceholder, encodeURIComponent(id));

/** The API address of one event. */
export const eventUrl = (config, id) => `${config.urls.events}/${encodeURIComponent(id)}`;
