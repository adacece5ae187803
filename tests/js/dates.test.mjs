// Dates at their precision: what the list, details and density strip show, and which links' dates are read.
import assert from "node:assert/strict";
import { test } from "node:test";

import { DAY, afterLastDay, dateFormat, firstDay, isIsoDay, isoDay } from "../../static/js/shared/dates.js";

test("firstDay reads a year, a month or a day as its first day, in UTC", () => {
  assert.equal(firstDay("2024").toISOString(), "2024-01-01T00:00:00.000Z");
  assert.equal(firstDay("2024-10").toISOString(), "2024-10-01T00:00:00.000Z");
  assert.equal(firstDay("2024-10-05").toISOString(), "2024-10-05T00:00:00.000Z");
});

test("firstDay keeps years below 100 (Date.UTC would read 0050 as 1950)", () => {
  assert.equal(firstDay("0050-03").getUTCFullYear(), 50);
});

test("afterLastDay is the exclusive end of the period an ISO date covers", () => {
  assert.equal(isoDay(afterLastDay("2024", "year")), "2025-01-01");
  assert.equal(isoDay(afterLastDay("2024-12", "month")), "2025-01-01");
  assert.equal(isoDay(afterLastDay("2024-02", "month")), "2024-03-01");
  assert.equal(isoDay(afterLastDay("2024-02-28", "day")), "2024-02-29"); // a leap year
  assert.equal(afterLastDay("2024-10-05", "day") - firstDay("2024-10-05"), DAY);
});

test("isIsoDay accepts real calendar days only", () => {
  assert.ok(isIsoDay("2024-02-29"));
  for (const bad of ["2023-02-29", "2024-02-30", "2024-13-01", "2024-10", "2024-1-05", "24-10-05", " 2024-10-05", "", null]) {
    assert.equal(isIsoDay(bad), false, String(bad));
  }
});

test("dates are formatted at their precision, in the page's language", () => {
  const en = dateFormat("en");
  const de = dateFormat("de");
  assert.equal(en.date("2024-10-05", "day"), "Oct 5, 2024");
  assert.equal(en.date("2024-10", "month"), "October 2024");
  assert.equal(de.date("2024-10", "month"), "Oktober 2024");
  assert.equal(en.date("2024", "year"), "2024");
  // A month-precise date shows no day, even though it is stored as its first day.
  assert.doesNotMatch(en.date("2024-10", "month"), /\b1\b/);
  // An unknown precision is shown as a day rather than not at all.
  assert.equal(en.date("2024-10-05", "week"), "Oct 5, 2024");
});

test("an event's date is its start, or its range with both ends at the event's precision", () => {
  const { when } = dateFormat("en");
  assert.equal(when({ start: "2024-08-06", end: null, date_precision: "day" }), "Aug 6, 2024");
  assert.equal(when({ start: "2024-08", end: "2024-11", date_precision: "month" }), "August 2024 – November 2024");
});

test("a day stays that day in a time zone west of UTC", () => {
  // Dates are midnight UTC; formatted in the visitor's own zone, 31 December would show as the 30th.
  const zone = process.env.TZ;
  process.env.TZ = "America/Los_Angeles";
  try {
    assert.equal(dateFormat("en").date("2024-12-31", "day"), "Dec 31, 2024");
    assert.equal(dateFormat("en").date("2025-01", "month"), "January 2025");
  } finally {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  }
});
