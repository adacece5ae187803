// The view in the address: written and read back unchanged, and links that cannot be read refused.
import assert from "node:assert/strict";
import { test } from "node:test";

import { NOTHING } from "../../static/js/shared/filters.js";
import { emptyView, linkTo, readView, viewQuery, withKnownCategories } from "../../static/js/shared/url-state.js";

const RULES = { confidences: ["confirmed", "reported", "claimed"], maxZoom: 18, searchMaxLength: 200 };
const MAP_VIEW = { z: 9, lat: 51.2, lon: 35.2 };

test("a view survives being written into a link and read back", () => {
  const view = {
    start: "2024-08-01",
    end: "2024-11-30",
    categories: ["offensive", "deployment"],
    confidences: ["confirmed"],
    q: "Sudzha & Kursk/Oblast",
    sel: "kursk-2024-ukrainian-held-area",
    vp: true,
    region: "RU-KRS",
    country: "",
  };
  const link = linkTo("/", view, MAP_VIEW);
  const read = readView(new URL(link, "http://example.test").search, RULES);
  assert.deepEqual(read.problems, []);
  assert.deepEqual(read.view, view);
  assert.deepEqual(read.mapView, MAP_VIEW);
});

test("the default view writes only the map view, and reads back as the default", () => {
  const query = viewQuery(emptyView(), { z: 7, lat: 51.4, lon: 35.4 });
  assert.equal(query, "map=7/51.4000/35.4000");
  assert.deepEqual(readView(`?${query}`, RULES).view, emptyView());
  assert.deepEqual(readView("", RULES), { view: emptyView(), mapView: null, problems: [] });
});

test("links keep commas and slashes readable", () => {
  const query = viewQuery({ ...emptyView(), categories: ["a", "b"] }, { z: 8, lat: 51.3, lon: -35.25 });
  assert.equal(query, "map=8/51.3000/-35.2500&cat=a,b");
});

test("a broken link is refused part by part, each part named, the rest kept", () => {
  const { view, mapView, problems } = readView("?map=99/abc/1&start=2024-02-30&end=2024-03-10&cat=offensive", RULES);
  assert.deepEqual(problems, ["start", "map"]);
  assert.equal(view.start, null);
  assert.equal(view.end, "2024-03-10");
  assert.deepEqual(view.categories, ["offensive"]);
  assert.equal(mapView, null);
});

test("a map view outside the world or the zoom range is refused", () => {
  for (const map of ["19/51/35", "-1/51/35", "7/91/35", "7/51/181", "7/51", "7/north/35"]) {
    const { mapView, problems } = readView(`?map=${map}`, RULES);
    assert.equal(mapView, null, map);
    assert.deepEqual(problems, ["map"], map);
  }
  assert.deepEqual(readView("?map=18/-90/-180", RULES).mapView, { z: 18, lat: -90, lon: -180 });
  assert.deepEqual(readView("?map=0/0/0", RULES).mapView, { z: 0, lat: 0, lon: 0 });
  // The zoom range is the server's: a smaller maxZoom refuses what 18 accepts.
  assert.deepEqual(readView("?map=12/51/35", { ...RULES, maxZoom: 10 }).problems, ["map"]);
});

test("a window that ends before it starts is refused whole", () => {
  const { view, problems } = readView("?start=2024-11-01&end=2024-10-01", RULES);
  assert.deepEqual(problems, ["start > end"]);
  assert.equal(view.start, null);
  assert.equal(view.end, null);
});

test("an unknown confidence level refuses the confidence filter", () => {
  const { view, problems } = readView("?conf=confirmed,rumoured", RULES);
  assert.deepEqual(problems, ["conf"]);
  assert.deepEqual(view.confidences, []);
  assert.deepEqual(readView("?conf=claimed,reported", RULES).view.confidences, ["claimed", "reported"]);
});

test("the text search is cut to the longest the API accepts", () => {
  const { view } = readView(`?q=${"x".repeat(250)}`, { ...RULES, searchMaxLength: 200 });
  assert.equal(view.q.length, 200);
});

test("only vp=1 limits the timeline to the map view", () => {
  assert.equal(readView("?vp=1", RULES).view.vp, true);
  assert.equal(readView("?vp=true", RULES).view.vp, false);
});

test("categories the story does not have are a problem of the link", () => {
  const read = readView("?cat=offensive,no-such-thing", RULES);
  const checked = withKnownCategories(read, new Set(["offensive", "diplomacy"]));
  assert.deepEqual(checked.problems, ["cat"]);
  assert.deepEqual(checked.view.categories, []);
  assert.deepEqual(read.view.categories, ["offensive", "no-such-thing"], "the view read is not changed");
  const known = withKnownCategories(readView("?cat=offensive", RULES), new Map([["offensive", {}]]));
  assert.deepEqual(known.problems, []);
  assert.deepEqual(known.view.categories, ["offensive"]);
  // Categories that could not be loaded check nothing.
  assert.deepEqual(withKnownCategories(read, new Set()).view.categories, ["offensive", "no-such-thing"]);
});

test("a filter that chose nothing survives the address, and its categories count as known", () => {
  const view = { ...emptyView(), categories: [NOTHING], confidences: [NOTHING] };
  const query = viewQuery(view, { z: 7, lat: 51.4, lon: 35.4 });
  assert.match(query, /cat=-/);
  assert.match(query, /conf=-/);
  const read = readView(`?${query}`, RULES);
  assert.deepEqual(read.problems, []);
  assert.deepEqual(read.view.categories, [NOTHING]);
  assert.deepEqual(read.view.confidences, [NOTHING]);
  assert.deepEqual(withKnownCategories(read, new Set(["offensive"])).problems, []);
  assert.deepEqual(readView("?cat=offensive,-", RULES).view.categories, [NOTHING]);
});

test("a region or country in a link is kept when the API could take it, else refused", () => {
  assert.equal(readView("?region=RU-KRS", RULES).view.region, "RU-KRS");
  assert.equal(readView("?country=Russian%20Federation", RULES).view.country, "Russian Federation");
  assert.equal(viewQuery({ ...emptyView(), country: "UA" }, MAP_VIEW), "map=9/51.2000/35.2000&country=UA");
  const bad = readView("?region=RU-KRS,UA-59&country=%3Cb%3E", RULES);
  assert.deepEqual(bad.problems, ["region", "country"]);
  assert.equal(bad.view.region, "");
  assert.equal(bad.view.country, "");
});
