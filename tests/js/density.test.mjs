// The density strip's arithmetic: an uncertain date's weight spread over its period, and its axis.
import assert from "node:assert/strict";
import test from "node:test";

import { axisTicks, spreadWeeks, weekOf } from "../../static/js/map/density.js";
import { spreadOffsets } from "../../static/js/map/event-layer.js";

test("a day counts once, in the Monday-based week it falls in", () => {
  assert.deepEqual(spreadWeeks([{ start: "2024-08-06", end: null, date_precision: "day" }]), [{ start: "2024-08-05", count: 1 }]);
  assert.equal(new Date(weekOf(Date.UTC(2024, 7, 11))).toISOString().slice(0, 10), "2024-08-05");
});

test("a year's weight is spread over every week of it and still adds up to one event", () => {
  const weeks = spreadWeeks([{ start: "2023", end: null, date_precision: "year" }]);
  assert.equal(weeks.length, 53); // 2023 starts on a Sunday: its first day is in the week of 26 Dec 2022
  assert.ok(weeks[0].count < 0.01, "the first, one-day week holds only its share");
  assert.ok(Math.abs(weeks.reduce((n, w) => n + w.count, 0) - 1) < 1e-9);
});

test("a month-to-month span covers both months whole", () => {
  const weeks = spreadWeeks([{ start: "2024-10", end: "2024-11", date_precision: "month" }]);
  assert.equal(weeks[0].start, "2024-09-30");
  assert.equal(weeks[weeks.length - 1].start, "2024-11-25");
});

test("axis ticks fall on month starts and thin out to years for a long window", () => {
  const from = Date.UTC(2024, 0, 15);
  const { ticks } = axisTicks(from, Date.UTC(2024, 5, 15), 600);
  assert.deepEqual(ticks.map((t) => new Date(t).toISOString().slice(0, 7)), ["2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]);
  const long = axisTicks(Date.UTC(2010, 0, 1), Date.UTC(2024, 0, 1), 300);
  assert.ok(long.yearsOnly && long.ticks.every((t) => new Date(t).getUTCMonth() === 0));
});

test("coincident events fan out to distinct places around their point", () => {
  const spots = spreadOffsets(3).map((p) => p.join(","));
  assert.equal(new Set(spots).size, 3);
  assert.deepEqual(spreadOffsets(1), [[0, -26]]);
});
