// The API parameters a view asks for, and the checkbox rule "all ticked is no filter".
import assert from "node:assert/strict";
import { test } from "node:test";

import { NOTHING, bboxParam, chosenValues, choosesNothing, filterParams, inTimeWindow, isTicked, showsNothing } from "../../static/js/shared/filters.js";
import { emptyView } from "../../static/js/shared/url-state.js";

const VIEW = { ...emptyView(), start: "2024-08-01", end: "2024-08-31", categories: ["offensive", "deployment"], confidences: ["claimed"], q: "Sudzha" };

test("the default view asks for everything", () => {
  assert.equal(filterParams(emptyView()).toString(), "");
});

test("a view's filters become the API's parameters, categories and confidences repeated", () => {
  const params = filterParams(VIEW);
  assert.equal(params.get("start"), "2024-08-01");
  assert.equal(params.get("end"), "2024-08-31");
  assert.deepEqual(params.getAll("category"), ["offensive", "deployment"]);
  assert.deepEqual(params.getAll("confidence"), ["claimed"]);
  assert.equal(params.get("q"), "Sudzha");
  assert.equal(params.has("bbox"), false);
});

test("the timeline and density strip ask without the time window", () => {
  const params = filterParams(VIEW, { timeWindow: false });
  assert.equal(params.has("start"), false);
  assert.equal(params.has("end"), false);
  assert.deepEqual(params.getAll("category"), ["offensive", "deployment"]);
});

test("map bounds become a bbox, kept inside the world, to five decimals", () => {
  const params = filterParams(emptyView(), { bounds: { west: -200.123456, south: 50.1234567, east: 36.5, north: 95 } });
  assert.equal(params.get("bbox"), "-180.00000,50.12346,36.50000,90.00000");
  assert.equal(bboxParam({ west: 34, south: 50.5, east: 36.5, north: 52 }), "34.00000,50.50000,36.50000,52.00000");
});

test("every box ticked is no filter; some ticked choose those; none ticked chooses none", () => {
  assert.deepEqual(chosenValues(["a", "b", "c"], 3), []);
  assert.deepEqual(chosenValues(["a", "c"], 3), ["a", "c"]);
  assert.deepEqual(chosenValues([], 3), [NOTHING]); // nothing ticked shows nothing, not everything
  assert.equal(isTicked([], "a"), true);
  assert.equal(isTicked(["b"], "a"), false);
  assert.equal(isTicked(["a", "b"], "a"), true);
});

test("a filter with no box ticked ticks no box and makes the view show nothing", () => {
  const none = chosenValues([], 3);
  assert.equal(isTicked(none, "a"), false);
  assert.equal(choosesNothing(none), true);
  assert.equal(choosesNothing([]), false);
  assert.equal(showsNothing({ ...emptyView(), categories: none }), true);
  assert.equal(showsNothing({ ...emptyView(), confidences: none }), true);
  assert.equal(showsNothing({ ...emptyView(), categories: ["a"] }), false);
  assert.equal(showsNothing(emptyView()), false);
});

test("an event is in the time window when some day of its period is", () => {
  const august = { ...emptyView(), start: "2024-08-01", end: "2024-08-31" };
  const day = (start, end = null) => ({ start, end, date_precision: "day" });
  assert.equal(inTimeWindow(day("2024-08-01"), august), true);
  assert.equal(inTimeWindow(day("2024-08-31"), august), true);
  assert.equal(inTimeWindow(day("2024-07-31"), august), false);
  assert.equal(inTimeWindow(day("2024-09-01"), august), false);
  assert.equal(inTimeWindow(day("2024-07-01", "2024-08-01"), august), true);
  assert.equal(inTimeWindow({ start: "2024", end: null, date_precision: "year" }, august), true);
  assert.equal(inTimeWindow({ start: "2024-07", end: null, date_precision: "month" }, august), false);
  assert.equal(inTimeWindow({ start: "2024-09", end: null, date_precision: "month" }, { ...emptyView(), start: "2024-09-30" }), true);
  assert.equal(inTimeWindow(day("1999-01-01"), emptyView()), true);
});
