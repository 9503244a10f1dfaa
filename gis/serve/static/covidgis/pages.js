/* The scripts of the OGC API's HTML pages (gis/serve/templates), served from our static files so that a
   Content-Security-Policy can forbid inline script. Data arrive in <script type="application/json"> blocks
   (templates/_json.html), and every value from the data reaches the page as text (textContent, DOM nodes),
   never as HTML: a facility's name is whatever a business typed when it registered. */
(function () {
  'use strict';

  /** The value of a JSON data block: a JSON string holding pygeoapi's JSON, hence the two parses. */
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(JSON.parse(el.textContent)) : null;
  }

  /** A Leaflet map with the configured basemap (offline, its tiles just fail and the data still show). */
  function makeMap(elementId, mapOptions, tileOptions) {
    var map = L.map(elementId, mapOptions || {});
    var base = data('cg-basemap');
    if (base && base.url) {
      map.addLayer(L.tileLayer(base.url, Object.assign({maxZoom: 18, attribution: base.attribution}, tileOptions)));
    }
    return map;
  }

  function fit(map, bounds, maxZoom) {
    if (bounds.isValid()) {
      map.fitBounds(bounds, {maxZoom: maxZoom});
    } else {
      map.setView([0, 0], 1);
    }
  }

  /** The popup of a feature in a list: a link to its page, labelled with its title (or id) as text. */
  function itemLink(itemsPath, feature, titleField) {
    var title = titleField && feature.properties ? feature.properties[titleField] : null;
    var link = document.createElement('a');
    link.href = itemsPath + '/' + encodeURIComponent(String(feature.id)) + '?f=html';
    link.textContent = String(title !== null && title !== undefined ? title : feature.id);
    var span = document.createElement('span');
    span.appendChild(link);
    return span;
  }

  function itemsPage() {
    var cfg = data('cg-items');
    if (!cfg) return;
    var map = makeMap('items-map');
    var items = L.geoJSON(cfg.features, {
      onEachFeature: function (feature, layer) {
        layer.bindPopup(function () { return itemLink(cfg.itemsPath, feature, cfg.titleField); });
      }
    });
    var markers = L.markerClusterGroup({disableClusteringAtZoom: 9, chunkedLoading: true, chunkInterval: 500});
    markers.addLayer(items);
    map.addLayer(markers);
    fit(map, items.getBounds());
  }

  function itemPage() {
    var feature = data('cg-item');
    if (!feature) return;
    var map = makeMap('items-map');
    var item = L.geoJSON(feature);
    map.addLayer(item);
    fit(map, item.getBounds(), 15);
  }

  /** The collection's extent; Ctrl+drag draws a box and a click on it shows its bbox= parameter. */
  function collectionPage() {
    var cfg = data('cg-collection');
    if (!cfg) return;
    var map = makeMap('collection-map');
    cfg.wms.forEach(function (href) {
      L.tileLayer.wms(href, {opacity: 0.7, transparent: true, crs: L.CRS.EPSG4326}).addTo(map);
    });
    var b = cfg.bbox;
    var extent = L.polygon([[b[1], b[0]], [b[3], b[0]], [b[3], b[2]], [b[1], b[2]]]);
    map.addLayer(extent);
    fit(map, extent.getBounds(), 10);

    var firstCorner, box, drawing, drawn = false;
    function rectangle(options) { return L.rectangle([firstCorner, drawing], options); }
    map.on('mousedown', function (e) {
      if (e.originalEvent.ctrlKey) {
        if (box) map.removeLayer(box);
        map.dragging.disable();
        firstCorner = e.latlng;
        drawn = true;
      } else if (box && map.hasLayer(box) && !box.getBounds().contains(e.latlng)) {
        map.removeLayer(box);
      }
    });
    map.on('mousemove', function (e) {
      if (!drawn) return;
      if (box) map.removeLayer(box);
      drawing = e.latlng;
      box = rectangle({dashArray: '4 1', weight: 0.4}).addTo(map);
    });
    map.on('mouseup', function (e) {
      if (drawn && e.originalEvent.ctrlKey) {
        if (box) map.removeLayer(box);
        drawing = e.latlng;
        box = rectangle({color: '#ff7800', weight: 1}).addTo(map);
      }
      drawn = false;
      map.dragging.enable();
    });
    map.on('click', function () {
      if (box && map.hasLayer(box)) {
        L.popup({maxWidth: 'auto'}).setLatLng(box.getBounds().getCenter())
          .setContent(document.createTextNode('bbox=' + box.getBounds().toBBoxString())).addTo(map);
      }
    });
  }

  function tilesPage() {
    var cfg = data('cg-tiles');
    if (!cfg) return;
    var select = document.getElementById('tilingScheme');
    var scheme = new URLSearchParams(document.location.search).get('scheme') || select.value;
    if (scheme) {
      select.value = scheme;
      document.getElementById('metadata_link').href =
        cfg.collectionUrl + '/tiles/' + encodeURIComponent(scheme) + '/metadata';
    }
    select.addEventListener('change', function (ev) {
      var params = new URLSearchParams(document.location.search);
      params.set('scheme', ev.target.value);
      document.location.search = params.toString();
    });
    var crs84 = scheme === 'WorldCRS84Quad';
    var map = crs84
      ? makeMap('items-map', {crs: L.CRS.EPSG4326}, {maxZoom: cfg.maxzoom, tileSize: L.point(512, 256)})
      : makeMap('items-map', {}, {maxZoom: cfg.maxzoom});
    document.getElementById('tiles-projection-warning').hidden = !crs84;
    if (cfg.tilesUrl) {
      var url = cfg.tilesUrl.replace('{dataset}', cfg.id).replace('{tileMatrixSetId}', scheme)
        .replace('tileMatrix', 'z').replace('tileRow', 'y').replace('tileCol', 'x');
      if (cfg.tileType === 'raster') {
        map.addLayer(L.tileLayer(url, {maxZoom: cfg.maxzoom}));
      } else if (cfg.tileType === 'vector') {
        vectorTiles(map, url, cfg.maxzoom);
      }
    }
    var b = cfg.bounds;
    fit(map, L.latLngBounds([[b[1], b[0]], [b[3], b[2]]]), cfg.maxzoom);
  }

  /** Vector tiles drawn on a canvas; a click outlines the feature. */
  function vectorTiles(map, url, maxZoom) {
    function featureId(properties) { return properties.id || properties.fid || properties.uri; }
    var highlight = null;
    var layer = L.vectorGrid.protobuf(url, {
      interactive: true, rendererFactory: L.canvas.tile, maxZoom: maxZoom, indexMaxZoom: 5,
      getFeatureId: function (feature) { return featureId(feature.properties); }
    });
    function clear() {
      if (highlight) layer.resetFeatureStyle(highlight);
      highlight = null;
    }
    layer.on('click', function (e) {
      clear();
      highlight = featureId(e.layer.properties);
      layer.setFeatureStyle(highlight, {weight: 2, color: 'red', opacity: 1, fillColor: 'red', fill: false,
                                        radius: 6, fillOpacity: 1});
      L.DomEvent.stop(e);
    }).addTo(map);
    map.on('click', clear);
  }

  /** The page-size selector of the item and job lists: keeps the other query parameters, starts at the top. */
  function limits() {
    var select = document.getElementById('limits');
    if (!select) return;
    var params = new URLSearchParams(document.location.search);
    select.value = params.get('limit') || select.options[0].value;
    select.addEventListener('change', function (ev) {
      params.set('limit', ev.target.value);
      params.delete('offset');
      document.location.search = params.toString();
    });
  }

  window.CovidGis = {data: data};
  limits();
  itemsPage();
  itemPage();
  collectionPage();
  tilesPage();
}());
