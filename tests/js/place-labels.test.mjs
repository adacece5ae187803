import assert from "node:assert/strict";
import test from "node:test";

import { keepUnoverlapped, labelLanguage, labelQuery, LEAFLET_PREFIX, PLACE_ATTRIBUTION } from "../../static/js/shared/place-labels.js";

const box = (left, top, width = 40, height = 14) => ({ left, top, right: left + width, bottom: top + height });

test("a name that would overlap a more important one is left out, the rest are kept in order", () => {
  const boxes = [box(0, 0), box(20, 5), box(100, 0), box(30, 40), box(110, 2)];
  assert.deepEqual(keepUnoverlapped(boxes), [0, 2, 3]);
});

test("names closer than the gap count as overlapping; with no gap they may touch", () => {
  const boxes = [box(0, 0), box(42, 0)];
  assert.deepEqual(keepUnoverlapped(boxes, 3), [0]);
  assert.deepEqual(keepUnoverlapped(boxes, 0), [0, 1]);
});

test("the asked bbox is snapped outward to a tile's width, so small pans ask for the same one", () => {
  const a = labelQuery({ west: 28.41, south: 48.62, east: 42.37, north: 54.08 }, 7);
  const b = labelQuery({ west: 28.6, south: 48.7, east: 42.2, north: 54.0 }, 7.2);
  assert.deepEqual(a, b);
  assert.equal(a.zoom, 7);
  const [w, s, e, n] = a.bbox;
  assert.ok(w <= 28.41 && s <= 48.62 && e >= 42.37 && n >= 54.08);
  assert.ok(e - w < 14 + 2 * (360 / 128));
});

test("a view wider than the world asks for the whole world, within its bounds", () => {
  assert.deepEqual(labelQuery({ west: -250, south: -95, east: 250, north: 95 }, 1).bbox, [-180, -90, 180, 90]);
});

test("names are asked in the page's language when the gazetteer has it, else English", () => {
  const page = (lang) => ({ documentElement: { lang } });
  assert.equal(labelLanguage(page("de")), "de");
  assert.equal(labelLanguage(page("uk-UA")), "uk");
  assert.equal(labelLanguage(page("fr")), "en");
});

test("the credit names GeoNames' licence and Natural Earth, and Leaflet's prefix carries no flag", () => {
  assert.match(PLACE_ATTRIBUTION, /GeoNames.*CC BY 4\.0.*Natural Earth/);
  assert.doesNotMatch(LEAFLET_PREFIX, /svg|flag|\u{1F1FA}/u);
});
