// Allmine signups dashboard: plain browser JavaScript (ES2020), no framework, no build step.
// Signs in with a phone code, then draws the analytics reports of /api/v1/analytics.
'use strict';

(function main() {
  const API = '/api/v1';
  const STORE = {
    access: 'allmine.dashboard.accessToken',
    refresh: 'allmine.dashboard.refreshToken',
    who: 'allmine.dashboard.who',
  };
  const DAY_MS = 86400000;
  const PALETTE = [
    '#4e79a7',
    '#f28e2b',
    '#e15759',
    '#76b7b2',
    '#59a14f',
    '#edc948',
    '#b07aa1',
    '#ff9da7',
    '#9c755f',
    '#86bcb6',
  ];
  const NONE = '(none)';
  const NONE_COLOR = '#b8bec9';

  const $ = (id) => {
    const el = document.getElementById(id);
    if (!el) throw new Error(`#${id} is missing from the page`);
    return el;
  };
  const ui = {
    account: $('account'),
    accountLabel: $('account-label'),
    signOut: $('sign-out'),
    signIn: $('sign-in'),
    signInError: $('sign-in-error'),
    phoneForm: $('phone-form'),
    countryCode: $('country-code'),
    phoneNumber: $('phone-number'),
    sendCode: $('send-code'),
    codeForm: $('code-form'),
    codeHint: $('code-hint'),
    code: $('otp-code'),
    verify: $('verify-code'),
    changeNumber: $('change-number'),
    forbidden: $('forbidden'),
    forbiddenMessage: $('forbidden-message'),
    forbiddenSignOut: $('forbidden-sign-out'),
    reports: $('reports'),
    rangeForm: $('range-form'),
    from: $('from'),
    to: $('to'),
    load: $('load'),
    exportCsv: $('export-csv'),
    status: $('status'),
    reportError: $('report-error'),
    chartTotal: $('chart-total'),
    canvas: $('signups-chart'),
    tableBody: $('campaign-table').querySelector('tbody'),
    tableFoot: $('campaign-table').querySelector('tfoot'),
    funnel: $('funnel'),
  };

  const integer = new Intl.NumberFormat('en-US');
  const percent = new Intl.NumberFormat('en-US', {
    style: 'percent',
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  });
  const shortDay = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
  const longDay = new Intl.DateTimeFormat('en-US', {
    weekday: 'short',
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    timeZone: 'UTC',
  });
  const clockTime = new Intl.DateTimeFormat('en-US', { hour: '2-digit', minute: '2-digit' });

  // ------------------------------------------------------------------ tokens (sessionStorage)

  const tokens = {
    get access() {
      return sessionStorage.getItem(STORE.access);
    },
    get refresh() {
      return sessionStorage.getItem(STORE.refresh);
    },
    save(data) {
      sessionStorage.setItem(STORE.access, data.accessToken);
      sessionStorage.setItem(STORE.refresh, data.refreshToken);
    },
    clear() {
      for (const key of Object.values(STORE)) sessionStorage.removeItem(key);
    },
  };

  // ------------------------------------------------------------------ HTTP

  class ApiError extends Error {
    constructor(status, message, body) {
      super(message);
      this.status = status;
      this.body = body;
    }
  }

  /** Reads the envelope of a response; throws ApiError with `errors.join(' — ')` when it is not a success. */
  async function envelope(res) {
    let body = null;
    try {
      body = await res.json();
    } catch {
      // Not JSON (a proxy's error page, say): the status line has to do.
    }
    if (res.ok && body && body.isSuccess) return body.data;
    const errors =
      body && Array.isArray(body.errors) && body.errors.length > 0
        ? body.errors
        : [`${res.status} ${res.statusText || 'request failed'}`];
    throw new ApiError(res.status, errors.join(' — '), body);
  }

  async function request(path, { method = 'GET', body, auth = false } = {}) {
    const headers = { 'X-Platform': 'admin' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth && tokens.access) headers.Authorization = `Bearer ${tokens.access}`;
    try {
      return await fetch(API + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, 'Network error: the server could not be reached.');
    }
  }

  const postJson = async (path, body) => envelope(await request(path, { method: 'POST', body }));

  // Three reports load at once; when the access token has expired they all get 401 together and share
  // one refresh (refresh tokens rotate on every use).
  let refreshing = null;
  function refreshTokens() {
    refreshing ??= (async () => {
      const refreshToken = tokens.refresh;
      if (!refreshToken) return false;
      try {
        tokens.save(await postJson('/auth/refresh', { refreshToken }));
        return true;
      } catch {
        return false;
      }
    })().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  class SignedOut extends Error {}

  /** An authenticated GET: on 401, one refresh and one retry; after that the user has to sign in again. */
  async function authGet(path) {
    const sentWith = tokens.access;
    let res = await request(path, { auth: true });
    if (res.status === 401) {
      // Another request may have refreshed already while this one was in flight.
      const renewed = tokens.access !== sentWith || (await refreshTokens());
      if (!renewed) throw new SignedOut();
      res = await request(path, { auth: true });
      if (res.status === 401) throw new SignedOut();
    }
    return res;
  }

  // ------------------------------------------------------------------ views

  function show(view) {
    ui.signIn.hidden = view !== 'sign-in';
    ui.forbidden.hidden = view !== 'forbidden';
    ui.reports.hidden = view !== 'reports';
    const signedIn = view !== 'sign-in';
    ui.account.hidden = !signedIn;
    ui.accountLabel.textContent = signedIn ? sessionStorage.getItem(STORE.who) || '' : '';
  }

  function showMessage(el, message) {
    el.textContent = message || '';
    el.hidden = !message;
  }

  function busy(button, isBusy, label) {
    button.disabled = isBusy;
    if (label) {
      button.dataset.label ??= button.textContent;
      button.textContent = isBusy ? label : button.dataset.label;
    }
  }

  // ------------------------------------------------------------------ sign in

  let pendingPhone = null; // { countryCode, phoneNumber } between send-otp and verify-otp

  function showSignIn(message) {
    tokens.clear();
    destroyChart();
    pendingPhone = null;
    ui.codeForm.hidden = true;
    ui.phoneForm.hidden = false;
    ui.code.value = '';
    showMessage(ui.signInError, message);
    show('sign-in');
    ui.phoneNumber.focus();
  }

  ui.phoneForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const countryCode = ui.countryCode.value.trim().replace(/^\+/, '');
    const phoneNumber = ui.phoneNumber.value.replace(/[\s().-]/g, '');
    if (!/^\d{1,4}$/.test(countryCode))
      return showMessage(ui.signInError, 'Enter the country code as digits, for example 90.');
    if (!/^\d{4,15}$/.test(phoneNumber))
      return showMessage(ui.signInError, 'Enter the phone number as digits, without the country code.');
    showMessage(ui.signInError, '');
    busy(ui.sendCode, true, 'Sending…');
    try {
      const data = await postJson('/auth/send-otp', { countryCode, phoneNumber });
      pendingPhone = { countryCode, phoneNumber };
      ui.phoneForm.hidden = true;
      ui.codeForm.hidden = false;
      ui.codeHint.textContent = `We sent a code to ${data.countryCode || `+${countryCode}`} ${data.phoneNumber || phoneNumber}.`;
      // Development and test servers return the code; production never does.
      ui.code.value = typeof data.code === 'string' ? data.code : '';
      ui.code.focus();
    } catch (err) {
      showMessage(ui.signInError, err.message);
    } finally {
      busy(ui.sendCode, false, 'Sending…');
    }
  });

  ui.codeForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const code = ui.code.value.trim();
    if (!pendingPhone) return showSignIn();
    if (!/^\d{4,8}$/.test(code)) return showMessage(ui.signInError, 'Enter the code from the SMS.');
    showMessage(ui.signInError, '');
    busy(ui.verify, true, 'Signing in…');
    try {
      const data = await postJson('/auth/verify-otp', { ...pendingPhone, code });
      tokens.save(data);
      sessionStorage.setItem(STORE.who, `+${pendingPhone.countryCode} ${pendingPhone.phoneNumber}`);
      pendingPhone = null;
      ui.code.value = '';
      show('reports');
      await loadReports();
    } catch (err) {
      showMessage(ui.signInError, err.message);
    } finally {
      busy(ui.verify, false, 'Signing in…');
    }
  });

  ui.changeNumber.addEventListener('click', () => showSignIn());
  ui.signOut.addEventListener('click', () => signOut());
  ui.forbiddenSignOut.addEventListener('click', () => signOut());

  /** Ends the session on the server too (best effort), then shows the sign-in form. */
  function signOut() {
    const access = tokens.access;
    if (access) {
      fetch(`${API}/auth/logout`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${access}`, 'X-Platform': 'admin' },
      }).catch(() => {});
    }
    showSignIn();
  }

  // ------------------------------------------------------------------ date range

  const isoDay = (date) => date.toISOString().slice(0, 10);

  function defaultRange() {
    const today = new Date();
    const to = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
    return { from: isoDay(new Date(to.getTime() - 29 * DAY_MS)), to: isoDay(to) };
  }

  function daysBetween(from, to) {
    const days = [];
    for (
      let t = Date.parse(`${from}T00:00:00Z`), end = Date.parse(`${to}T00:00:00Z`);
      t <= end && days.length <= 1000;
      t += DAY_MS
    ) {
      days.push(isoDay(new Date(t)));
    }
    return days;
  }

  function readRange() {
    const from = ui.from.value;
    const to = ui.to.value;
    if (!from || !to) throw new ApiError(0, 'Choose both dates.');
    if (from > to) throw new ApiError(0, '“From” must be on or before “To”.');
    return { from, to };
  }

  const query = (params) => new URLSearchParams(params).toString().replace(/%2C/g, ',');
  const signupsUrl = (range, groupBy, extra = {}) => `/analytics/signups?${query({ ...range, groupBy, ...extra })}`;

  // ------------------------------------------------------------------ reports

  let loadSeq = 0;

  async function loadReports() {
    let range;
    try {
      range = readRange();
    } catch (err) {
      return showMessage(ui.reportError, err.message);
    }
    const seq = ++loadSeq;
    showMessage(ui.reportError, '');
    ui.reports.dataset.state = 'loading';
    ui.reports.setAttribute('aria-busy', 'true');
    busy(ui.load, true, 'Loading…');
    ui.status.textContent = 'Loading…';
    const get = async (path) => envelope(await authGet(path));
    const results = await Promise.allSettled([
      get(signupsUrl(range, 'day,source')),
      get(signupsUrl(range, 'source,campaign')),
      get(`/analytics/funnel?${query(range)}`),
    ]);
    if (seq !== loadSeq) return; // a newer load has started; its results win
    busy(ui.load, false, 'Loading…');
    ui.reports.removeAttribute('aria-busy');

    const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
    if (failures.some((e) => e instanceof SignedOut)) return showSignIn('Your session has ended. Sign in again.');
    const denied = failures.find((e) => e instanceof ApiError && e.status === 403);
    if (denied) return showForbidden(denied.message);

    const [byDay, byCampaign, funnel] = results;
    if (byDay.status === 'fulfilled') renderChart(range, byDay.value);
    if (byCampaign.status === 'fulfilled') renderTable(byCampaign.value);
    if (funnel.status === 'fulfilled') renderFunnel(funnel.value);
    if (failures.length > 0) {
      const unexpected = failures.find((e) => !(e instanceof ApiError));
      if (unexpected) console.error(unexpected); // a bug in this page, not a server answer
      const messages = [...new Set(failures.map((e) => e.message))];
      showMessage(
        ui.reportError,
        `Could not load ${failures.length === 1 ? 'a report' : 'the reports'}: ${messages.join(' / ')}`,
      );
      ui.reports.dataset.state = 'error';
      ui.status.textContent = '';
    } else {
      ui.reports.dataset.state = 'ready';
      ui.status.textContent = `Updated ${clockTime.format(new Date())}`;
    }
  }

  function showForbidden(message) {
    destroyChart();
    ui.forbiddenMessage.textContent = `Your account cannot see the signup reports (${message}).`;
    show('forbidden');
  }

  ui.rangeForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void loadReports();
  });

  // ------------------------------------------------------------------ chart

  let chart = null;

  function destroyChart() {
    if (chart) chart.destroy();
    chart = null;
  }

  function sourceColors(sources) {
    const colors = new Map();
    let next = 0;
    for (const source of sources) colors.set(source, source === NONE ? NONE_COLOR : PALETTE[next++ % PALETTE.length]);
    return colors;
  }

  function renderChart(range, data) {
    const days = daysBetween(data.from || range.from, data.to || range.to);
    const perSource = new Map(); // source -> Map(day -> signups)
    for (const row of data.rows) {
      const source = row.source ?? NONE;
      if (!perSource.has(source)) perSource.set(source, new Map());
      const byDay = perSource.get(source);
      byDay.set(row.day, (byDay.get(row.day) || 0) + row.signups);
    }
    const total = (m) => [...m.values()].reduce((a, b) => a + b, 0);
    // Biggest sources at the bottom of each stack and first in the legend; "(none)" always last.
    const sources = [...perSource.keys()].sort(
      (a, b) => (a === NONE) - (b === NONE) || total(perSource.get(b)) - total(perSource.get(a)) || a.localeCompare(b),
    );
    const colors = sourceColors(sources);
    const datasets = sources.map((source) => ({
      label: source,
      data: days.map((day) => perSource.get(source).get(day) || 0),
      backgroundColor: colors.get(source),
      borderRadius: 2,
      maxBarThickness: 48,
    }));
    const labels = days.map((day) => shortDay.format(new Date(`${day}T00:00:00Z`)));
    const signups = data.totals ? data.totals.signups : data.rows.reduce((a, r) => a + r.signups, 0);
    ui.chartTotal.textContent = `${integer.format(signups)} signups, ${days.length} days`;
    ui.canvas.setAttribute(
      'aria-label',
      `Stacked bar chart of signups per day by source, ${range.from} to ${range.to}: ${integer.format(signups)} signups from ${sources.length} sources`,
    );
    ui.canvas.dataset.days = days.join(',');

    if (chart) {
      chart.data.labels = labels;
      chart.data.datasets = datasets;
      chart.update();
      return;
    }
    const reduceMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    chart = new Chart(ui.canvas, {
      type: 'bar',
      data: { labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: reduceMotion ? false : { duration: 250 },
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { stacked: true, grid: { display: false }, ticks: { autoSkip: true, maxRotation: 0 } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'Signups' } },
        },
        plugins: {
          legend: { position: 'bottom', labels: { boxWidth: 12, boxHeight: 12, usePointStyle: false } },
          tooltip: {
            filter: (item) => item.parsed.y > 0,
            callbacks: {
              title: (items) =>
                items.length
                  ? longDay.format(new Date(`${ui.canvas.dataset.days.split(',')[items[0].dataIndex]}T00:00:00Z`))
                  : '',
              footer: (items) => `Total: ${integer.format(items.reduce((a, i) => a + i.parsed.y, 0))}`,
            },
          },
        },
      },
    });
  }

  // ------------------------------------------------------------------ table

  const rate = (done, signups) => (signups > 0 ? percent.format(done / signups) : '—');

  function cell(tag, text, className) {
    const el = document.createElement(tag);
    el.textContent = text;
    if (className) el.className = className;
    return el;
  }

  function renderTable(data) {
    const rows = [...data.rows].sort(
      (a, b) =>
        b.signups - a.signups ||
        String(a.source).localeCompare(String(b.source)) ||
        String(a.campaign).localeCompare(String(b.campaign)),
    );
    ui.tableBody.replaceChildren();
    for (const row of rows) {
      const tr = document.createElement('tr');
      tr.dataset.source = row.source ?? NONE;
      tr.dataset.campaign = row.campaign ?? NONE;
      const source = cell('th', row.source ?? NONE, (row.source ?? NONE) === NONE ? 'none' : '');
      source.scope = 'row';
      tr.append(
        source,
        cell('td', row.campaign ?? NONE, (row.campaign ?? NONE) === NONE ? 'none' : ''),
        cell('td', integer.format(row.signups), 'num'),
        cell('td', integer.format(row.registrationsCompleted), 'num'),
        cell('td', rate(row.registrationsCompleted, row.signups), 'num'),
      );
      ui.tableBody.append(tr);
    }
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      const td = cell('td', 'No signups in this range.', 'empty');
      td.colSpan = 5;
      tr.append(td);
      ui.tableBody.append(tr);
    }
    const totals = data.totals || { signups: 0, registrationsCompleted: 0 };
    const foot = document.createElement('tr');
    const label = cell('th', 'Total');
    label.scope = 'row';
    label.colSpan = 2;
    foot.append(
      label,
      cell('td', integer.format(totals.signups), 'num'),
      cell('td', integer.format(totals.registrationsCompleted), 'num'),
      cell('td', rate(totals.registrationsCompleted, totals.signups), 'num'),
    );
    ui.tableFoot.replaceChildren(foot);
  }

  // ------------------------------------------------------------------ funnel

  const FUNNEL_STEPS = [
    ['otpSent', 'Codes sent'],
    ['otpVerified', 'Codes verified'],
    ['signups', 'Signups'],
    ['registrationsCompleted', 'Registrations completed'],
  ];

  function renderFunnel(data) {
    const values = FUNNEL_STEPS.map(([key]) => (typeof data[key] === 'number' ? data[key] : null));
    const max = Math.max(1, ...values.filter((v) => v !== null));
    ui.funnel.replaceChildren();
    FUNNEL_STEPS.forEach(([key, label], i) => {
      const value = values[i];
      const previous = i > 0 ? values[i - 1] : null;
      const li = document.createElement('li');
      li.className = 'funnel-step';
      li.dataset.step = key;

      const head = document.createElement('div');
      head.className = 'funnel-head';
      head.append(
        cell('span', label, 'funnel-label'),
        cell('span', value === null ? 'not tracked' : integer.format(value), 'funnel-value'),
      );

      const track = document.createElement('div');
      track.className = 'funnel-track';
      const bar = document.createElement('div');
      bar.className = 'funnel-bar';
      bar.style.width = `${value ? Math.max(0.5, (value / max) * 100) : 0}%`; // a sliver for tiny non-zero steps
      track.append(bar);

      let note = '';
      if (i > 0)
        note = value !== null && previous ? `${rate(value, previous)} of ${FUNNEL_STEPS[i - 1][1].toLowerCase()}` : '—';
      li.append(head, track, cell('span', note, 'funnel-conversion muted'));
      ui.funnel.append(li);
    });
  }

  // ------------------------------------------------------------------ CSV export

  ui.exportCsv.addEventListener('click', async () => {
    let range;
    try {
      range = readRange();
    } catch (err) {
      return showMessage(ui.reportError, err.message);
    }
    showMessage(ui.reportError, '');
    busy(ui.exportCsv, true, 'Exporting…');
    try {
      const res = await authGet(signupsUrl(range, 'day,source', { format: 'csv' }));
      if (!res.ok) await envelope(res); // throws with the server's message
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `allmine-signups_${range.from}_${range.to}.csv`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (err) {
      if (err instanceof SignedOut) return showSignIn('Your session has ended. Sign in again.');
      if (err instanceof ApiError && err.status === 403) return showForbidden(err.message);
      showMessage(ui.reportError, `Could not export: ${err.message}`);
    } finally {
      busy(ui.exportCsv, false, 'Exporting…');
    }
  });

  // ------------------------------------------------------------------ start

  const initial = defaultRange();
  ui.from.value = initial.from;
  ui.to.value = initial.to;
  if (tokens.access) {
    show('reports');
    void loadReports();
  } else {
    showSignIn();
  }
})();
