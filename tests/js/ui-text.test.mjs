// Interface strings: placeholders filled, missing strings visible.
import assert from "node:assert/strict";
import { test } from "node:test";

import { translator } from "../../static/js/shared/ui-text.js";

const t = translator({ count: "%(visible)s von %(total)s Ereignissen", play: "Abspielen" });

test("placeholders are filled with the values given", () => {
  assert.equal(t("count", { visible: "5", total: "1.234" }), "5 von 1.234 Ereignissen");
  assert.equal(t("count", { visible: 0, total: 3 }), "0 von 3 Ereignissen");
});

test("a placeholder without a value is left empty, never 'undefined'", () => {
  assert.equal(t("count", { visible: "5" }), "5 von  Ereignissen");
  assert.equal(t("count"), " von  Ereignissen");
});

test("a string that is not there shows its key", () => {
  assert.equal(t("pause"), "pause");
  assert.equal(t("play"), "Abspielen");
});
