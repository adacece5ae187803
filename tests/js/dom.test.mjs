// The parts of the DOM helpers that need no document: which links may be drawn, and debouncing.
import assert from "node:assert/strict";
import { mock, test } from "node:test";

import { debounce, safeUrl } from "../../static/js/shared/dom.js";

test("only absolute http(s) URLs become links", () => {
  assert.equal(safeUrl("https://example.org/report?a=1"), "https://example.org/report?a=1");
  assert.equal(safeUrl("http://kremlin.ru"), "http://kremlin.ru/");
  for (const bad of ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>", "/relative", "example.org", "", null, 42]) {
    assert.equal(safeUrl(bad), null, String(bad));
  }
});

test("a debounced function runs once, with the last arguments, after calls stop", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const calls = [];
    const later = debounce((value) => calls.push(value), 300);
    later("S");
    mock.timers.tick(200);
    later("Su");
    mock.timers.tick(299);
    assert.deepEqual(calls, []);
    mock.timers.tick(1);
    assert.deepEqual(calls, ["Su"]);
  } finally {
    mock.timers.reset();
  }
});
