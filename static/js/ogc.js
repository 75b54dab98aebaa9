// OGC API HTML pages: a small map of the features on the page (CRS84 GeoJSON from the
// #ogc-features block). The table on the page holds the same information without the map.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var node = document.getElementById("ogc-map");
    var data = document.getElementById("ogc-features");
    if (!node || !data || typeof window.L === "undefined") return;
    var map = L.map(node, { scrollWheelZoom: false, maxZoom: 19, zoomControl: false });
    // Leaflet's zoom buttons are named in English: here in the page's language.
    L.control.zoom({
      zoomInTitle: node.getAttribute("data-zoom-in"),
      zoomOutTitle: node.getAttribute("data-zoom-out"),
    }).addTo(map);
    map.attributionControl.setPrefix("Leaflet");
    var basemap = node.getAttribute("data-basemap");
    if (basemap) {
      L.tileLayer(basemap, { maxZoom: 19, attribution: node.getAttribute("data-attribution") }).addTo(map);
    }
    var layer = L.geoJSON(JSON.parse(data.textContent), {
      style: function () { return { color: "#154273", weight: 2, fillOpacity: 0.2 }; },
      pointToLayer: function (_feature, latlng) {
        return L.circleMarker(latlng, { radius: 6, color: "#154273", weight: 2, fillOpacity: 0.6 });
      },
    }).addTo(map);
    map.fitBounds(layer.getBounds(), { maxZoom: 18, padding: [12, 12] });
    node.setAttribute("data-features", String(layer.getLayers().length));
  });
})();
