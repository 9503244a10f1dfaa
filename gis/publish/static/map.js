// The public risk map of a published snapshot (covidgis publish): reads latest.json, then the PMTiles archive and
// search.json it names, all from this folder's origin. No API, no CDN, no basemap. Every text from the data is put
// into the page as text (textContent), never as HTML.
"use strict";

(function () {
  const STRINGS = {
    vi: {
      title: "Bản đồ cấp độ dịch COVID-19",
      toggle: "English",
      mapLabel: "Bản đồ cấp độ dịch",
      searchLabel: "Tìm đơn vị (tên hoặc mã)",
      searchPlaceholder: "Ví dụ: Tân Phong",
      noResult: "Không tìm thấy đơn vị nào.",
      searchLoading: "Đang tải danh sách đơn vị…",
      myZone: "Vùng của tôi",
      locate: "Dùng vị trí của tôi",
      pick: "Chọn một điểm trên bản đồ",
      picking: "Hãy bấm vào vị trí của bạn trên bản đồ.",
      locating: "Đang xác định vị trí…",
      noGeolocation: "Không lấy được vị trí của bạn. Hãy bấm vào vị trí của bạn trên bản đồ.",
      outside: "Điểm này không thuộc đơn vị nào có dữ liệu.",
      legend: "Chú giải",
      level: "Cấp độ",
      code: "Mã",
      changedAt: "Dữ liệu cấp độ thay đổi lúc",
      generatedAt: "xuất bản lúc",
      zonesDay: "số liệu ngày",
      noSnapshot: "Chưa có bản dữ liệu nào được xuất bản ở đây (không đọc được latest.json).",
      badSnapshot: "Bản dữ liệu xuất bản không hợp lệ",
      tilesFailed: "Không tải được dữ liệu bản đồ",
      retry: "Hãy thử lại sau ít phút.",
    },
    en: {
      title: "COVID-19 risk levels",
      toggle: "Tiếng Việt",
      mapLabel: "Risk level map",
      searchLabel: "Find a unit (name or code)",
      searchPlaceholder: "e.g. Tan Phong",
      noResult: "No unit found.",
      searchLoading: "Loading the list of units…",
      myZone: "My zone",
      locate: "Use my location",
      pick: "Pick a point on the map",
      picking: "Click your place on the map.",
      locating: "Finding your location…",
      noGeolocation: "Your location is not available. Click your place on the map.",
      outside: "This point is in no unit with data.",
      legend: "Legend",
      level: "Level",
      code: "Code",
      changedAt: "Risk levels changed at",
      generatedAt: "published at",
      zonesDay: "data of",
      noSnapshot: "No snapshot has been published here yet (latest.json could not be read).",
      badSnapshot: "The published snapshot is not valid",
      tilesFailed: "The map data could not be loaded",
      retry: "Please try again in a few minutes.",
    },
  };
  const LOCALES = { vi: "vi-VN", en: "en-GB" };
  const TIME_ZONE = "Asia/Ho_Chi_Minh";
  const MAX_RESULTS = 20;

  const state = {
    lang: new URLSearchParams(window.location.search).get("lang") === "en" ? "en" : "vi",
    latest: null,
    tiles: null, // the latest.json entry of the PMTiles archive
    search: null, // search.json entries, each with normalised keys, once loaded
    searchLoading: null, // the promise of search.json, fetched at the first use of the search box
    legend: new Map(), // level → {colour, label_vi, label_en}
    myZone: null, // the last "my zone" answer, re-rendered on a language switch
    picking: false,
    map: null,
  };
  const $ = (id) => document.getElementById(id);
  const t = (key) => STRINGS[state.lang][key];

  // Lower case, no diacritics, đ → d: "Tân Phong", "tan phong" and "TAN PHONG" are the same key.
  function normalise(text) {
    return String(text)
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/[đĐ]/g, "d")
      .toLowerCase()
      .trim();
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function hexOf(colour) {
    const key = String(colour ?? "");
    return COLOURS[key] || (/^#[0-9a-fA-F]{6}$/.test(key) ? key : COLOURS[""]);
  }

  function swatch(colour) {
    const node = element("span", "swatch");
    node.style.backgroundColor = hexOf(colour); // CSSOM, not an attribute: allowed by a style-src 'self' policy
    return node;
  }

  function formatTime(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return String(iso);
    return new Intl.DateTimeFormat(LOCALES[state.lang], {
      dateStyle: "medium",
      timeStyle: "short",
      timeZone: TIME_ZONE,
    }).format(date);
  }

  function formatDay(isoDay) {
    // a calendar day (YYYY-MM-DD), not an instant: formatted as a UTC date so no time zone moves it
    const date = new Date(`${isoDay}T00:00:00Z`);
    if (Number.isNaN(date.getTime())) return String(isoDay);
    return new Intl.DateTimeFormat(LOCALES[state.lang], { dateStyle: "medium", timeZone: "UTC" }).format(date);
  }

  // --- the archive: byte ranges when the server serves them, else the whole file once (python -m http.server) ---

  class FolderSource {
    constructor(url) {
      this.url = url;
      this.whole = null; // Promise<ArrayBuffer> once the server has answered 200 to a range request
    }

    getKey() {
      return this.url;
    }

    async getBytes(offset, length, signal) {
      if (this.whole) return { data: (await this.whole).slice(offset, offset + length) };
      const response = await fetch(this.url, {
        headers: { Range: `bytes=${offset}-${offset + length - 1}` },
        signal,
      });
      if (response.status === 206) return { data: await response.arrayBuffer() };
      if (response.status !== 200) throw new Error(`${this.url}: HTTP ${response.status}`);
      if (this.whole) {
        response.body?.cancel();
      } else {
        const whole = response.arrayBuffer();
        this.whole = whole;
        whole.catch(() => {
          if (this.whole === whole) this.whole = null; // an aborted download: the next request tries again
        });
      }
      return { data: (await this.whole).slice(offset, offset + length) };
    }
  }

  // --- texts: the static ones by data-i18n, the dynamic ones re-rendered ---

  function applyLanguage() {
    document.documentElement.lang = state.lang;
    document.title = `${t("title")} · ${STRINGS[state.lang === "vi" ? "en" : "vi"].title}`;
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
      node.placeholder = t(node.dataset.i18nPlaceholder);
    }
    for (const node of document.querySelectorAll("[data-i18n-label]")) {
      node.setAttribute("aria-label", t(node.dataset.i18nLabel));
    }
    renderDate();
    renderLegend();
    renderResults();
    renderMyZone();
  }

  function renderDate() {
    const node = $("snapshot-date");
    if (!state.latest) return;
    node.textContent =
      `${t("changedAt")} ${formatTime(state.latest.snapshot_changed_at)} · ` +
      `${t("generatedAt")} ${formatTime(state.latest.generated_at)}` +
      (state.latest.zones_day ? ` · ${t("zonesDay")} ${formatDay(state.latest.zones_day)}` : "");
  }

  function levelLabel(level) {
    const entry = state.legend.get(level);
    const label = entry && (state.lang === "en" ? entry.label_en : entry.label_vi);
    return label || `${t("level")} ${level}`;
  }

  function adminName(adminLevel) {
    const names = ADMIN_LEVELS[String(adminLevel)];
    return names ? names[state.lang] : "";
  }

  function renderLegend() {
    const list = $("legend");
    list.replaceChildren();
    for (const level of [...state.legend.keys()].sort((a, b) => a - b)) {
      const item = element("li", "legend-item");
      item.dataset.level = String(level);
      item.append(swatch(state.legend.get(level).colour), element("span", "", levelLabel(level)));
      list.append(item);
    }
  }

  // Levels and colours from search.json (every unit); labels from the tiles' features as they load.
  function learnLegend(features) {
    let changed = false;
    for (const f of features) {
      const p = f.properties || f;
      if (p.level === null || p.level === undefined || p.level === "") continue;
      const level = Number(p.level);
      if (!Number.isFinite(level)) continue;
      const known = state.legend.get(level);
      if (!known) {
        state.legend.set(level, { colour: p.colour, label_vi: p.label_vi, label_en: p.label_en });
        changed = true;
      } else if (!known.label_vi && p.label_vi) {
        Object.assign(known, { label_vi: p.label_vi, label_en: p.label_en });
        changed = true;
      }
    }
    if (changed) renderLegend();
  }

  // --- search ---

  function renderResults() {
    const list = $("results");
    list.replaceChildren();
    const query = normalise($("search").value);
    if (!query) return;
    if (!state.search) {
      list.append(element("li", "empty", t("searchLoading")));
      loadSearch().then(renderResults);
      return;
    }
    const found = state.search
      .filter((s) => s.key.includes(query) || s.codeKey.startsWith(query))
      .sort(
        (a, b) =>
          Number(!a.key.startsWith(query)) - Number(!b.key.startsWith(query)) ||
          a.admin_level - b.admin_level ||
          a.key.localeCompare(b.key),
      )
      .slice(0, MAX_RESULTS);
    if (!found.length) {
      list.append(element("li", "empty", t("noResult")));
      return;
    }
    for (const unit of found) {
      const button = element("button", "result");
      button.type = "button";
      button.dataset.code = unit.code;
      button.append(
        swatch(unit.colour),
        element("span", "name", unit.name),
        element("span", "meta", `${state.lang === "en" ? unit.admin_level_en : unit.admin_level_vi} · ${unit.code}`),
      );
      button.addEventListener("click", () => flyToUnit(unit));
      const item = element("li");
      item.append(button);
      list.append(item);
    }
  }

  // The zoom at which the archive draws a unit's admin level (latest.json's zooms), clamped to that range.
  function zoomRange(adminLevel) {
    const zooms = (state.tiles && state.tiles.zooms) || {};
    const range = zooms[String(adminLevel)];
    if (range) return [range[0], range[1] + 0.99];
    return [0, 22];
  }

  function flyToUnit(unit) {
    const [west, south, east, north] = unit.bbox;
    const camera = state.map.cameraForBounds(
      [
        [west, south],
        [east, north],
      ],
      { padding: 40 },
    );
    const [low, high] = zoomRange(unit.admin_level);
    const zoom = Math.min(Math.max(camera ? camera.zoom : low, low), high);
    const center = camera ? camera.center : [(west + east) / 2, (south + north) / 2];
    state.map.flyTo({ center, zoom, duration: 800 });
  }

  // --- my zone: the deepest unit under a point ---

  // The zoom at which the archive draws each admin level, deepest first (latest.json's zooms).
  function zoomsDeepestFirst() {
    const zooms = (state.tiles && state.tiles.zooms) || {};
    const levels = Object.keys(zooms).map(Number).sort((a, b) => b - a);
    if (!levels.length) return [state.tiles ? state.tiles.maxzoom : 14];
    return levels.map((level) => zooms[String(level)][0] + 0.5);
  }

  // Jump to the deepest level's zoom and ask what is drawn there; where that level has no unit (an area without
  // hamlets), the next level up.
  async function myZoneAt(lngLat) {
    state.picking = false;
    const map = state.map;
    let found = null;
    for (const zoom of zoomsDeepestFirst()) {
      map.jumpTo({ center: lngLat, zoom });
      await new Promise((resolve) => {
        map.once("idle", resolve);
        map.triggerRepaint();
      });
      const features = map.queryRenderedFeatures(map.project(lngLat), { layers: ["zones-fill"] });
      found = features.sort((a, b) => b.properties.admin_level - a.properties.admin_level)[0];
      if (found) break;
    }
    state.myZone = found ? { ...found.properties } : { outside: true };
    if (found) learnLegend([found]);
    renderMyZone();
  }

  function renderMyZone(message) {
    const node = $("my-zone");
    node.replaceChildren();
    delete node.dataset.code;
    if (message) {
      node.textContent = t(message);
      return;
    }
    const zone = state.myZone;
    if (!zone) return;
    if (zone.outside) {
      node.textContent = t("outside");
      return;
    }
    node.dataset.code = zone.code;
    node.append(
      swatch(zone.colour),
      element("strong", "name", zone.name),
      element("span", "meta", ` (${adminName(zone.admin_level)} · ${t("code")} ${zone.code})`),
      element("br"),
      element("span", "level", `${t("level")} ${zone.level}: ${zoneLabel(zone)}`),
    );
  }

  function zoneLabel(p) {
    return (state.lang === "en" ? p.label_en : p.label_vi) || levelLabel(Number(p.level));
  }

  function locate() {
    if (!navigator.geolocation) {
      state.picking = true;
      renderMyZone("noGeolocation");
      return;
    }
    renderMyZone("locating");
    navigator.geolocation.getCurrentPosition(
      (position) => myZoneAt([position.coords.longitude, position.coords.latitude]),
      () => {
        state.picking = true;
        renderMyZone("noGeolocation");
      },
      { enableHighAccuracy: false, timeout: 10000, maximumAge: 60000 },
    );
  }

  // --- popup ---

  function popupContent(p) {
    const box = element("div", "popup");
    const title = element("strong", "name", p.name);
    const meta = element("div", "meta", `${adminName(p.admin_level)} · ${t("code")} ${p.code}`);
    const level = element("div", "level");
    level.append(swatch(p.colour), element("span", "", `${t("level")} ${p.level}: ${zoneLabel(p)}`));
    box.append(title, meta, level);
    return box;
  }

  // --- start ---

  function fail(key, detail) {
    const node = $("message");
    node.replaceChildren();
    for (const lang of ["vi", "en"]) {
      const line = element("p", "", `${STRINGS[lang][key]}. ${STRINGS[lang].retry}`);
      line.lang = lang;
      node.append(line);
    }
    if (detail) node.append(element("p", "detail", detail));
    node.hidden = false;
    document.body.classList.add("failed");
  }

  async function readLatest() {
    let response;
    try {
      response = await fetch("latest.json", { cache: "no-cache" });
    } catch (error) {
      return [null, "noSnapshot", String(error)];
    }
    if (!response.ok) return [null, "noSnapshot", `latest.json: HTTP ${response.status}`];
    let latest;
    try {
      latest = await response.json();
    } catch (error) {
      return [null, "badSnapshot", `latest.json: ${error.message}`];
    }
    const files = latest && Array.isArray(latest.files) ? latest.files : [];
    const tiles = files.find((f) => f && f.kind === "pmtiles" && typeof f.path === "string");
    if (latest.format !== 1 || !tiles) return [null, "badSnapshot", "latest.json: no PMTiles archive"];
    return [latest, null, null];
  }

  async function readSearch(latest) {
    const entry = latest.files.find((f) => f && f.kind === "search" && typeof f.path === "string");
    if (!entry) return [];
    const response = await fetch(entry.path);
    if (!response.ok) throw new Error(`${entry.path}: HTTP ${response.status}`);
    const units = await response.json();
    return Array.isArray(units) ? units : [];
  }

  // A colour key of the vocabulary by its hex; a hex as it is; anything else as a unit without a zone.
  function fillColour() {
    const match = ["match", ["get", "colour"]];
    for (const [key, hex] of Object.entries(COLOURS)) if (key) match.push(key, hex);
    match.push(["to-color", ["get", "colour"], COLOURS[""]]);
    return match;
  }

  function style(archiveUrl, bounds) {
    return {
      version: 8,
      sources: { zones: { type: "vector", url: `pmtiles://${archiveUrl}`, bounds } },
      layers: [
        { id: "background", type: "background", paint: { "background-color": "#eef1f4" } },
        {
          id: "zones-fill",
          type: "fill",
          source: "zones",
          "source-layer": "zones",
          paint: { "fill-color": fillColour(), "fill-opacity": 0.8 },
        },
        {
          id: "zones-line",
          type: "line",
          source: "zones",
          "source-layer": "zones",
          paint: { "line-color": "#4a4a4a", "line-width": ["interpolate", ["linear"], ["zoom"], 5, 0.4, 14, 1.2] },
        },
      ],
    };
  }

  async function start() {
    applyLanguage();
    $("lang").addEventListener("click", () => {
      state.lang = state.lang === "vi" ? "en" : "vi";
      applyLanguage();
    });
    const [latest, problem, detail] = await latestRead;
    if (!latest) {
      fail(problem, detail);
      return;
    }
    state.latest = latest;
    state.tiles = latest.files.find((f) => f.kind === "pmtiles");
    renderDate();
    if (Array.isArray(latest.legend)) learnLegend(latest.legend); // {level, colour, label_vi, label_en} when given
    const archiveUrl = new URL(state.tiles.path, window.location.href).href;
    const protocol = new pmtiles.Protocol();
    const archive = new pmtiles.PMTiles(new FolderSource(archiveUrl));
    protocol.add(archive);
    archive.getHeader().catch(() => {}); // the header and root directory now, while MapLibre starts (errors: below)
    maplibregl.addProtocol("pmtiles", protocol.tile);
    maplibregl.setWorkerUrl(new URL(workerUrl, window.location.href).href);
    maplibregl.prewarm(); // the worker starts loading now, not at the style's first source
    const bounds = Array.isArray(state.tiles.bounds) && state.tiles.bounds.length === 4 ? state.tiles.bounds : null;
    const map = new maplibregl.Map({
      container: "map",
      style: style(archiveUrl, bounds || [-180, -85, 180, 85]),
      bounds: bounds || undefined,
      fitBoundsOptions: { padding: 20 },
      minZoom: Math.max(0, (state.tiles.minzoom || 0) - 2),
      maxZoom: 18,
      attributionControl: false,
      dragRotate: false,
    });
    state.map = map;
    window.covidgisMap = map; // for the tests (queryRenderedFeatures) and for curious readers
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    map.on("error", (event) => {
      if (event && event.sourceId === "zones") fail("tilesFailed", String(event.error && event.error.message));
    });
    map.once("load", () => document.body.classList.add("map-loaded"));
    // the first time every tile of the first view is drawn: benchmarks/static_map.py reads this mark
    map.once("idle", () => performance.mark("covidgis-first-paint"));
    map.on("idle", () => {
      learnLegend(map.querySourceFeatures("zones", { sourceLayer: "zones" }));
      document.body.classList.add("map-idle");
    });
    map.on("click", (event) => {
      if (state.picking) {
        myZoneAt([event.lngLat.lng, event.lngLat.lat]);
        return;
      }
      const feature = map.queryRenderedFeatures(event.point, { layers: ["zones-fill"] })[0];
      if (!feature) return;
      new maplibregl.Popup({ maxWidth: "280px" })
        .setLngLat(event.lngLat)
        .setDOMContent(popupContent(feature.properties))
        .addTo(map);
    });
    $("locate").addEventListener("click", locate);
    $("pick").addEventListener("click", () => {
      state.picking = true;
      renderMyZone("picking");
    });
    // search.json (every unit of the country: megabytes) only when the search box is first used
    $("search").addEventListener("focus", loadSearch, { once: true });
    $("search").addEventListener("input", renderResults);
  }

  function loadSearch() {
    if (!state.searchLoading) {
      state.searchLoading = readSearch(state.latest)
        .then((units) => {
          state.search = units.map((u) => ({ ...u, key: normalise(u.name), codeKey: normalise(u.code) }));
          learnLegend(units);
        })
        .catch((error) => {
          state.searchLoading = null;
          fail("badSnapshot", String(error));
        });
    }
    return state.searchLoading;
  }

  // Read while this script runs (document.currentScript is null afterwards).
  const workerUrl = document.currentScript.dataset.worker;
  // Zone colour keys → hex (gis/levels.py, written into index.html by install_static_map), "" → a unit without a zone.
  const COLOURS = JSON.parse(document.currentScript.dataset.colours);
  // Admin level number → its names {vi, en} (gis/levels.py, the same way).
  const ADMIN_LEVELS = JSON.parse(document.currentScript.dataset.adminLevels);
  // latest.json is asked for as soon as this script runs (before the libraries after it are parsed)
  const latestRead = readLatest();
  document.addEventListener("DOMContentLoaded", start);
})();
