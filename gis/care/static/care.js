/* The coordinator page /care: open transfer requests with their offers (accept one), KPIs by tier, facility
   occupancy. Vietnamese first, English by a toggle remembered in localStorage (or ?lang=en). The token is kept in
   sessionStorage and sent as Authorization: Bearer. Every value from the server (person keys, reasons, facility
   names) is put in the page with textContent / createElement only: never as markup. */
(function () {
  'use strict';

  var T = {
    vi: {
      title: 'Điều phối chuyển tầng F0', toggle: 'English',
      signinTitle: 'Đăng nhập điều phối viên', tokenLabel: 'Mã truy cập (token) của điều phối viên',
      signin: 'Đăng nhập', signout: 'Đăng xuất', reload: 'Tải lại',
      requestsTitle: 'Yêu cầu chuyển tầng đang chờ', requestsCaption: 'Yêu cầu chuyển tầng và các cơ sở có giường',
      colRequest: 'Mã yêu cầu', colPerson: 'Mã người bệnh', colFrom: 'Từ cơ sở', colTier: 'Tầng cần',
      colReason: 'Lý do', colRequestedAt: 'Thời điểm yêu cầu', colWaiting: 'Số phút chờ',
      colOffers: 'Cơ sở có giường / trạng thái', noRequests: 'Không có yêu cầu nào đang chờ.',
      kpisTitle: 'Chỉ số theo tầng', colRequests: 'Số yêu cầu', colPlaced: 'Đã chuyển đến',
      colShare: 'Tỷ lệ đã chuyển', colMedian: 'Trung vị số phút đến khi chuyển',
      facilitiesTitle: 'Công suất các cơ sở', colFacility: 'Cơ sở', colName: 'Tên', colKind: 'Loại',
      colFacilityTier: 'Tầng', colBeds: 'Giường', colStaffed: 'Giường có nhân lực',
      colOccupied: 'Đang điều trị / cách ly', colPromised: 'Đã nhận, chờ chuyển đến',
      colFree: 'Giường có nhân lực còn trống',
      accept: 'Nhận', acceptLabel: 'Nhận yêu cầu {id} tại {facility}', freeBeds: 'giường trống',
      noOffers: 'Không có cơ sở nào của tầng này còn giường có nhân lực phù hợp.',
      statusAccepted: 'Đã nhận — chuyển đến {facility}', tier: 'Tầng {tier}',
      kind_treatment: 'Điều trị', kind_quarantine: 'Cách ly',
      loading: 'Đang tải…', updated: 'Cập nhật lúc {time}',
      accepted: 'Đã nhận yêu cầu {id} tại {facility} ({km} km).',
      refused: 'Không nhận được yêu cầu {id}: {reason}',
      failed: 'Lỗi {status}: {reason}', offline: 'Không kết nối được máy chủ — the server cannot be reached.',
      signedOut: 'Đã đăng xuất.'
    },
    en: {
      title: 'F0 transfer coordination', toggle: 'Tiếng Việt',
      signinTitle: 'Coordinator sign-in', tokenLabel: "Coordinator's access token",
      signin: 'Sign in', signout: 'Sign out', reload: 'Reload',
      requestsTitle: 'Transfer requests waiting', requestsCaption: 'Transfer requests and the facilities with beds',
      colRequest: 'Request', colPerson: 'Person key', colFrom: 'From facility', colTier: 'Required tier',
      colReason: 'Reason', colRequestedAt: 'Requested at', colWaiting: 'Minutes waiting',
      colOffers: 'Facilities with beds / status', noRequests: 'No request is waiting.',
      kpisTitle: 'KPIs by tier', colRequests: 'Requests', colPlaced: 'Placed', colShare: 'Share placed',
      colMedian: 'Median minutes to placement',
      facilitiesTitle: 'Facility occupancy', colFacility: 'Facility', colName: 'Name', colKind: 'Kind',
      colFacilityTier: 'Tier', colBeds: 'Beds', colStaffed: 'Staffed beds', colOccupied: 'People in it now',
      colPromised: 'Accepted, not yet arrived', colFree: 'Free staffed beds',
      accept: 'Accept', acceptLabel: 'Accept request {id} at {facility}', freeBeds: 'free beds',
      noOffers: 'No facility of this tier has a free staffed bed of the right kind.',
      statusAccepted: 'Accepted — to {facility}', tier: 'Tier {tier}',
      kind_treatment: 'Treatment', kind_quarantine: 'Quarantine',
      loading: 'Loading…', updated: 'Updated at {time}',
      accepted: 'Request {id} accepted at {facility} ({km} km).',
      refused: 'Request {id} was not accepted: {reason}',
      failed: 'Error {status}: {reason}', offline: 'Không kết nối được máy chủ — the server cannot be reached.',
      signedOut: 'Signed out.'
    }
  };
  // Sign-in refusals are shown in both languages whatever the page's language.
  var DENIED = {
    401: 'Mã truy cập không hợp lệ, đã bị thu hồi hoặc chưa nhập: hãy đăng nhập lại. — ' +
      'The token is invalid, revoked or missing: sign in again.',
    403: 'Mã truy cập này không phải của điều phối viên (vai trò coordinator). — ' +
      "This token is not a coordinator's (role coordinator)."
  };
  var LANG_KEY = 'covidgis.care.lang', TOKEN_KEY = 'covidgis.care.token';

  var cfg = JSON.parse(document.getElementById('care-config').textContent);
  var params = new URLSearchParams(window.location.search);
  var state = {
    lang: params.get('lang') || storedLang() || 'vi', token: sessionStorage.getItem(TOKEN_KEY),
    transfers: null, facilities: null, loads: 0, timer: null, busy: false
  };
  if (state.lang !== 'en') state.lang = 'vi';

  function storedLang() { try { return localStorage.getItem(LANG_KEY); } catch (e) { return null; } }
  function el(id) { return document.getElementById(id); }
  function t(key, values) {
    var s = T[state.lang][key];
    if (s === undefined) return key;
    return s.replace(/\{(\w+)\}/g, function (m, name) { return values && name in values ? String(values[name]) : m; });
  }
  function text(value) { return value === null || value === undefined ? '—' : String(value); }
  function node(tag, value, className) {
    var n = document.createElement(tag);
    if (value !== undefined) n.textContent = text(value);
    if (className) n.className = className;
    return n;
  }
  function cell(row, value, className) { var c = node('td', value, className); row.appendChild(c); return c; }
  function number(v, digits) {
    if (v === null || v === undefined) return '—';
    return Number(v).toLocaleString(state.lang === 'vi' ? 'vi-VN' : 'en-GB', {maximumFractionDigits: digits || 0});
  }
  function when(iso) {
    if (!iso) return '—';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return text(iso);
    return d.toLocaleString(state.lang === 'vi' ? 'vi-VN' : 'en-GB', {
      timeZone: cfg.timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit'
    });
  }
  function say(message, kind) {
    var s = el('care-status');
    s.textContent = message;
    s.dataset.kind = kind || 'info';
  }

  function request(path, options) {
    options = options || {};
    var headers = {'Accept': 'application/json', 'Authorization': 'Bearer ' + state.token};
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(cfg.api + path, {
      method: options.method || 'GET', headers: headers, cache: 'no-store',
      body: options.body === undefined ? undefined : JSON.stringify(options.body)
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (body) {
        return {status: resp.status, body: body};
      });
    });
  }
  function reasonOf(body) { return text(body && (body.message || body.description || body.reason)); }

  function showSignin(message) {
    stopTimer();
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    el('care-main').hidden = true;
    el('care-signin').hidden = false;
    if (message) say(message, 'error');
    el('care-token').focus();
  }
  function showBoard() {
    el('care-signin').hidden = true;
    el('care-main').hidden = false;
  }

  function load() {
    if (!state.token) { showSignin(); return Promise.resolve(); }
    return Promise.all([request('/transfers'), request('/facilities')]).then(function (answers) {
      var denied = answers.filter(function (a) { return a.status === 401 || a.status === 403; })[0];
      if (denied) { showSignin(DENIED[denied.status]); return; }
      var bad = answers.filter(function (a) { return a.status !== 200; })[0];
      if (bad) { say(t('failed', {status: bad.status, reason: reasonOf(bad.body)}), 'error'); return; }
      state.transfers = answers[0].body;
      state.facilities = answers[1].body;
      state.loadedAt = new Date();
      showBoard();
      render();
      startTimer();
    }, function () { say(t('offline'), 'error'); }).then(function () {
      state.loads += 1;
      document.body.dataset.careLoads = String(state.loads);
    });
  }
  function startTimer() {
    if (state.timer === null) state.timer = setInterval(load, cfg.refreshSeconds * 1000);
  }
  function stopTimer() {
    if (state.timer !== null) clearInterval(state.timer);
    state.timer = null;
  }

  function render() {
    if (!state.transfers) return;
    renderRequests(state.transfers.requests || []);
    renderKpis(state.transfers.kpis || []);
    renderFacilities((state.facilities && state.facilities.facilities) || []);
    el('care-updated').textContent = t('updated', {time: state.loadedAt.toLocaleTimeString(
      state.lang === 'vi' ? 'vi-VN' : 'en-GB', {timeZone: cfg.timezone})});
  }

  function facilityName(id, name) { return name ? id + ' — ' + name : text(id); }

  function renderRequests(requests) {
    var body = el('care-requests-body');
    body.replaceChildren();
    el('care-no-requests').hidden = requests.length > 0;
    requests.forEach(function (r) {
      var row = document.createElement('tr');
      row.dataset.request = String(r.request_id);
      row.dataset.status = text(r.status);
      cell(row, r.request_id);
      cell(row, r.person_key, 'care-key');
      cell(row, facilityName(r.from_facility, r.from_name), 'care-name');
      cell(row, r.required_tier);
      cell(row, r.reason, 'care-reason');
      cell(row, when(r.requested_at), 'care-when');
      cell(row, number(r.waiting_minutes), 'care-number');
      var offers = cell(row, undefined, 'care-offers');
      if (r.status === 'accepted') {
        offers.appendChild(node('span', t('statusAccepted', {facility: facilityName(r.to_facility, r.to_name)}),
          'care-accepted'));
      } else if (!r.offers || r.offers.length === 0) {
        offers.appendChild(node('span', t('noOffers'), 'care-none'));
      } else {
        var list = node('ul', undefined, 'care-offer-list');
        r.offers.forEach(function (o) {
          var item = node('li', undefined, 'care-offer');
          item.dataset.facility = text(o.facility_id);
          item.appendChild(node('span', facilityName(o.facility_id, o.name), 'care-offer-name'));
          item.appendChild(node('span', number(o.free_staffed_beds) + ' ' + t('freeBeds'), 'care-offer-free'));
          item.appendChild(node('span', o.distance_km === null ? '—' : number(o.distance_km, 2) + ' km',
            'care-offer-km'));
          var button = node('button', t('accept') + ' / ' + (state.lang === 'vi' ? 'Accept' : 'Nhận'), 'care-accept');
          button.type = 'button';
          button.setAttribute('aria-label', t('acceptLabel', {id: r.request_id, facility: facilityName(o.facility_id, o.name)}));
          button.addEventListener('click', function () { acceptOffer(r.request_id, o.facility_id); });
          item.appendChild(button);
          list.appendChild(item);
        });
        offers.appendChild(list);
      }
      body.appendChild(row);
    });
  }

  function renderKpis(kpis) {
    var body = el('care-kpis-body');
    body.replaceChildren();
    kpis.forEach(function (k) {
      var row = document.createElement('tr');
      row.dataset.tier = String(k.required_tier);
      cell(row, t('tier', {tier: k.required_tier}));
      cell(row, number(k.requests), 'care-number');
      cell(row, number(k.placed), 'care-number');
      cell(row, k.share_placed === null ? '—' : number(k.share_placed * 100, 1) + ' %', 'care-number');
      cell(row, number(k.median_minutes_to_placement, 1), 'care-number');
      body.appendChild(row);
    });
  }

  function renderFacilities(facilities) {
    var body = el('care-facilities-body');
    body.replaceChildren();
    facilities.forEach(function (f) {
      var row = document.createElement('tr');
      row.dataset.facility = text(f.facility_id);
      cell(row, f.facility_id);
      cell(row, f.name, 'care-name');
      var kind = T[state.lang]['kind_' + f.kind];
      cell(row, kind === undefined ? f.kind : kind);
      cell(row, f.tier);
      ['beds', 'staffed_beds', 'occupied', 'promised', 'free_staffed_beds'].forEach(function (key) {
        cell(row, number(f[key]), 'care-number care-' + key.replace(/_/g, '-'));
      });
      body.appendChild(row);
    });
  }

  function acceptOffer(requestId, facility) {
    if (state.busy) return;
    state.busy = true;
    document.querySelectorAll('button.care-accept').forEach(function (b) { b.disabled = true; });
    request('/transfers/' + encodeURIComponent(requestId) + '/accept', {method: 'POST', body: {facility: facility}})
      .then(function (a) {
        if (a.status === 401 || a.status === 403) { showSignin(DENIED[a.status]); return; }
        if (a.status === 200) {
          say(t('accepted', {id: requestId, facility: facility, km: number(a.body.distance_km, 2)}), 'ok');
        } else if (a.status === 409) {
          say(t('refused', {id: requestId, reason: reasonOf(a.body)}), 'error');
        } else {
          say(t('failed', {status: a.status, reason: reasonOf(a.body)}), 'error');
        }
        return load();
      }, function () { say(t('offline'), 'error'); })
      .then(function () {
        state.busy = false;
        document.querySelectorAll('button.care-accept').forEach(function (b) { b.disabled = false; });
      });
  }

  function translate() {
    document.documentElement.lang = state.lang;
    document.querySelectorAll('[data-i18n]').forEach(function (n) { n.textContent = t(n.dataset.i18n); });
    el('care-lang').lang = state.lang === 'vi' ? 'en' : 'vi';
    document.title = t('title') + (state.lang === 'vi' ? ' — F0 transfer coordination' : ' — Điều phối chuyển tầng F0');
    if (state.transfers) render();
  }

  el('care-lang').addEventListener('click', function () {
    state.lang = state.lang === 'vi' ? 'en' : 'vi';
    try { localStorage.setItem(LANG_KEY, state.lang); } catch (e) { /* storage refused: this page only */ }
    translate();
  });
  el('care-signin-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var token = el('care-token').value.trim();
    if (!token) return;
    state.token = token;
    sessionStorage.setItem(TOKEN_KEY, token);
    el('care-token').value = '';
    say(t('loading'));
    load().then(function () {
      if (state.token && el('care-status').dataset.kind !== 'error') say('');
    });
  });
  el('care-signout').addEventListener('click', function () {
    showSignin();
    say(t('signedOut'));
  });
  el('care-reload').addEventListener('click', function () { load(); });

  window.careBoard = {state: state, load: load};
  translate();
  if (state.token) load(); else showSignin();
  document.body.dataset.careReady = '1';
})();
