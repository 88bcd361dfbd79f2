// Allmine signups dashboard: plain browser JavaScript (ES2020), no framework, no build step.
// Signs in with a phone code, then draws the analytics reports of /api/v1/analytics.
'use strict';

(function main() {
  const {
    authFetch,
    authJson,
    envelope,
    tokens,
    ApiError,
    SignedOut,
    byId: $,
    showMessage,
    busy,
    views,
    signOut,
    signInForm,
  } = window.AllmineSession;
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

  const ui = {
    signOut: $('sign-out'),
    signIn: $('sign-in'),
    forbidden: $('forbidden'),
    forbiddenMessage: $('forbidden-message'),
    forbiddenSignOut: $('forbidden-sign-out'),
    reports: $('reports'),
    rangeForm: $('range-form'),
    from: $('from'),
    to: $('to'),
    tz: $('tz'),
    load: $('load'),
    exportCsv: $('export-csv'),
    status: $('status'),
    reportError: $('report-error'),
    chartTotal: $('chart-total'),
    cohortZone: $('cohort-zone'),
    canvas: $('signups-chart'),
    tableBody: $('campaign-table').querySelector('tbody'),
    tableFoot: $('campaign-table').querySelector('tfoot'),
    cohortBody: $('cohort-table').querySelector('tbody'),
    cohortFoot: $('cohort-table').querySelector('tfoot'),
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

  // ------------------------------------------------------------------ views, sign in

  const show = views({ 'sign-in': ui.signIn, forbidden: ui.forbidden, reports: ui.reports });

  const signIn = signInForm({
    note: 'Reports need the marketing or admin role.',
    onSignedIn: async () => {
      show('reports');
      await loadReports();
    },
  });

  function showSignIn(message) {
    destroyChart();
    signIn.reset(message);
    show('sign-in');
  }

  const signOutAndShowSignIn = () => {
    signOut();
    showSignIn();
  };
  ui.signOut.addEventListener('click', signOutAndShowSignIn);
  ui.forbiddenSignOut.addEventListener('click', signOutAndShowSignIn);

  // ------------------------------------------------------------------ time zone

  // The reports count the calendar days of an IANA zone, their `tz`. The picker starts at the zone the user chose
  // last (localStorage). Without one it starts at the server's ANALYTICS_DEFAULT_TZ (docs/api.md#analytics), not
  // at the browser's zone: that setting is the team's reporting zone, the one spend uploads' days are meant in, so
  // every marketer sees the same days as the API and its other users. No endpoint publishes it, but every report
  // repeats the zone it used; so only that first load goes without `tz`, and the picker takes the zone from its
  // answer. Every later request names the picker's zone, the CSV export included.
  const ZONE_KEY = 'allmine.dashboard.timeZone';
  const FALLBACK_ZONES = [
    'UTC',
    'Europe/London',
    'Europe/Berlin',
    'Europe/Istanbul',
    'Asia/Kolkata',
    'America/New_York',
  ];

  /** The browser's id of an IANA zone (aliases share one: Asia/Kolkata and Asia/Calcutta), or null if unknown. */
  function zoneId(name) {
    try {
      return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    } catch {
      return null;
    }
  }

  /** "Asia/Kolkata (UTC+05:30)": the zone and its offset now. */
  function zoneLabel(name, now) {
    let offset = '';
    try {
      const parts = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'longOffset' }).formatToParts(now);
      offset = (parts.find((p) => p.type === 'timeZoneName') || { value: '' }).value.replace(/^GMT/, 'UTC');
    } catch {
      // no offset names in this browser: the zone alone
    }
    if (offset === 'UTC') offset = 'UTC+00:00'; // some browsers write a zero offset as a bare "GMT"
    return offset && name !== 'UTC' ? `${name} (${offset})` : name;
  }

  function storedZone() {
    try {
      const zone = localStorage.getItem(ZONE_KEY);
      return zone && zoneId(zone) ? zone : '';
    } catch {
      return ''; // storage blocked
    }
  }

  function storeZone(zone) {
    try {
      localStorage.setItem(ZONE_KEY, zone);
    } catch {
      // storage blocked: the choice lasts for this page only
    }
  }

  /** The picker's options: every zone the browser knows, one per alias group, UTC first. */
  function fillZones(wanted) {
    let listed = [];
    try {
      if (typeof Intl.supportedValuesOf === 'function') listed = Intl.supportedValuesOf('timeZone');
    } catch {
      listed = [];
    }
    const byId = new Map(); // zoneId -> the name shown; the names below win over the browser's old spellings
    const add = (name, preferred) => {
      const id = name && zoneId(name);
      if (id && (preferred || !byId.has(id))) byId.set(id, name);
    };
    for (const name of listed) add(name, false);
    for (const name of [...FALLBACK_ZONES, ...wanted]) add(name, true);
    const names = [...byId.values()].sort((a, b) => (b === 'UTC') - (a === 'UTC') || a.localeCompare(b));
    const now = new Date();
    const placeholder = ui.tz.querySelector('option[value=""]');
    ui.tz.replaceChildren(
      ...(placeholder ? [placeholder] : []),
      ...names.map((name) => {
        const option = new Option(zoneLabel(name, now), name);
        option.dataset.zoneId = zoneId(name);
        return option;
      }),
    );
  }

  /** Shows `zone` in the picker (an alias selects its group's option; an unknown name gets one). */
  function selectZone(zone) {
    const id = zoneId(zone);
    if (!id) return;
    let option =
      [...ui.tz.options].find((o) => o.value === zone) || [...ui.tz.options].find((o) => o.dataset.zoneId === id);
    if (!option) {
      option = new Option(zoneLabel(zone, new Date()), zone);
      option.dataset.zoneId = id;
      ui.tz.append(option);
    }
    ui.tz.value = option.value;
    const placeholder = ui.tz.querySelector('option[value=""]');
    if (placeholder) placeholder.remove(); // the zone is known from now on
  }

  /** The picker's zone, or '' before the server's default is known. */
  const readZone = () => ui.tz.value;

  /** "Days in Asia/Kolkata": the zone a report's days are in, as its answer says. */
  function showZone(zone) {
    ui.cohortZone.textContent = zone ? `Days in ${zone}.` : '';
    ui.reports.dataset.tz = zone || '';
  }

  // ------------------------------------------------------------------ date range

  const isoDay = (date) => date.toISOString().slice(0, 10);

  /** Today's date in `zone` (UTC while no zone is known). */
  function todayIn(zone) {
    try {
      const parts = new Intl.DateTimeFormat('en-US', {
        timeZone: zone || 'UTC',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
      }).formatToParts(new Date());
      const part = (type) => parts.find((p) => p.type === type).value;
      return `${part('year')}-${part('month')}-${part('day')}`;
    } catch {
      return isoDay(new Date());
    }
  }

  function defaultRange(zone) {
    const to = todayIn(zone);
    return { from: isoDay(new Date(Date.parse(`${to}T00:00:00Z`) - 29 * DAY_MS)), to };
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
    const tz = readZone();
    return tz ? { from, to, tz } : { from, to };
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
    const results = await Promise.allSettled([
      authJson(signupsUrl(range, 'day,source')),
      authJson(signupsUrl(range, 'source,campaign')),
      authJson(`/analytics/funnel?${query(range)}`),
      authJson(`/analytics/retention?${query(range)}`),
    ]);
    if (seq !== loadSeq) return; // a newer load has started; its results win
    busy(ui.load, false, 'Loading…');
    ui.reports.removeAttribute('aria-busy');

    const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
    if (failures.some((e) => e instanceof SignedOut)) return showSignIn('Your session has ended. Sign in again.');
    const denied = failures.find((e) => e instanceof ApiError && e.status === 403);
    if (denied) return showForbidden(denied.message);

    const [byDay, byCampaign, funnel, retention] = results;
    const answered = results.find((r) => r.status === 'fulfilled');
    if (answered && answered.value.tz) {
      if (!readZone()) selectZone(answered.value.tz); // the first load, without `tz`: the server's default
      showZone(answered.value.tz);
    }
    if (byDay.status === 'fulfilled') renderChart(range, byDay.value);
    if (byCampaign.status === 'fulfilled') renderTable(byCampaign.value);
    if (funnel.status === 'fulfilled') renderFunnel(funnel.value);
    if (retention.status === 'fulfilled') renderCohorts(retention.value);
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

  ui.tz.addEventListener('change', () => {
    if (!readZone()) return;
    storeZone(readZone());
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
    const zone = data.tz ? ` in ${data.tz}` : '';
    ui.chartTotal.textContent = `${integer.format(signups)} signups, ${days.length} days${zone}`;
    ui.canvas.setAttribute(
      'aria-label',
      `Stacked bar chart of signups per day${zone} by source, ${range.from} to ${range.to}: ${integer.format(signups)} signups from ${sources.length} sources`,
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

  const money = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  /** Spend lines as text, one per currency (never converted): `USD 60.00 · TRY 300.00`; — without spend. */
  const perCurrency = (spend, key) => {
    const parts = (spend || []).filter((s) => s[key] !== null).map((s) => `${s.currency} ${money.format(s[key])}`);
    return parts.length ? parts.join(' · ') : '—';
  };
  const costCells = (spend) => [
    cell('td', perCurrency(spend, 'amount'), 'num spend'),
    cell('td', perCurrency(spend, 'costPerSignup'), 'num'),
    cell('td', perCurrency(spend, 'costPerCompletedRegistration'), 'num'),
  ];

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
        ...costCells(row.spend),
      );
      ui.tableBody.append(tr);
    }
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      const td = cell('td', 'No signups in this range.', 'empty');
      td.colSpan = 8;
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
      ...costCells(totals.spend),
    );
    ui.tableFoot.replaceChildren(foot);
  }

  // ------------------------------------------------------------------ cohorts

  const share = (v) => (v === null ? '—' : percent.format(v));

  function cohortRow(label, r) {
    const tr = document.createElement('tr');
    const head = cell('th', label);
    head.scope = 'row';
    tr.append(
      head,
      cell('td', integer.format(r.signups), 'num'),
      cell('td', share(r.retentionDay1), 'num'),
      cell('td', share(r.retentionDay7), 'num'),
      cell('td', share(r.retentionDay30), 'num'),
    );
    return tr;
  }

  function renderCohorts(data) {
    ui.cohortBody.replaceChildren(
      ...data.rows.map((r) => {
        const tr = cohortRow(r.day, r);
        tr.dataset.day = r.day;
        return tr;
      }),
    );
    if (data.rows.length === 0) {
      const tr = document.createElement('tr');
      const td = cell('td', 'No signups in this range.', 'empty');
      td.colSpan = 5;
      tr.append(td);
      ui.cohortBody.append(tr);
    }
    ui.cohortFoot.replaceChildren(cohortRow('All', data.totals));
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
      const res = await authFetch(signupsUrl(range, 'day,source', { format: 'csv' }));
      if (!res.ok) await envelope(res); // throws with the server's message
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      const zone = range.tz ? `_${range.tz.replace(/[^A-Za-z0-9_+-]+/g, '-')}` : '';
      a.download = `allmine-signups_${range.from}_${range.to}${zone}.csv`;
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

  const zone = storedZone();
  fillZones(zone ? [zone] : []);
  if (zone) selectZone(zone);
  const initial = defaultRange(zone);
  ui.from.value = initial.from;
  ui.to.value = initial.to;
  if (tokens.access) {
    show('reports');
    void loadReports();
  } else {
    showSignIn();
  }
})();
