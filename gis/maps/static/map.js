/* covid-gis live risk map: zones coloured by level with a legend counting units per colour, a level selector,
   a date control, layers to toggle, "Vùng của tôi" (name search or location), live revalidation of the zones
   (If-None-Match every refreshSeconds, redraw on a new snapshot) and sign-in for restricted layers.
   Vietnamese first, English by a toggle. Page parameters: level, date, lang, refresh (seconds), basemap=0.
   The server's configuration is the JSON data block #cg-config. The page runs under a Content-Security-Policy without
   'unsafe-inline': no inline script or style attribute in any markup built here (colours go on through element.style). */
(function () {
  'use strict';

  var T = {
    vi: {
      title: 'Bản đồ cấp độ dịch COVID-19', toggle: 'English', level: 'Cấp hiển thị', date: 'Ngày',
      latest: 'Mới nhất', layers: 'Lớp bản đồ', quarantine: 'Khu cách ly tập trung',
      sites: 'Điểm xét nghiệm và tiêm chủng', essential: 'Điểm cung ứng hàng thiết yếu',
      'data-quality': 'Lỗi dữ liệu ranh giới', basemap: 'Nền OpenStreetMap', offline: 'Không có bản đồ nền (ngoại tuyến)',
      myZone: 'Vùng của tôi', searchPlaceholder: 'Tên ấp, xã, phường… (vd: bien hoa)', useLocation: 'Dùng vị trí của tôi',
      noResults: 'Không tìm thấy', locating: 'Đang xác định vị trí…', locateFailed: 'Không xác định được vị trí',
      legend: 'Chú giải', units: 'đơn vị', noZone: 'Chưa có dữ liệu', dataOf: 'Số liệu ngày', snapshot: 'phiên bản',
      checked: 'kiểm tra lúc', ruleset: 'Bộ tiêu chí', decisive: 'Chỉ số quyết định', reasons: 'Lý do', measures: 'Biện pháp theo cấp độ', measureOpen: 'chưa xác minh',
      history: 'ngày gần nhất', adminLevel: 'Cấp hành chính', zoneLevel: 'Cấp độ dịch', parent: 'Thuộc',
      overridden: 'Cấp độ do Ban Chỉ đạo quyết định', suppressed: 'Số liệu nhỏ được ẩn để bảo vệ quyền riêng tư',
      signIn: 'Đăng nhập (lớp hạn chế)', token: 'Mã truy cập', signInBtn: 'Đăng nhập', signOut: 'Đăng xuất',
      denied: 'Mã không hợp lệ hoặc không có quyền xem lớp hạn chế', signedIn: 'Đã đăng nhập',
      restricted: 'Lớp hạn chế', 'quarantine-facilities': 'Khu cách ly (công suất, đang cách ly)',
      cases: 'Ca bệnh F0 (ẩn danh)', indicators: 'Chỉ số theo ngày', loading: 'Đang tải…', error: 'Lỗi tải dữ liệu',
      loi: 'Địa điểm F0 đã đến', window: 'Khung giờ', exposure: 'Mức phơi nhiễm', close: 'tiếp xúc gần',
      casual: 'có nguy cơ tiếp xúc', advice: 'Khuyến cáo', place: 'Địa bàn', localTime: 'giờ Việt Nam',
      'exposure-venues': 'Địa điểm phơi nhiễm (theo số người tiếp xúc)', day: 'Ngày', f0: 'Số F0',
      contacts: 'Người tiếp xúc', closeContacts: 'tiếp xúc gần', visitors: 'Lượt người quét mã', status: 'Trạng thái',
      published: 'đã công bố', below_threshold: 'chưa đủ người để công bố', not_public: 'không công bố (báo trực tiếp)',
      withdrawn: 'đã gỡ bỏ'
    },
    en: {
      title: 'COVID-19 risk level map', toggle: 'Tiếng Việt', level: 'Units shown', date: 'Date',
      latest: 'Latest', layers: 'Layers', quarantine: 'Quarantine areas', sites: 'Testing and vaccination sites',
      essential: 'Essential-goods points', 'data-quality': 'Boundary data problems', basemap: 'OpenStreetMap basemap',
      offline: 'No basemap (offline)', myZone: 'My zone', searchPlaceholder: 'Hamlet, commune, ward… (e.g. bien hoa)',
      useLocation: 'Use my location', noResults: 'Nothing found', locating: 'Finding your location…',
      locateFailed: 'Could not find your location', legend: 'Legend', units: 'units', noZone: 'No data',
      dataOf: 'Data of', snapshot: 'version', checked: 'checked at', ruleset: 'Rule set',
      decisive: 'Decisive indicators', reasons: 'Reasons', measures: 'Measures at this level', measureOpen: 'not verified', history: 'last days', adminLevel: 'Administrative level',
      zoneLevel: 'Risk level', parent: 'Part of', overridden: 'Level set by the steering committee',
      suppressed: 'Small counts are hidden to protect privacy', signIn: 'Sign in (restricted layers)',
      token: 'Access token', signInBtn: 'Sign in', signOut: 'Sign out',
      denied: 'Invalid token, or not allowed to see restricted layers', signedIn: 'Signed in',
      restricted: 'Restricted layers', 'quarantine-facilities': 'Quarantine facilities (capacity, occupancy)',
      cases: 'Confirmed cases (pseudonymised)', indicators: 'Daily indicators', loading: 'Loading…',
      error: 'Could not load data', loi: 'Locations of interest', window: 'Time window', exposure: 'Exposure type',
      close: 'close', casual: 'casual', advice: 'Advice', place: 'Area', localTime: 'Vietnam time',
      'exposure-venues': 'Exposure venues (by contacts)', day: 'Day', f0: 'F0', contacts: 'Contacts',
      closeContacts: 'close', visitors: 'People who checked in', status: 'Status', published: 'published',
      below_threshold: 'too few people to publish', not_public: 'not public (notified directly)',
      withdrawn: 'withdrawn'
    }
  };
  var INDICATORS = {
    community_cases_7d_per_100k: ['Ca cộng đồng 7 ngày / 100.000 dân', 'Community cases in 7 days per 100,000'],
    community_cases_7d: ['Ca cộng đồng 7 ngày', 'Community cases in 7 days'],
    coverage_18plus_1dose: ['Tỷ lệ người ≥18 tuổi tiêm ≥1 mũi', 'Share of adults (18+) with ≥1 dose'],
    coverage_50plus_full: ['Tỷ lệ người ≥50 tuổi tiêm đủ liều', 'Share of 50+ fully vaccinated'],
    coverage_65plus_full: ['Tỷ lệ người ≥65 tuổi tiêm đủ liều', 'Share of 65+ fully vaccinated'],
    treatment_capacity_met: ['Đáp ứng năng lực điều trị', 'Treatment capacity met'],
    cases_7d: ['Ca mắc 7 ngày', 'Cases in 7 days'], cases_14d: ['Ca mắc 14 ngày', 'Cases in 14 days'],
    adjacent_max_level: ['Cấp cao nhất của đơn vị giáp ranh', 'Highest level of a neighbouring unit'],
    previous_level: ['Cấp độ hôm trước', 'Previous level']
  };
  var POINT_COLOURS = {quarantine: '#6a3d9a', testing: '#1f78b4', vaccination: '#33a02c', essential_goods: '#b15928'};
  var OVERLAYS = ['loi', 'quarantine', 'sites', 'essential', 'data-quality'];
  var EXPOSURE_COLOURS = {published: '#d7301f', below_threshold: '#fc8d59', not_public: '#6a3d9a', withdrawn: '#999999'};

  var cfg, map, params = new URLSearchParams(window.location.search);
  var state = {
    lang: params.get('lang') === 'en' ? 'en' : 'vi',
    level: null,  // from the page parameter once the configuration (which names the levels) is read
    date: params.get('date') || null,  // null: the latest day, following new snapshots
    day: null, snapshot: null, etag: null, etagKey: null, zones: {}, counts: {},
    geometry: {}, zonesLayer: null, layersByCode: {}, overlays: {}, restricted: {}, token: null,
    popup: null, myZone: null, redraws: 0, checks: 0, checkedAt: null, firstPaintMs: null, meta: null,
    basemap: null, basemapOn: false
  };

  function t(key) { var v = T[state.lang][key]; return v === undefined ? key : v; }
  function el(id) { return document.getElementById(id); }
  function esc(s) {
    return String(s === null || s === undefined ? '' : s).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }
  // Swatches carry their colour as data-swatch in the markup; the policy refuses style attributes in parsed HTML but
  // not the CSSOM, so the colour is set on the element once the markup is in place.
  function paint(root) {
    root.querySelectorAll('[data-swatch]').forEach(function (n) { n.style.background = n.dataset.swatch; });
    return root;
  }
  function setHtml(node, html) { node.innerHTML = html; return paint(node); }
  function fmtDay(iso) {
    if (!iso) return '—';
    var p = iso.split('-');
    return state.lang === 'vi' ? p[2] + '/' + p[1] + '/' + p[0] : iso;
  }
  function fmtValue(v) {
    if (v === null || v === undefined) return '—';
    if (typeof v === 'boolean') return state.lang === 'vi' ? (v ? 'có' : 'không') : (v ? 'yes' : 'no');
    if (typeof v === 'number') {
      var s = Math.abs(v) < 1 && v !== 0 ? v.toFixed(3) : (Math.round(v * 10) / 10).toString();
      return state.lang === 'vi' ? s.replace('.', ',') : s;
    }
    return String(v);
  }
  function levelDef(level) {
    for (var i = 0; i < cfg.levels.length; i++) if (cfg.levels[i].level === level) return cfg.levels[i];
    return null;
  }
  // Administrative levels come from the configuration (gis/levels.py), by number: 1 province … 4 hamlet.
  function adminLevels() { return Object.keys(cfg.adminLevels.vi).map(Number); }
  function adminName(level) {
    var name = cfg.adminLevels[state.lang][level] || '';
    return name.charAt(0).toUpperCase() + name.slice(1);
  }
  function hexOf(colour) { return cfg.colours[colour] ? cfg.colours[colour].hex : cfg.noZone; }
  function label(obj) { return obj ? obj['label_' + state.lang] : t('noZone'); }

  function getJSON(url, headers) {
    return fetch(url, {headers: headers || {}, cache: 'no-cache', credentials: 'same-origin'}).then(function (r) {
      if (!r.ok) throw new Error(url + ': ' + r.status);
      return r.json();
    });
  }

  // --- controls ------------------------------------------------------------------------------------------------
  function panelHtml() {
    var levels = adminLevels().map(function (l) {
      return '<option value="' + l + '"' + (l === state.level ? ' selected' : '') + ' data-i18n-level="' + l + '"></option>';
    }).join('');
    var layers = OVERLAYS.map(function (name) {
      return '<label class="cg-check"><input type="checkbox" id="cg-layer-' + name + '" data-layer="' + name + '"> ' +
        '<span data-i18n="' + name + '"></span></label>';
    }).join('');
    return '<div class="cg-head"><strong data-i18n="title"></strong>' +
      '<button type="button" id="cg-lang" class="cg-lang" data-i18n="toggle"></button></div>' +
      '<div class="cg-row"><label for="cg-level" data-i18n="level"></label><select id="cg-level">' + levels + '</select></div>' +
      '<div class="cg-row"><label for="cg-date" data-i18n="date"></label><input type="date" id="cg-date">' +
      '<button type="button" id="cg-latest" data-i18n="latest"></button></div>' +
      '<fieldset><legend data-i18n="layers"></legend>' + layers +
      '<label class="cg-check" id="cg-basemap-row" hidden><input type="checkbox" id="cg-basemap"> <span data-i18n="basemap"></span></label>' +
      '<div id="cg-restricted-layers"></div></fieldset>' +
      '<fieldset><legend data-i18n="myZone"></legend>' +
      '<input type="search" id="cg-search" autocomplete="off" data-i18n-placeholder="searchPlaceholder">' +
      '<button type="button" id="cg-locate" data-i18n="useLocation"></button>' +
      '<ul id="cg-results" class="cg-results"></ul><div id="cg-myzone" class="cg-myzone"></div></fieldset>' +
      '<details id="cg-signin-box"><summary data-i18n="signIn"></summary><form id="cg-signin-form">' +
      '<input type="text" name="username" value="token" autocomplete="username" hidden>' +
      '<input type="password" id="cg-token" autocomplete="current-password" data-i18n-placeholder="token">' +
      '<button type="submit" id="cg-signin" data-i18n="signInBtn"></button></form>' +
      '<button type="button" id="cg-signout" data-i18n="signOut" hidden></button>' +
      '<div id="cg-signin-msg" class="cg-msg"></div></details>' +
      '<div id="cg-status" class="cg-status"></div>';
  }

  function addControls() {
    var Panel = L.Control.extend({
      onAdd: function () {
        var div = L.DomUtil.create('div', 'cg-panel leaflet-bar');
        div.innerHTML = panelHtml();
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      }
    });
    var Legend = L.Control.extend({
      onAdd: function () {
        var div = L.DomUtil.create('div', 'cg-legend leaflet-bar');
        div.id = 'cg-legend';
        return div;
      }
    });
    new Panel({position: 'topright'}).addTo(map);
    new Legend({position: 'bottomright'}).addTo(map);
    el('cg-lang').addEventListener('click', function () {
      state.lang = state.lang === 'vi' ? 'en' : 'vi';
      translate();
    });
    el('cg-level').addEventListener('change', function (e) { showLevel(Number(e.target.value)); });
    el('cg-date').addEventListener('change', function (e) {
      state.date = e.target.value || null;
      loadZones();
    });
    el('cg-latest').addEventListener('click', function () { state.date = null; loadZones(); });
    OVERLAYS.forEach(function (name) {
      el('cg-layer-' + name).addEventListener('change', function (e) { toggleOverlay(name, e.target.checked); });
    });
    el('cg-basemap').addEventListener('change', function (e) {
      if (e.target.checked) state.basemap.addTo(map); else map.removeLayer(state.basemap);
    });
    var timer = null;
    el('cg-search').addEventListener('input', function (e) {
      clearTimeout(timer);
      timer = setTimeout(function () { search(e.target.value); }, 250);
    });
    el('cg-locate').addEventListener('click', locateMe);
    el('cg-signin-form').addEventListener('submit', function (e) { e.preventDefault(); signIn(); });
    el('cg-signout').addEventListener('click', signOut);
  }

  function translate() {
    document.documentElement.lang = state.lang;
    document.querySelectorAll('[data-i18n]').forEach(function (n) { n.textContent = t(n.dataset.i18n); });
    document.querySelectorAll('[data-i18n-placeholder]').forEach(function (n) { n.placeholder = t(n.dataset.i18nPlaceholder); });
    document.querySelectorAll('[data-i18n-level]').forEach(function (n) { n.textContent = adminName(n.dataset.i18nLevel); });
    renderLegend();
    renderStatus();
    if (state.popup) state.popup.popup.setContent(zoneNode(state.popup.zone));
    if (state.myZone) renderMyZone(state.myZone);
  }

  // --- zones ---------------------------------------------------------------------------------------------------
  function styleFor(feature) {
    var z = state.zones[feature.properties.code];
    return {
      color: '#444', weight: state.level >= 4 ? 0.4 : state.level === 3 ? 0.7 : 1.2, opacity: 0.8,
      fillColor: z ? hexOf(z[1]) : cfg.noZone, fillOpacity: 0.72,
      className: 'cg-zone cg-zone-' + feature.properties.code
    };
  }

  function showLevel(level) {
    state.level = level;
    el('cg-level').value = String(level);
    var load = state.geometry[level] ? Promise.resolve(state.geometry[level])
      : getJSON(cfg.api + '/areas?level=' + level).then(function (g) { state.geometry[level] = g; return g; });
    return Promise.all([load, loadZones(true, false)]).then(function (r) {
      if (state.zonesLayer) map.removeLayer(state.zonesLayer);
      state.layersByCode = {};
      state.zonesLayer = L.geoJSON(r[0], {
        style: styleFor,
        onEachFeature: function (f, layer) {
          state.layersByCode[f.properties.code] = layer;
          layer.on('click', function (e) { openZone(f.properties.code, e.latlng); });
        }
      }).addTo(map);
      state.zonesLayer.bringToBack();
      if (!state.fitted && r[0].features.length) {
        map.fitBounds(state.zonesLayer.getBounds(), {animate: false});
        state.fitted = true;
      }
      state.redraws += 1;
      afterPaint();
    });
  }

  function afterPaint() {
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        if (state.firstPaintMs === null) state.firstPaintMs = performance.now();
        document.body.dataset.cgReady = '1';
        document.body.dataset.cgDay = state.day || '';
        document.body.dataset.cgSnapshot = String(state.snapshot);
        document.body.dataset.cgLevel = String(state.level);
      });
    });
  }

  // Revalidate the zones of the level and day shown; redraw only when the server sends a new version.
  function loadZones(force, redraw) {
    var key = state.level + '|' + (state.date || 'latest');
    var headers = {};
    if (!force && state.etag && state.etagKey === key) headers['If-None-Match'] = state.etag;
    var url = cfg.api + '/zones?level=' + state.level + (state.date ? '&date=' + state.date : '');
    state.checks += 1;
    return fetch(url, {headers: headers, cache: 'no-store', credentials: 'same-origin'}).then(function (r) {
      state.checkedAt = new Date();
      if (r.status === 304) { renderStatus(); return false; }
      if (!r.ok) throw new Error(url + ': ' + r.status);
      var etag = r.headers.get('ETag');
      return r.json().then(function (j) {
        var newSnapshot = state.snapshot !== null && j.snapshot !== state.snapshot;
        state.etag = etag; state.etagKey = key;
        state.zones = j.zones; state.counts = j.counts; state.day = j.day; state.snapshot = j.snapshot;
        el('cg-date').value = j.day || '';
        if (newSnapshot || !state.meta) loadMeta();
        if (state.overlays.loi) loadLocations();
        if (redraw !== false && state.zonesLayer) {
          state.zonesLayer.setStyle(styleFor);
          state.redraws += 1;
          afterPaint();
          refreshOpen();
        }
        renderLegend();
        renderStatus();
        return true;
      });
    }).catch(function (err) {
      el('cg-status').textContent = t('error');
      console.warn(err);
    });
  }

  function loadMeta() {
    return getJSON(cfg.api + '/meta').then(function (m) {
      state.meta = m;
      var d = el('cg-date');
      if (m.first_day) d.min = m.first_day;
      if (m.last_day) d.max = m.last_day;
    });
  }

  function renderLegend() {
    var box = el('cg-legend');
    if (!box) return;
    var rows = cfg.levels.map(function (lv) {
      var n = state.counts[lv.colour] || 0;
      return '<div class="cg-legend-row" data-colour="' + lv.colour + '"><span class="cg-swatch" data-swatch="' +
        esc(lv.hex) + '"></span><span class="cg-legend-label">' + esc(lv['label_' + state.lang]) + '</span>' +
        '<span class="cg-count">' + n + '</span></div>';
    });
    var total = Object.keys(state.zones).length;
    var known = Object.keys(state.counts).reduce(function (a, k) { return a + state.counts[k]; }, 0);
    var missing = (state.geometry[state.level] ? state.geometry[state.level].features.length : total) - known;
    if (missing > 0) {
      rows.push('<div class="cg-legend-row" data-colour="none"><span class="cg-swatch" data-swatch="' +
        esc(cfg.noZone) + '"></span><span class="cg-legend-label">' + t('noZone') + '</span><span class="cg-count">' + missing + '</span></div>');
    }
    setHtml(box, '<div class="cg-legend-title">' + t('legend') + ' — ' + adminName(state.level) + ' (' +
      t('units') + '), ' + fmtDay(state.day) + '</div>' + rows.join(''));
  }

  function renderStatus() {
    var s = el('cg-status');
    if (!s) return;
    var at = state.checkedAt ? state.checkedAt.toLocaleTimeString(state.lang === 'vi' ? 'vi-VN' : 'en-GB') : '—';
    s.textContent = t('dataOf') + ' ' + fmtDay(state.day) + ' · ' + t('snapshot') + ' ' + state.snapshot + ' · ' +
      t('checked') + ' ' + at;
  }

  // --- popup: name, level, colour, rule set, decisive indicators, reasons, the last days as a strip -------------
  function zoneNode(z) {
    var node = setHtml(document.createElement('div'), zoneHtml(z)).firstChild;
    if (z.measures && z.measures.applies && z.measures.items.length) node.appendChild(measuresNode(z.measures));
    return node;
  }

  // The travel measures of the zone's level (gis/travel), built with text nodes only.
  function measuresNode(m) {
    var box = document.createElement('div'), head = document.createElement('div'), list = document.createElement('ul');
    box.className = 'cg-measures';
    head.className = 'cg-sub';
    head.textContent = t('measures');
    list.className = 'cg-measure-list';
    m.items.forEach(function (item) {
      var li = document.createElement('li'), name = document.createElement('strong'), cite = document.createElement('div');
      li.dataset.measure = item.id;
      name.textContent = item['title_' + state.lang] + ': ';
      li.appendChild(name);
      li.appendChild(document.createTextNode(item.value[state.lang]));
      cite.className = 'cg-note';
      cite.textContent = item.citation.number + ' (' + fmtDay(item.citation.date) + ')' +
        (item.status === 'open' ? ' · ' + t('measureOpen') : '');
      li.appendChild(cite);
      list.appendChild(li);
    });
    box.appendChild(head);
    box.appendChild(list);
    return box;
  }

  function zoneHtml(z) {
    var lv = z.level !== undefined && z.level !== null ? levelDef(z.level) : null;
    var adm = cfg.adminLevels[state.lang][z.admin_level] || '';
    var html = '<div class="cg-popup" data-code="' + esc(z.code) + '"><h3>' + esc(z.name) + '</h3>' +
      '<div>' + t('adminLevel') + ': ' + esc(adm) + (z.parent_name ? ' · ' + t('parent') + ': ' + esc(z.parent_name) : '') + '</div>';
    if (!lv) return html + '<p>' + t('noZone') + ' (' + fmtDay(z.day) + ')</p></div>';
    html += '<div class="cg-level"><span class="cg-swatch" data-swatch="' + esc(hexOf(z.colour)) + '"></span>' +
      t('zoneLevel') + ': <strong>' + esc(z['label_' + state.lang]) + '</strong> (' + esc(cfg.colours[z.colour][state.lang]) +
      ', ' + fmtDay(z.day) + ')</div>';
    if (z.overridden) html += '<div class="cg-note">' + t('overridden') + '</div>';
    html += '<div>' + t('ruleset') + ': ' + esc(z.ruleset_id) + ' (' + esc(z.ruleset_version) + ')</div>';
    var decisive = z.decisive || {};
    var keys = Object.keys(decisive);
    if (keys.length) {
      html += '<div class="cg-sub">' + t('decisive') + '</div><ul class="cg-decisive">' + keys.map(function (k) {
        var name = INDICATORS[k] ? INDICATORS[k][state.lang === 'vi' ? 0 : 1] : k;
        var v = decisive[k];
        var shown = typeof v === 'number' && k.indexOf('coverage') === 0 ? fmtValue(v * 100) + ' %' : fmtValue(v);
        return '<li>' + esc(name) + ': <strong>' + shown + '</strong></li>';
      }).join('') + '</ul>';
    }
    if (z.details_suppressed) html += '<div class="cg-note">' + t('suppressed') + '</div>';
    html += '<div class="cg-sub">' + t('reasons') + '</div><ol class="cg-reasons">' + (z.reasons || []).map(function (r) {
      return '<li>' + esc(r) + '</li>';
    }).join('') + '</ol>';
    html += '<div class="cg-sub">' + cfg.historyDays + ' ' + t('history') + '</div>' + stripHtml(z) + '</div>';
    return html;
  }

  function stripHtml(z) {
    var byDay = {};
    (z.history || []).forEach(function (h) { byDay[h.day] = h; });
    var end = new Date(z.day + 'T00:00:00Z'), cells = [];
    for (var i = cfg.historyDays - 1; i >= 0; i--) {
      var d = new Date(end.getTime() - i * 86400000).toISOString().slice(0, 10);
      var h = byDay[d];
      cells.push('<span class="cg-day" data-day="' + d + '" data-colour="' + esc(h ? h.colour : '') + '" data-swatch="' +
        esc(h ? hexOf(h.colour) : cfg.noZone) + '" title="' + fmtDay(d) + ': ' + esc(h ? h['label_' + state.lang] : t('noZone')) +
        '"></span>');
    }
    return '<div class="cg-strip">' + cells.join('') + '</div>';
  }

  function fetchZone(code) {
    return getJSON(cfg.api + '/zone/' + encodeURIComponent(code) + (state.day ? '?date=' + state.day : ''));
  }

  function openZone(code, latlng) {
    return fetchZone(code).then(function (z) {
      var at = latlng;
      if (!at && state.layersByCode[code]) at = state.layersByCode[code].getBounds().getCenter();
      if (!at && z.bbox) at = L.latLng((z.bbox[1] + z.bbox[3]) / 2, (z.bbox[0] + z.bbox[2]) / 2);
      var popup = L.popup({maxWidth: 360, className: 'cg-leaflet-popup'}).setLatLng(at).setContent(zoneNode(z));
      state.popup = {code: code, latlng: at, popup: popup, zone: z};
      popup.openOn(map);
      return z;
    });
  }

  function refreshOpen() {
    if (state.popup) openZone(state.popup.code, state.popup.latlng);
    if (state.myZone) fetchZone(state.myZone.code).then(function (z) { state.myZone = z; renderMyZone(z); });
  }

  // --- Vùng của tôi -----------------------------------------------------------------------------------------------
  function search(q) {
    var list = el('cg-results');
    if (!q.trim()) { list.innerHTML = ''; return; }
    getJSON(cfg.api + '/search?q=' + encodeURIComponent(q)).then(function (j) {
      if (!j.results.length) { list.innerHTML = '<li class="cg-msg">' + t('noResults') + '</li>'; return; }
      list.innerHTML = j.results.map(function (p, i) {
        return '<li><button type="button" class="cg-result" data-i="' + i + '" data-code="' + esc(p.code) + '">' +
          esc(p.name) + ' <small>' + esc(p.parents.join(', ')) + '</small></button></li>';
      }).join('');
      list.querySelectorAll('button.cg-result').forEach(function (b) {
        b.addEventListener('click', function () { selectPlace(j.results[Number(b.dataset.i)]); });
      });
    });
  }

  function selectPlace(place) {
    el('cg-results').innerHTML = '';
    var ready = place.level === state.level ? Promise.resolve() : showLevel(place.level);
    return ready.then(function () {
      var b = place.bbox;
      map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {maxZoom: 14, animate: false});
      return openZone(place.code, null);
    }).then(function (z) { state.myZone = z; renderMyZone(z); return z; });
  }

  function renderMyZone(z) {
    var lv = z.level !== undefined && z.level !== null ? levelDef(z.level) : null;
    setHtml(el('cg-myzone'), '<div data-code="' + esc(z.code) + '"><span class="cg-swatch" data-swatch="' +
      esc(lv ? lv.hex : cfg.noZone) + '"></span><strong>' + esc(z.name) + '</strong>' +
      (z.parent_name ? ', ' + esc(z.parent_name) : '') + ': ' + esc(label(lv)) + '</div>');
  }

  function locateMe() {
    var msg = el('cg-myzone');
    if (!navigator.geolocation) { msg.textContent = t('locateFailed'); return; }
    msg.textContent = t('locating');
    navigator.geolocation.getCurrentPosition(function (pos) {
      getJSON(cfg.api + '/locate?lon=' + pos.coords.longitude + '&lat=' + pos.coords.latitude)
        .then(selectPlace).catch(function () { msg.textContent = t('locateFailed'); });
    }, function () { msg.textContent = t('locateFailed'); }, {timeout: 10000});
  }

  // --- layers ------------------------------------------------------------------------------------------------------
  function pointLayer(geojson, describe) {
    return L.geoJSON(geojson, {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {radius: 6, weight: 1, color: '#222', fillOpacity: 0.9,
          fillColor: POINT_COLOURS[f.properties.kind] || '#e31a1c'});
      },
      style: function () { return {color: '#e31a1c', weight: 2, dashArray: '4 3', fillOpacity: 0.15}; },
      onEachFeature: function (f, layer) { layer.bindPopup(describe(f.properties)); }
    });
  }

  function describePlace(p) {
    return '<strong>' + esc(p.name) + '</strong><br>' + esc(state.lang === 'vi' ? p.kind_vi : p.kind);
  }

  function describeProblem(p) {
    return '<strong>' + esc(p.kind) + '</strong> (' + esc(p.severity) + ')' + (p.code ? ' · ' + esc(p.code) : '') +
      '<br>' + esc(p.detail);
  }

  // --- locations of interest (public) and exposure venues (restricted): popups built as DOM nodes, every value
  // ingested text set as textContent, never parsed as markup.
  function node(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = String(text);
    return n;
  }
  function row(parent, labelKey, value) {
    var d = node('div', 'cg-row-' + labelKey);
    d.appendChild(node('span', 'cg-key', t(labelKey) + ': '));
    d.appendChild(node('strong', null, value));
    parent.appendChild(d);
    return d;
  }
  function place(p) { return [p.hamlet_name, p.commune_name].filter(Boolean).join(', '); }

  function locationNode(p) {
    var div = node('div', 'cg-popup cg-loi');
    div.dataset.eventId = p.event_id;
    div.appendChild(node('h3', 'cg-venue', p.venue_name));
    if (place(p)) row(div, 'place', place(p));
    row(div, 'window', p.start_local + ' – ' + p.end_local + ' (' + t('localTime') + ')');
    row(div, 'exposure', t(p.exposure_type));
    div.appendChild(node('div', 'cg-sub', t('advice')));
    var first = state.lang === 'vi' ? ['advice_vi', 'advice_en'] : ['advice_en', 'advice_vi'];
    div.appendChild(node('p', 'cg-advice', p[first[0]]));
    div.appendChild(node('p', 'cg-advice cg-advice-other', p[first[1]]));
    return div;
  }

  function locationLayer(geojson) {
    return L.geoJSON(geojson, {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {radius: 7, weight: 2, color: '#4a1486', fillColor: '#ef3b2c', fillOpacity: 0.9,
          className: 'cg-loi-marker'});
      },
      onEachFeature: function (f, layer) {
        layer.bindPopup(function () { return locationNode(f.properties); }, {maxWidth: 320});
      }
    });
  }

  function loadLocations() {
    var day = state.day;
    return getJSON(cfg.api + '/locations' + (day ? '?date=' + day : '')).then(function (g) {
      if (state.day !== day) return;  // the map moved on to another day meanwhile
      var on = el('cg-layer-loi').checked;
      if (state.overlays.loi) map.removeLayer(state.overlays.loi);
      state.overlays.loi = locationLayer(g);
      if (on) state.overlays.loi.addTo(map);
    });
  }

  function exposureNode(p) {
    var div = node('div', 'cg-popup cg-exposure-popup');
    div.appendChild(node('h3', 'cg-venue', p.venue_name));
    if (place(p)) row(div, 'place', place(p));
    row(div, 'day', fmtDay(p.day));
    row(div, 'window', fmtTime(p.start_at) + ' – ' + fmtTime(p.end_at));
    row(div, 'f0', p.f0);
    row(div, 'contacts', p.contacts + ' (' + t('closeContacts') + ': ' + p.close_contacts + ')');
    row(div, 'visitors', p.visitors);
    row(div, 'status', t(p.status));
    return div;
  }
  function fmtTime(iso) {
    if (!iso) return '—';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    try {
      return d.toLocaleString(state.lang === 'vi' ? 'vi-VN' : 'en-GB', {timeZone: cfg.timezone, hour: '2-digit',
        minute: '2-digit', day: '2-digit', month: '2-digit', year: 'numeric'});
    } catch (e) { return String(iso); }
  }

  function exposureLayer(geojson) {
    return L.geoJSON(geojson, {
      pointToLayer: function (f, latlng) {
        var n = Number(f.properties.contacts) || 0;
        return L.circleMarker(latlng, {radius: Math.min(30, 4 + 3 * Math.sqrt(n)), weight: 1, color: '#333',
          fillColor: EXPOSURE_COLOURS[f.properties.status] || '#999999', fillOpacity: 0.55, className: 'cg-exposure'});
      },
      onEachFeature: function (f, layer) {
        layer.bindPopup(function () { return exposureNode(f.properties); }, {maxWidth: 320});
      }
    });
  }

  function toggleOverlay(name, on) {
    if (!on) { if (state.overlays[name]) map.removeLayer(state.overlays[name]); return; }
    if (state.overlays[name]) { state.overlays[name].addTo(map); return; }
    if (name === 'loi') { loadLocations(); return; }
    getJSON(cfg.api + '/layers/' + name).then(function (g) {
      state.overlays[name] = pointLayer(g, name === 'data-quality' ? describeProblem : describePlace);
      if (el('cg-layer-' + name).checked) state.overlays[name].addTo(map);
    });
  }

  function describeAny(p) {
    return '<table class="cg-props">' + Object.keys(p).map(function (k) {
      return '<tr><th>' + esc(k) + '</th><td>' + esc(p[k]) + '</td></tr>';
    }).join('') + '</table>';
  }

  // Restricted layers: the server checks the token; the page shows what the server lets it read.
  function signIn() {
    var token = el('cg-token').value.trim(), msg = el('cg-signin-msg');
    if (!token) return;
    msg.textContent = t('loading');
    var headers = {Authorization: 'Bearer ' + token, Accept: 'application/geo+json'};
    Promise.all(cfg.restrictedLayers.map(function (id) {
      var order = id === 'exposure-venues' ? '&sortby=-contacts' : '';  // the most contacts first, if capped
      return fetch('/collections/' + encodeURIComponent(id) + '/items?f=json&limit=' + cfg.restrictedLimit + order,
        {headers: headers, cache: 'no-store'})
        .then(function (r) { return r.ok ? r.json().then(function (g) { return [id, g]; }) : [id, null]; })
        .catch(function () { return [id, null]; });
    })).then(function (results) {
      var allowed = results.filter(function (r) { return r[1]; });
      if (!allowed.length) { msg.textContent = t('denied'); return; }
      state.token = token;
      el('cg-token').value = '';
      msg.textContent = t('signedIn');
      el('cg-signout').hidden = false;
      var box = el('cg-restricted-layers');
      box.innerHTML = '<div class="cg-sub" data-i18n="restricted">' + t('restricted') + '</div>';
      allowed.forEach(function (r) {
        state.restricted[r[0]] = r[0] === 'exposure-venues' ? exposureLayer(r[1]) : pointLayer(r[1], describeAny);
        var row = L.DomUtil.create('label', 'cg-check', box);
        row.innerHTML = '<input type="checkbox" data-restricted="' + esc(r[0]) + '"> <span data-i18n="' + esc(r[0]) + '">' +
          esc(t(r[0])) + '</span>';
        row.querySelector('input').addEventListener('change', function (e) {
          if (e.target.checked) state.restricted[r[0]].addTo(map); else map.removeLayer(state.restricted[r[0]]);
        });
      });
    });
  }

  function signOut() {
    Object.keys(state.restricted).forEach(function (id) { map.removeLayer(state.restricted[id]); });
    state.restricted = {}; state.token = null;
    el('cg-restricted-layers').innerHTML = '';
    el('cg-signout').hidden = true;
    el('cg-signin-msg').textContent = '';
  }

  // --- basemap: OSM when one tile loads, otherwise the boundaries alone ----------------------------------------------
  function probeBasemap() {
    if (!cfg.basemap.url || params.get('basemap') === '0') return;
    var z = 9, c = map.getCenter();
    var x = Math.floor((c.lng + 180) / 360 * Math.pow(2, z));
    var rad = c.lat * Math.PI / 180;
    var y = Math.floor((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2 * Math.pow(2, z));
    var img = new Image();
    img.onload = function () {
      state.basemap = L.tileLayer(cfg.basemap.url, {attribution: cfg.basemap.attribution, maxZoom: 19}).addTo(map);
      el('cg-basemap-row').hidden = false;
      el('cg-basemap').checked = true;
    };
    img.src = cfg.basemap.url.replace('{s}', 'a').replace('{z}', z).replace('{x}', x).replace('{y}', y);
  }

  // The map as folium made it (centre, zoom, zoom control, scale), then the controls and the zones.
  function start(config) {
    cfg = config;
    var asked = Number(params.get('level'));
    state.level = adminLevels().indexOf(asked) >= 0 ? asked : 3;
    map = L.map('cg-map', {center: cfg.view.center, zoom: cfg.view.zoom, zoomControl: true});
    L.control.scale().addTo(map);
    var refresh = Number(params.get('refresh')) > 0 ? Number(params.get('refresh')) : cfg.refreshSeconds;
    addControls();
    translate();
    map.on('popupclose', function (e) { if (state.popup && e.popup === state.popup.popup) state.popup = null; });
    probeBasemap();
    var first = showLevel(state.level);
    setInterval(function () { loadZones(false, true); }, refresh * 1000);
    window.covidgis = {
      state: state, ready: first, refreshSeconds: refresh, showLevel: showLevel, selectPlace: selectPlace,
      fills: function () {
        var out = {};
        Object.keys(state.layersByCode).forEach(function (code) { out[code] = state.layersByCode[code].options.fillColor; });
        return out;
      }
    };
  }

  start(JSON.parse(document.getElementById('cg-config').textContent));
})();
