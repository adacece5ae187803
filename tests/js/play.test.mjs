import assert from "node:assert/strict";
import test from "node:test";

import { playProgress, playStart } from "../../static/js/map/play.js";

const d = (text) => new Date(`${text}T00:00:00Z`);
const first = d("2022-02-01");
const last = d("2024-11-18");

test("Play from a window that already shows the end rewinds to the story's start", () => {
  const whole = { start: d("2022-01-01"), end: d("2024-12-01") };
  const begin = playStart(whole, first, last);
  assert.equal(begin.start.toISOString(), first.toISOString());
  const sixth = (last - first) / 6;
  assert.equal(begin.end - begin.start, sixth);
});

test("Play from a window with story left after it carries on from there", () => {
  const middle = { start: d("2024-08-01"), end: d("2024-09-01") };
  assert.equal(playStart(middle, first, last), middle);
});

test("a rewound window is at least two weeks long, even for a short story", () => {
  const begin = playStart({ start: d("2024-11-01"), end: d("2024-12-01") }, d("2024-11-01"), d("2024-11-08"));
  assert.equal(begin.end - begin.start, 14 * 86400000);
});

test("progress runs from 0 at the start to 1 at the end, by the window's end", () => {
  assert.equal(playProgress({ start: first, end: first }, first, last), 0);
  assert.equal(playProgress({ start: first, end: last }, first, last), 1);
  assert.equal(playProgress({ start: first, end: d("2030-01-01") }, first, last), 1);
  const half = new Date((first.getTime() + last.getTime()) / 2);
  assert.ok(Math.abs(playProgress({ start: first, end: half }, first, last) - 0.5) < 1e-9);
});
