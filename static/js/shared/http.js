/*
 * One way to ask our own server for JSON: same-origin credentials (editors see drafts), an Accept
 * header the API and its error pages understand, and a failure for any answer that is not a 2xx.
 *
 * A 429 (this address has too many expensive requests running, as when a visitor unticks boxes
 * quickly) or a 503 (the database is busy) is asked again after the Retry-After it names, a few
 * times, before it counts as a failure: both say "not now", not "never".
 */

export const RETRIES = 3;
const MAX_WAIT_MS = 2000;

/** How long to wait before asking again: the answer's Retry-After (seconds), else a short backoff. */
export function retryDelay(response, attempt) {
  const header = Number(response.headers.get("Retry-After"));
  const ms = Number.isFinite(header) && header > 0 ? header * 1000 : 250 * 2 ** attempt;
  return Math.min(ms, MAX_WAIT_MS);
}

export async function getJSON(url, { fetcher = fetch, sleep = (ms) => new Promise((r) => setTimeout(r, ms)) } = {}) {
  for (let attempt = 0; ; attempt += 1) {
    const response = await fetcher(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (response.ok) return response.json();
    if ((response.status === 429 || response.status === 503) && attempt < RETRIES) {
      await sleep(retryDelay(response, attempt));
      continue;
    }
    throw new Error(`${url}: HTTP ${response.status}`);
  }
}
