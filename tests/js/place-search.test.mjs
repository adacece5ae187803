import assert from "node:assert/strict";
import test from "node:test";

import { nextActive, optionText, placeZoom } from "../../static/js/shared/place-search.js";

test("an option names the place, then its region and country when they add anything", () => {
  assert.equal(optionText({ label: "Sudzha", region: "Kursk Oblast", country_label: "Russia" }), "Sudzha, Kursk Oblast, Russia");
  assert.equal(optionText({ label: "Kursk Oblast", region: null, country_label: "Russia" }), "Kursk Oblast, Russia");
  assert.equal(optionText({ label: "Russia", region: null, country_label: "Russia" }), "Russia");
  assert.equal(optionText({ name: "Pyongyang" }), "Pyongyang");
});

test("the arrow keys walk the options and wrap at both ends; Home and End jump", () => {
  assert.equal(nextActive(-1, 3, "ArrowDown"), 0);
  assert.equal(nextActive(2, 3, "ArrowDown"), 0);
  assert.equal(nextActive(0, 3, "ArrowUp"), 2);
  assert.equal(nextActive(-1, 3, "ArrowUp"), 2);
  assert.equal(nextActive(1, 3, "Home"), 0);
  assert.equal(nextActive(0, 3, "End"), 2);
  assert.equal(nextActive(-1, 0, "ArrowDown"), -1);
});

test("a chosen place is shown at a zoom that fits what it is", () => {
  assert.ok(placeZoom({ kind: "country" }) < placeZoom({ kind: "region" }));
  assert.ok(placeZoom({ kind: "region" }) < placeZoom({ kind: "city", population: 2_000_000 }));
  assert.ok(placeZoom({ kind: "city", population: 2_000_000 }) < placeZoom({ kind: "city", population: 5_000 }));
  assert.equal(placeZoom({ kind: "custom" }), placeZoom({ kind: "city", population: 0 }));
});
