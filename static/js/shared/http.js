/*
 * One way to ask our own server for JSON: same-origin credentials (editors see drafts), an Accept
 * header the API and its error pages understand, and a failure for any answer that is not a 2xx.
 */

export async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}
