/* History page: draw each geometry change on a small map, before (dashed grey) and after (solid). */
(function () {
  "use strict";
  for (const box of document.querySelectorAll(".diff-map")) {
    const map = L.map(box, { zoomControl: false, attributionControl: false });
    const layers = [];
    const draw = (raw, style) => {
      const geometry = JSON.parse(raw);
      if (!geometry) return;
      layers.push(L.geoJSON(geometry, { style, pointToLayer: (f, ll) => L.circleMarker(ll, { ...style, radius: 6 }) }).addTo(map));
    };
    draw(box.dataset.old, { color: "#6b7280", dashArray: "4 4", weight: 2, className: "geometry-old" });
    draw(box.dataset.new, { color: "#b91c1c", weight: 3, className: "geometry-new" });
    const bounds = layers.reduce((b, l) => b.extend(l.getBounds()), L.latLngBounds([]));
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 12 });
  }
})();
