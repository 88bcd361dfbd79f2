// Allmine support page: plain browser JavaScript (ES2020), no framework, no build step. Signs in with a
// phone code (session.js), looks a user up through /api/v1/admin, shows the user, their sessions, limits
// and events, and acts on the account, each action confirmed with a reason.
'use strict';

(function support() {
  const { authJson, busy, byId: $, showMessage, signOut, tokens, views, ApiError, SignedOut } = window.AllmineSession;

  const STAFF_ROLES = ['support', 'admin'];
  const EVENTS_PER_PAGE = 10;
  const RESULTS_PER_PAGE = 20;
  const LOOKUP_HINTS = {
    phone: 'In international format, e.g. +90 532 123 45 67.',
    email: 'The login address or the profile address.',
    username: 'Any case.',
    id: '24 hex digits.',
  };
  const LIMIT_LABELS = {
    'send-cooldown': 'Resend cooldown',
    'send-recipient-hour': 'Codes sent this hour',
    'send-recipient-day': 'Codes sent today',
    'verify-recipient-hour': 'Code attempts this hour',
  };
  const CHANNEL_LABELS = { phone: 'Phone number', email: 'E-mail address' };

  const ui = {
    signOut: $('sign-out'),
    signIn: $('sign-in'),
    forbidden: $('forbidden'),
    forbiddenMessage: $('forbidden-message'),
    forbiddenSignOut: $('forbidden-sign-out'),
    desk: $('desk'),
    lookupForm: $('lookup-form'),
    lookupBy: $('lookup-by'),
    lookupValue: $('lookup-value'),
    lookupHint: $('lookup-hint'),
    lookup: $('lookup'),
    status: $('status'),
    deskError: $('desk-error'),
    results: $('results'),
    resultsBody: $('results-table').querySelector('tbody'),
    moreResults: $('more-results'),
    user: $('user'),
    userLoaded: $('user-loaded'),
    facts: $('user-facts'),
    actions: $('user-actions'),
    actSuspend: $('act-suspend'),
    actUnsuspend: $('act-unsuspend'),
    actRevokeAll: $('act-revoke-all'),
    actRoles: $('act-roles'),
    actFinalize: $('act-finalize'),
    actionResult: $('action-result'),
    sessionsCount: $('sessions-count'),
    sessionsBody: $('sessions-table').querySelector('tbody'),
    limits: $('limits'),
    eventsBody: $('events-table').querySelector('tbody'),
    eventsPage: $('events-page'),
    eventsNewer: $('events-newer'),
    eventsOlder: $('events-older'),
    dialog: $('confirm'),
    confirmForm: $('confirm-form'),
    confirmTitle: $('confirm-title'),
    confirmText: $('confirm-text'),
    rolesField: $('roles-field'),
    reason: $('reason'),
    confirmError: $('confirm-error'),
    confirmSubmit: $('confirm-submit'),
    confirmCancel: $('confirm-cancel'),
  };

  /** The signed-in staff member (GET /auth/me). */
  let me = null;
  const isAdmin = () => !!me && me.roles.includes('admin');

  // ------------------------------------------------------------------ formatting

  const dash = (v) => (v === null || v === undefined || v === '' ? '—' : String(v));
  /** `2026-01-15 10:30:00 UTC`: one zone for everyone reading a ticket. */
  const when = (iso) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : '—');
  const phoneOf = (user) =>
    user.phoneNumber ? `${user.countryCode ? `+${user.countryCode.replace(/^\+/, '')} ` : ''}${user.phoneNumber}` : '—';
  const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  /** A table cell holding a <time> (or — without a time). */
  function timeCell(iso, tag = 'td') {
    const cell = el(tag);
    if (!iso) cell.textContent = '—';
    else {
      const time = el('time', when(iso));
      time.dateTime = iso;
      cell.append(time);
    }
    return cell;
  }

  function rowHeader(text, className) {
    const th = el('th', text, className);
    th.scope = 'row';
    return th;
  }

  function emptyRow(body, columns, text) {
    const td = el('td', text, 'empty');
    td.colSpan = columns;
    const tr = el('tr');
    tr.append(td);
    body.replaceChildren(tr);
  }

  // ------------------------------------------------------------------ views

  const show = views({ 'sign-in': ui.signIn, forbidden: ui.forbidden, desk: ui.desk });

  const signIn = window.AllmineSession.signInForm({
    note: 'This page needs the support or admin role.',
    onSignedIn: () => start(),
  });

  function showSignIn(message) {
    me = null;
    current = null;
    closeDialog();
    ui.user.hidden = true;
    ui.results.hidden = true;
    signIn.reset(message);
    show('sign-in');
  }

  function showForbidden(message) {
    closeDialog();
    ui.forbiddenMessage.textContent = message;
    show('forbidden');
  }

  /**
   * What a failed call means for the page: signed out → the sign-in card; refused for lack of a role → the
   * refusal; anything else → `message` in `target`.
   */
  function failed(err, target) {
    if (err instanceof SignedOut) return showSignIn(err.message);
    if (err instanceof ApiError && err.status === 403 && err.errorCode === 'ROLE_REQUIRED' && target === ui.deskError) {
      return showForbidden(`Your account cannot use the admin API (${err.message}).`);
    }
    if (!(err instanceof ApiError)) console.error(err); // a bug in this page, not a server answer
    showMessage(target, err.message);
  }

  /** After sign-in or a reload with a token: who is this, and may they use the page? */
  async function start() {
    try {
      me = await authJson('/auth/me');
    } catch (err) {
      if (err instanceof SignedOut) return showSignIn(err.message);
      show('desk');
      return failed(err, ui.deskError);
    }
    const roles = Array.isArray(me.roles) ? me.roles : [];
    if (!roles.some((r) => STAFF_ROLES.includes(r))) {
      return showForbidden(`Your account has the roles: ${roles.join(', ') || 'none'}. Support and admin only.`);
    }
    document.body.classList.toggle('is-admin', isAdmin());
    show('desk');
    ui.lookupValue.focus();
  }

  ui.signOut.addEventListener('click', () => {
    signOut();
    showSignIn();
  });
  ui.forbiddenSignOut.addEventListener('click', () => {
    signOut();
    showSignIn();
  });

  // ------------------------------------------------------------------ look-up

  let lookupQuery = null; // the query of the results shown, for "More results"
  let lookupCursor = null;

  function updateHint() {
    ui.lookupHint.textContent = LOOKUP_HINTS[ui.lookupBy.value] || '';
    ui.lookupValue.type = ui.lookupBy.value === 'email' ? 'email' : 'search';
  }
  ui.lookupBy.addEventListener('change', updateHint);

  ui.lookupForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = ui.lookupValue.value.trim();
    if (!value) return showMessage(ui.deskError, 'Enter what to look for.');
    showMessage(ui.deskError, '');
    ui.results.hidden = true;
    ui.user.hidden = true;
    current = null;
    lookupQuery = new URLSearchParams({ [ui.lookupBy.value]: value, limit: String(RESULTS_PER_PAGE) });
    lookupCursor = null;
    await lookUp(false);
  });

  ui.moreResults.addEventListener('click', () => void lookUp(true));

  async function lookUp(more) {
    const query = new URLSearchParams(lookupQuery);
    if (more && lookupCursor) query.set('cursor', lookupCursor);
    busy(more ? ui.moreResults : ui.lookup, true, more ? 'Loading…' : 'Looking up…');
    ui.status.textContent = 'Looking up…';
    try {
      const page = await authJson(`/admin/users?${query}`);
      lookupCursor = page.nextCursor;
      ui.status.textContent = '';
      if (!more && page.items.length === 1 && !page.nextCursor) return await openUser(page.items[0].user.id);
      if (!more && page.items.length === 0) {
        ui.status.textContent = 'No user found.';
        return;
      }
      renderResults(page.items, more);
    } catch (err) {
      ui.status.textContent = '';
      failed(err, ui.deskError);
    } finally {
      busy(more ? ui.moreResults : ui.lookup, false, more ? 'Loading…' : 'Looking up…');
    }
  }

  function renderResults(items, append) {
    if (!append) ui.resultsBody.replaceChildren();
    for (const found of items) {
      const tr = el('tr');
      tr.dataset.userId = found.user.id;
      const open = el('button', 'Open', 'btn');
      open.type = 'button';
      open.setAttribute('aria-label', `Open user ${found.user.id}`);
      open.addEventListener('click', () => void openUser(found.user.id));
      const action = el('td');
      action.append(open);
      tr.append(
        rowHeader(phoneOf(found.user)),
        el('td', dash(found.user.email)),
        el('td', dash(found.user.username)),
        timeCell(found.createdAt),
        el('td', found.suspended ? 'Yes' : 'No'),
        action,
      );
      ui.resultsBody.append(tr);
    }
    ui.moreResults.hidden = !lookupCursor;
    ui.results.hidden = false;
  }

  // ------------------------------------------------------------------ the user

  /** The user shown: their detail as last loaded, and the events' page cursors (index 0: the newest). */
  let current = null;

  async function openUser(id) {
    ui.results.hidden = ui.resultsBody.children.length === 0;
    showMessage(ui.actionResult, '');
    current = { id, detail: null, cursors: [null], page: 0, nextCursor: null };
    await reloadUser();
    if (!ui.user.hidden) ui.facts.closest('section').scrollIntoView({ block: 'start' });
  }

  /** Loads the user and the first page of their events again (an action's event is then on that page). */
  async function reloadUser() {
    if (!current) return;
    const user = current;
    user.cursors = [null];
    user.page = 0;
    ui.user.dataset.state = 'loading';
    ui.user.setAttribute('aria-busy', 'true');
    try {
      const [detail] = await Promise.all([authJson(`/admin/users/${user.id}`), loadEvents(user)]);
      if (current !== user) return; // another user was opened meanwhile
      user.detail = detail;
      renderUser(detail);
      ui.userLoaded.textContent = `Loaded ${when(new Date().toISOString()).slice(11)}`;
      ui.user.hidden = false;
      ui.user.dataset.state = 'ready';
    } catch (err) {
      if (current !== user) return;
      ui.user.dataset.state = 'error';
      failed(err, ui.deskError);
    } finally {
      ui.user.removeAttribute('aria-busy');
    }
  }

  function renderUser(detail) {
    const u = detail.user;
    const facts = [
      ['User id', u.id],
      ['Phone', phoneOf(u)],
      ['E-mail', dash(u.email)],
      ['Username', dash(u.username)],
      ['Name', dash([u.name, u.surname].filter(Boolean).join(' '))],
      ['Roles', u.roles.join(', ')],
      ['Registered', `${when(detail.createdAt)}${u.isRegistrationComplete ? '' : ' (registration not completed)'}`],
      ['Last login', when(u.lastLogin)],
      ['Suspended', detail.suspended ? `Yes, since ${when(detail.suspendedAt)}` : 'No'],
      ['Deletion', deletionText(detail.deletion)],
    ];
    ui.facts.replaceChildren(
      ...facts.flatMap(([term, value]) => {
        const dd = el('dd', value);
        dd.dataset.fact = term;
        return [el('dt', term), dd];
      }),
    );
    ui.user.dataset.userId = u.id;
    ui.user.dataset.suspended = String(detail.suspended);

    const erased = detail.deletion.status === 'finalized';
    const live = detail.sessions.filter((s) => s.live).length;
    ui.actSuspend.hidden = detail.suspended;
    ui.actUnsuspend.hidden = !detail.suspended;
    ui.actSuspend.disabled = erased;
    ui.actUnsuspend.disabled = erased;
    ui.actRevokeAll.disabled = live === 0;
    ui.actRoles.disabled = erased;
    ui.actFinalize.disabled = erased;
    for (const button of ui.actions.querySelectorAll('.admin-only')) button.hidden = !isAdmin();

    renderSessions(detail.sessions, live);
    renderLimits(detail.limits);
  }

  function deletionText(d) {
    switch (d.status) {
      case 'pending':
        return `Requested ${when(d.requestedAt)}; erased on ${when(d.scheduledFor)}`;
      case 'cancelled':
        return `Cancelled ${when(d.cancelledAt)} (requested ${when(d.requestedAt)})`;
      case 'finalized':
        return `Erased ${when(d.finalizedAt)}`;
      default:
        return 'Not requested';
    }
  }

  function sessionState(s) {
    if (s.revokedAt) return `Revoked ${when(s.revokedAt)}${s.revokedReason ? ` (${s.revokedReason})` : ''}`;
    if (!s.live) return `Expired ${when(s.expiresAt)}`;
    return `Live until ${when(s.expiresAt)}`;
  }

  function renderSessions(sessions, live) {
    ui.sessionsCount.textContent = `${plural(live, 'live session')}, ${sessions.length} shown`;
    if (sessions.length === 0) return emptyRow(ui.sessionsBody, 7, 'No sessions.');
    ui.sessionsBody.replaceChildren(
      ...sessions.map((s) => {
        const tr = el('tr');
        tr.dataset.sessionId = s.id;
        tr.dataset.live = String(s.live);
        const device = rowHeader(
          [s.deviceId, s.appVersion && `v${s.appVersion}`].filter(Boolean).join(' · ') || 'Unknown device',
        );
        if (s.userAgent) device.append(el('div', s.userAgent, 'muted small'));
        const action = el('td');
        if (s.live) {
          const revoke = el('button', 'Revoke', 'btn');
          revoke.type = 'button';
          revoke.setAttribute('aria-label', `Revoke session ${s.id}`);
          revoke.addEventListener('click', () => openDialog('revokeOne', { session: s }));
          action.append(revoke);
        }
        tr.append(
          device,
          el('td', dash(s.platform)),
          el('td', dash(s.ip)),
          timeCell(s.createdAt),
          timeCell(s.lastUsedAt),
          el('td', sessionState(s), s.live ? '' : 'muted'),
          action,
        );
        return tr;
      }),
    );
  }

  function renderLimits(channels) {
    if (channels.length === 0) {
      ui.limits.replaceChildren(el('p', 'No phone number or e-mail address: no limits.', 'muted'));
      return;
    }
    ui.limits.replaceChildren(
      ...channels.map((c) => {
        const box = el('section', undefined, 'limits-channel');
        box.dataset.channel = c.channel;
        const titleId = `limits-${c.channel}`;
        const title = el('h3', CHANNEL_LABELS[c.channel] || c.channel);
        title.id = titleId;
        box.setAttribute('aria-labelledby', titleId);
        const table = el('table');
        const head = el('tr');
        for (const name of ['Limit', 'Used', 'Remaining', 'State', 'Resets']) {
          const th = el('th', name, name === 'Used' || name === 'Remaining' ? 'num' : '');
          th.scope = 'col';
          head.append(th);
        }
        table.append(el('thead'), el('tbody'));
        table.tHead.append(head);
        for (const l of c.limits) {
          const tr = el('tr', undefined, l.blocked ? 'blocked' : '');
          tr.dataset.limit = l.name;
          tr.append(
            rowHeader(LIMIT_LABELS[l.name] || l.name),
            el('td', `${l.used} of ${l.limit}`, 'num'),
            el('td', String(l.remaining), 'num'),
            el('td', l.blocked ? 'Blocked' : 'OK'),
            timeCell(l.resetsAt),
          );
          table.tBodies[0].append(tr);
        }
        const wrap = el('div', undefined, 'table-wrap');
        wrap.append(table);
        box.append(title, wrap, el('p', codeText(c.code), 'muted code-state'));
        return box;
      }),
    );
  }

  function codeText(code) {
    if (!code) return 'No current code.';
    const state = code.dead ? 'dead: out of attempts, a new code must be sent' : code.expired ? 'expired' : 'usable';
    return `Current code: sent ${when(code.sentAt)}, expires ${when(code.expiresAt)}; ${code.attempts} of ${code.maxAttempts} attempts used; ${state}.`;
  }

  // ------------------------------------------------------------------ events

  async function loadEvents(user) {
    const query = new URLSearchParams({ limit: String(EVENTS_PER_PAGE) });
    const cursor = user.cursors[user.page];
    if (cursor) query.set('cursor', cursor);
    const page = await authJson(`/admin/users/${user.id}/events?${query}`);
    if (current !== user) return;
    user.nextCursor = page.nextCursor;
    renderEvents(page.items, user);
  }

  function actorText(a) {
    const roles = a.roles.filter((r) => r !== 'user');
    return [a.kind, a.userId, roles.length ? `(${roles.join(', ')})` : ''].filter(Boolean).join(' ');
  }

  function detailsText(e) {
    const parts = [];
    if (e.count !== null) parts.push(`count ${e.count}`);
    if (e.sessionId) parts.push(`session ${e.sessionId}`);
    for (const [key, value] of Object.entries(e.details || {}))
      parts.push(
        `${key}: ${Array.isArray(value) ? value.join(', ') || '—' : typeof value === 'object' && value !== null ? JSON.stringify(value) : value}`,
      );
    return parts.join('; ') || '—';
  }

  function renderEvents(items, user) {
    ui.eventsPage.textContent = `Page ${user.page + 1}, newest first`;
    ui.eventsNewer.disabled = user.page === 0;
    ui.eventsOlder.disabled = !user.nextCursor;
    if (items.length === 0) return emptyRow(ui.eventsBody, 6, 'No events.');
    ui.eventsBody.replaceChildren(
      ...items.map((e) => {
        const tr = el('tr');
        tr.dataset.type = e.type;
        tr.dataset.eventId = e.id;
        tr.append(
          timeCell(e.at, 'th'),
          el('td', e.type),
          el('td', actorText(e.actor)),
          el('td', dash(e.reason)),
          el('td', [e.ip, e.platform, e.deviceId].filter(Boolean).join(' · ') || '—'),
          el('td', detailsText(e), 'details'),
        );
        tr.firstChild.scope = 'row';
        return tr;
      }),
    );
  }

  async function turnEventsPage(step) {
    const user = current;
    if (!user) return;
    const button = step > 0 ? ui.eventsOlder : ui.eventsNewer;
    if (step > 0) user.cursors[user.page + 1] = user.nextCursor;
    user.page += step;
    busy(button, true);
    try {
      await loadEvents(user);
    } catch (err) {
      user.page -= step;
      failed(err, ui.deskError);
    } finally {
      if (current === user) {
        ui.eventsNewer.disabled = user.page === 0;
        ui.eventsOlder.disabled = !user.nextCursor;
      }
    }
  }
  ui.eventsOlder.addEventListener('click', () => void turnEventsPage(1));
  ui.eventsNewer.addEventListener('click', () => void turnEventsPage(-1));

  // ------------------------------------------------------------------ actions

  const userPath = (suffix = '') => `/admin/users/${current.id}${suffix}`;
  const sessionsEnded = (n) => `${plural(n, 'session')} ended`;

  /** Each action: its dialog's words, its call, and what its answer says. */
  const ACTIONS = {
    suspend: {
      title: 'Suspend this user?',
      text: () => 'They can no longer sign in or refresh, and every live session ends.',
      confirm: 'Suspend',
      call: () => [userPath('/suspend'), 'POST'],
      done: (r) =>
        r.changed
          ? `Suspended; ${sessionsEnded(r.revokedSessions)}.`
          : `Already suspended; ${sessionsEnded(r.revokedSessions)}.`,
    },
    unsuspend: {
      title: 'Lift the suspension?',
      text: () => 'They can sign in again; the sessions the suspension ended stay ended.',
      confirm: 'Unsuspend',
      call: () => [userPath('/unsuspend'), 'POST'],
      done: (r) => (r.changed ? 'Suspension lifted.' : 'The account was not suspended.'),
    },
    revokeAll: {
      title: 'Revoke every session?',
      text: () => 'Every live session of the user ends; they sign in again with a code.',
      confirm: 'Revoke all sessions',
      call: () => [userPath('/sessions/revoke'), 'POST'],
      done: (r) => `Sessions revoked: ${sessionsEnded(r.revokedSessions)}.`,
    },
    revokeOne: {
      title: 'Revoke this session?',
      text: ({ session }) =>
        `Session ${session.id} (${[session.deviceId, session.platform, session.ip].filter(Boolean).join(', ') || 'unknown device'}) ends.`,
      confirm: 'Revoke session',
      call: ({ session }) => [userPath(`/sessions/${session.id}`), 'DELETE'],
      done: (r) => (r.revoked ? `Session ${r.sessionId} revoked.` : `Session ${r.sessionId} had ended already.`),
    },
    resetLimits: {
      title: 'Reset the limits?',
      text: () =>
        'Clears the resend cooldown and the send and verify budgets of the user’s number and address, and a code that is out of attempts: the owner can ask for a code at once.',
      confirm: 'Reset limits',
      call: () => [userPath('/limits/reset'), 'POST'],
      done: (r) => `Limits reset${r.deadCodesCleared ? `; ${plural(r.deadCodesCleared, 'dead code')} cleared` : ''}.`,
    },
    roles: {
      title: 'Change the roles?',
      text: () => 'Removing a role ends every session of the user; an added role is in their next sign-in.',
      confirm: 'Save roles',
      roles: true,
      call: () => [userPath('/roles'), 'PUT'],
      done: (r) =>
        `Roles now: ${r.roles.join(', ')}${r.revokedSessions ? `; ${sessionsEnded(r.revokedSessions)}` : ''}.`,
    },
    finalize: {
      title: 'Erase this account now?',
      text: () =>
        'Personal data and login history are erased, every session ends, and the number, address and username are released. This cannot be undone.',
      confirm: 'Erase account',
      call: () => [userPath('/account-deletion/finalize'), 'POST'],
      done: () => 'Account erased.',
    },
  };

  let pending = null; // { action, args } of the open dialog

  function openDialog(name, args = {}) {
    if (!current || !current.detail) return;
    const action = ACTIONS[name];
    pending = { action, args };
    ui.dialog.dataset.action = name;
    ui.confirmTitle.textContent = action.title;
    ui.confirmText.textContent = action.text(args);
    ui.confirmSubmit.textContent = action.confirm;
    delete ui.confirmSubmit.dataset.label;
    ui.rolesField.hidden = !action.roles;
    for (const box of ui.rolesField.querySelectorAll('input[name="role"]'))
      box.checked = box.value === 'user' || current.detail.user.roles.includes(box.value);
    ui.reason.value = '';
    showMessage(ui.confirmError, '');
    ui.dialog.showModal();
    ui.reason.focus();
  }

  function closeDialog() {
    pending = null;
    if (ui.dialog.open) ui.dialog.close();
  }

  for (const button of ui.actions.querySelectorAll('button[data-action]')) {
    button.addEventListener('click', () => openDialog(button.dataset.action));
  }
  ui.confirmCancel.addEventListener('click', () => closeDialog());
  ui.dialog.addEventListener('close', () => {
    pending = null;
  });

  ui.confirmForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!pending) return;
    const { action, args } = pending;
    const reason = ui.reason.value.trim();
    if (reason.length < 3 || reason.length > 500) {
      showMessage(ui.confirmError, 'Give a reason of 3 to 500 characters: it is recorded in the audit trail.');
      return ui.reason.focus();
    }
    const [path, method] = action.call(args);
    const body = { reason };
    if (action.roles)
      body.roles = [...ui.rolesField.querySelectorAll('input[name="role"]:checked')].map((box) => box.value);
    showMessage(ui.confirmError, '');
    busy(ui.confirmSubmit, true, 'Working…');
    let message = null;
    try {
      message = action.done(await authJson(path, { method, body }));
      closeDialog();
    } catch (err) {
      if (err instanceof SignedOut) return showSignIn(err.message);
      if (!(err instanceof ApiError)) console.error(err);
      // The dialog stays open with the API's answer; the user behind it is re-loaded (it may have changed).
      showMessage(ui.confirmError, err.message);
    } finally {
      busy(ui.confirmSubmit, false, 'Working…');
    }
    await reloadUser();
    if (message) showMessage(ui.actionResult, message);
  });

  // ------------------------------------------------------------------ start

  updateHint();
  if (tokens.access) void start();
  else showSignIn();
})();
