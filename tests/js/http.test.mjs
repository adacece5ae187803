import { test } from "node:test";
import assert from "node:assert/strict";

import { getJSON, RETRIES } from "../../static/js/shared/http.js";

function answers(...statuses) {
  const asked = [];
  const fetcher = async (url) => {
    asked.push(url);
    const status = statuses[Math.min(asked.length - 1, statuses.length - 1)];
    return {
      ok: status < 300,
      status,
      headers: { get: (name) => (name === "Retry-After" && status === 429 ? "1" : null) },
      json: async () => ({ status }),
    };
  };
  return { fetcher, asked };
}

test("a 429 or 503 is asked again after Retry-After, then succeeds", async () => {
  const { fetcher, asked } = answers(429, 503, 200);
  const waits = [];
  const body = await getJSON("/api/events", { fetcher, sleep: async (ms) => waits.push(ms) });
  assert.deepEqual(body, { status: 200 });
  assert.equal(asked.length, 3);
  assert.deepEqual(waits, [1000, 500]); // Retry-After: 1 s; then the backoff for the second try
});

test("other errors, and a server that stays busy, fail", async () => {
  await assert.rejects(getJSON("/x", { fetcher: answers(404).fetcher, sleep: async () => {} }), /HTTP 404/);
  const busy = answers(503);
  await assert.rejects(getJSON("/x", { fetcher: busy.fetcher, sleep: async () => {} }), /HTTP 503/);
  assert.equal(busy.asked.length, RETRIES + 1);
});
