// The page's settings from the server: read when well formed, refused with a reason when not.
import assert from "node:assert/strict";
import { test } from "node:test";

import { eventPageUrl, eventUrl, parsePageConfig } from "../../static/js/shared/config.js";

// What timeline/web/page_config.py writes (tests/web/test_pages.py checks that it does).
const GOOD = {
  defaultView: { centre: [51.4, 35.4], zoom: 7 },
  maxZoom: 18,
  confidences: ["confirmed", "reported", "claimed"],
  searchMaxLength: 200,
  tiles: false,
  idPlaceholder: "__ID__",
  urls: {
    events: "/api/events",
    clusters: "/api/clusters",
    density: "/api/density",
    categories: "/api/categories",
    eventPage: "/events/__ID__",
    embed: "/embed",
    home: "/",
    basemap: "/static/basemap/",
    places: "/api/places",
    placeLabels: "/api/places/labels",
    placeReverse: "/api/places/reverse",
    regions: "/api/regions",
  },
  page: { mapVariable: "map_abc" },
};
const text = (changes) => JSON.stringify({ ...GOOD, ...changes });

test("a well-formed config is read as it was written, and cannot be changed", () => {
  const config = parsePageConfig(JSON.stringify(GOOD));
  assert.deepEqual(config, GOOD);
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.urls) && Object.isFrozen(config.defaultView.centre));
  assert.throws(() => {
    config.urls.events = "/elsewhere"; // modules are strict: writing a frozen property throws
  }, TypeError);
});

test("page values are optional", () => {
  const { page, ...shared } = GOOD;
  assert.deepEqual(parsePageConfig(JSON.stringify(shared)).page, {});
  assert.equal(page.mapVariable, "map_abc");
});

test("what is not a config is refused, naming what is wrong", () => {
  assert.throws(() => parsePageConfig("<html>"), /not JSON/);
  assert.throws(() => parsePageConfig("null"), /not an object/);
  assert.throws(() => parsePageConfig(text({ defaultView: { centre: [51.4], zoom: 7 } })), /defaultView\.centre/);
  assert.throws(() => parsePageConfig(text({ defaultView: { centre: ["51.4", 35.4], zoom: 7 } })), /defaultView\.centre/);
  assert.throws(() => parsePageConfig(text({ defaultView: { centre: [95, 35.4], zoom: 7 } })), /outside the world/);
  assert.throws(() => parsePageConfig(text({ defaultView: { centre: [51.4, 35.4] } })), /defaultView\.zoom/);
  assert.throws(() => parsePageConfig(text({ maxZoom: 5 })), /maxZoom/);
  assert.throws(() => parsePageConfig(text({ confidences: [] })), /confidences/);
  assert.throws(() => parsePageConfig(text({ searchMaxLength: 0 })), /searchMaxLength/);
  assert.throws(() => parsePageConfig(text({ tiles: "off" })), /tiles/);
  const { basemap, ...noBasemap } = GOOD.urls;
  assert.equal(basemap, "/static/basemap/");
  assert.throws(() => parsePageConfig(text({ urls: noBasemap })), /urls\.basemap missing/);
  assert.throws(() => parsePageConfig(text({ urls: { ...GOOD.urls, eventPage: "/events/" } })), /no place for the id/);
});

test("event addresses carry the id encoded", () => {
  const config = parsePageConfig(JSON.stringify(GOOD));
  assert.equal(eventPageUrl(config, "kursk-2024/a b?"), "/events/kursk-2024%2Fa%20b%3F");
  assert.equal(eventUrl(config, "ev-1"), "/api/events/ev-1");
});

test("URLs the server did not name are not passed on", () => {
  const config = parsePageConfig(text({ urls: { ...GOOD.urls, extra: "/x" } }));
  assert.equal("extra" in config.urls, false);
});
