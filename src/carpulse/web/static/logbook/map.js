// Logbook maps on the vendored Leaflet: a trip's track with its ends, or known places as circles.
// Tiles only when the page names a tile URL (data-tiles); without one the map is a plain background and
// makes no request to another host. A click on a places map fills the coordinates of the form it names.
(function () {
  "use strict";

  var ACCENT = "#0b5cad";
  var END = "#a3262a";

  function baseMap(element) {
    var map = L.map(element, { scrollWheelZoom: false, attributionControl: true });
    var tiles = element.getAttribute("data-tiles");
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19, attribution: element.getAttribute("data-attribution") || "" }).addTo(map);
    }
    return map;
  }

  function endMarker(latlng, colour, label) {
    return L.circleMarker(latlng, { radius: 8, color: "#ffffff", weight: 2, fillColor: colour, fillOpacity: 1 })
      .bindTooltip(label, { permanent: false });
  }

  function drawTrip(element) {
    var map = baseMap(element);
    map.setView([60.17, 24.94], 11);
    fetch(element.getAttribute("data-geojson"), { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("track " + response.status);
        }
        return response.json();
      })
      .then(function (collection) {
        var bounds = L.latLngBounds([]);
        collection.features.forEach(function (feature) {
          var geometry = feature.geometry;
          if (geometry.type === "LineString" && geometry.coordinates.length > 1) {
            var line = geometry.coordinates.map(function (pair) { return [pair[1], pair[0]]; });
            L.polyline(line, { color: ACCENT, weight: 5, opacity: 0.85, className: "trip-track" }).addTo(map);
            bounds.extend(line);
          } else if (geometry.type === "Point") {
            var latlng = [geometry.coordinates[1], geometry.coordinates[0]];
            var isStart = feature.properties.role === "start";
            endMarker(latlng, isStart ? ACCENT : END,
              element.getAttribute(isStart ? "data-start-label" : "data-end-label")).addTo(map);
            bounds.extend(latlng);
          }
        });
        if (bounds.isValid()) {
          map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16, animate: false });
        }
        element.setAttribute("data-drawn", "true");
      })
      .catch(function () {
        element.setAttribute("data-drawn", "failed");
      });
  }

  function drawPlaces(element) {
    var map = baseMap(element);
    var bounds = L.latLngBounds([]);
    var list = document.querySelector(element.getAttribute("data-places"));
    var items = list ? list.querySelectorAll("[data-lat]") : [];
    items.forEach(function (item) {
      var latlng = [parseFloat(item.getAttribute("data-lat")), parseFloat(item.getAttribute("data-lon"))];
      L.circle(latlng, { radius: parseFloat(item.getAttribute("data-radius")), color: ACCENT, weight: 2, className: "place-circle" })
        .bindTooltip(item.getAttribute("data-name"))
        .addTo(map);
      bounds.extend(latlng);
    });
    if (bounds.isValid()) {
      map.fitBounds(bounds.pad(0.3), { maxZoom: 16, animate: false });
    } else {
      map.setView([60.17, 24.94], 11);
    }
    var form = document.querySelector(element.getAttribute("data-pick"));
    var picked = null;
    if (form) {
      map.on("click", function (event) {
        var lat = event.latlng.lat.toFixed(6);
        var lon = event.latlng.lng.toFixed(6);
        form.querySelector("[name=lat]").value = lat;
        form.querySelector("[name=lon]").value = lon;
        if (picked) {
          map.removeLayer(picked);
        }
        picked = endMarker(event.latlng, END, lat + ", " + lon).addTo(map);
        var label = element.getAttribute("data-stations-label");
        if (label) {
          var link = document.createElement("a");
          link.href = "/logbook/stations?lat=" + lat + "&lon=" + lon;
          link.textContent = label;
          picked.bindPopup(link).openPopup();
        }
        var name = form.querySelector("[name=name]");
        if (name) {
          name.focus();
        }
      });
    }
    element.setAttribute("data-drawn", "true");
  }

  function ready() {
    if (typeof L === "undefined") {
      return;
    }
    document.querySelectorAll(".logbook-map[data-geojson]").forEach(drawTrip);
    document.querySelectorAll(".logbook-map[data-places]").forEach(drawPlaces);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
