// Allmine dashboards: signing in with a phone code and calling the API, shared by the pages under
// /dashboard (plain browser JavaScript, ES2020, no build step). A classic script: it defines one global,
// `window.AllmineSession`; load it before the page's own script (both `defer`).
//
// - tokens: the access and refresh tokens in sessionStorage (per tab; gone when the tab closes);
// - envelope(res): the API's envelope → its `data`, or an ApiError carrying `errors.join(' — ')`;
// - authFetch / authJson: an authenticated call; on 401 one refresh (shared by the calls that failed
//   together: refresh tokens rotate) and one retry, then SignedOut;
// - signInForm: the phone-code sign-in card (send-otp, then verify-otp), its markup included;
// - views, byId, showMessage, busy: the few DOM helpers both pages need.
'use strict';

window.AllmineSession = (function session() {
  const API = '/api/v1';
  const STORE = {
    access: 'allmine.dashboard.accessToken',
    refresh: 'allmine.dashboard.refreshToken',
    who: 'allmine.dashboard.who',
  };
  /** Every call says it comes from a staff page (the audit trail and the sessions record the platform). */
  const CLIENT_HEADERS = { 'X-Platform': 'admin' };

  // ------------------------------------------------------------------ tokens (sessionStorage)

  const tokens = {
    get access() {
      return sessionStorage.getItem(STORE.access);
    },
    get refresh() {
      return sessionStorage.getItem(STORE.refresh);
    },
    /** Who signed in, as shown in the page's header (`+90 5321234567`). */
    get who() {
      return sessionStorage.getItem(STORE.who) || '';
    },
    save(data, who) {
      sessionStorage.setItem(STORE.access, data.accessToken);
      sessionStorage.setItem(STORE.refresh, data.refreshToken);
      if (who !== undefined) sessionStorage.setItem(STORE.who, who);
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
      this.errorCode = (body && body.errorCode) || null;
    }
  }

  /** The session has ended (the refresh token too): the user has to sign in again. */
  class SignedOut extends Error {
    constructor() {
      super('Your session has ended. Sign in again.');
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

  /** One call of the API (`path` below /api/v1), with the bearer token when `auth`. Network failures: ApiError 0. */
  async function request(path, { method = 'GET', body, auth = false } = {}) {
    const headers = { ...CLIENT_HEADERS };
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

  // Calls made together all get 401 together when the access token has expired; they share one refresh.
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

  /** An authenticated call: on 401, one refresh and one retry; after that, SignedOut. Resolves to the Response. */
  async function authFetch(path, options = {}) {
    const sentWith = tokens.access;
    let res = await request(path, { ...options, auth: true });
    if (res.status === 401) {
      // Another call may have refreshed already while this one was in flight.
      const renewed = tokens.access !== sentWith || (await refreshTokens());
      if (!renewed) throw new SignedOut();
      res = await request(path, { ...options, auth: true });
      if (res.status === 401) throw new SignedOut();
    }
    return res;
  }

  /** authFetch, then the envelope's `data`. */
  const authJson = async (path, options) => envelope(await authFetch(path, options));

  /** Ends the session on the server too (best effort) and forgets the tokens. */
  function signOut() {
    const access = tokens.access;
    if (access) {
      fetch(`${API}/auth/logout`, {
        method: 'POST',
        headers: { ...CLIENT_HEADERS, Authorization: `Bearer ${access}` },
      }).catch(() => {});
    }
    tokens.clear();
  }

  // ------------------------------------------------------------------ small DOM helpers

  /** The element with this id; throws when the page lacks it (a bug of the page, found at once). */
  function byId(id) {
    const el = document.getElementById(id);
    if (!el) throw new Error(`#${id} is missing from the page`);
    return el;
  }

  /** Shows `message` in an alert or status element, or hides it when there is none. */
  function showMessage(el, message) {
    el.textContent = message || '';
    el.hidden = !message;
  }

  /** Disables a button while its call runs, with `label` meanwhile. */
  function busy(button, isBusy, label) {
    button.disabled = isBusy;
    if (label) {
      button.dataset.label ??= button.textContent;
      button.textContent = isBusy ? label : button.dataset.label;
    }
  }

  /**
   * The views of a page, one shown at a time: `sections` maps their names to elements. The header's
   * #account (#account-label: who signed in) shows with every view but 'sign-in'. Returns show(name).
   */
  function views(sections) {
    const account = byId('account');
    const label = byId('account-label');
    return function show(view) {
      for (const [name, section] of Object.entries(sections)) section.hidden = name !== view;
      const signedIn = view !== 'sign-in';
      account.hidden = !signedIn;
      label.textContent = signedIn ? tokens.who : '';
    };
  }

  // ------------------------------------------------------------------ the sign-in card

  // Static markup (no data in it), written once here for every page; a page whose #sign-in already holds
  // the forms keeps its own.
  const SIGN_IN_MARKUP = `
    <h2 id="sign-in-title">Sign in with a phone code</h2>
    <p class="muted"><span>We send a 4-digit code by SMS.</span> <span id="sign-in-note"></span></p>
    <div id="sign-in-error" class="alert" role="alert" hidden></div>
    <form id="phone-form" novalidate>
      <div class="fields">
        <div class="field field-cc">
          <label for="country-code">Country code</label>
          <div class="prefixed">
            <span aria-hidden="true">+</span>
            <input id="country-code" name="countryCode" inputmode="numeric" autocomplete="tel-country-code" required pattern="[0-9]{1,4}" maxlength="4" value="90">
          </div>
        </div>
        <div class="field field-grow">
          <label for="phone-number">Phone number</label>
          <input id="phone-number" name="phoneNumber" type="tel" autocomplete="tel-national" required placeholder="532 123 45 67">
        </div>
      </div>
      <button id="send-code" type="submit" class="btn btn-primary">Send code</button>
    </form>
    <form id="code-form" novalidate hidden>
      <p id="code-hint" class="muted"></p>
      <div class="field">
        <label for="otp-code">Code</label>
        <input id="otp-code" name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="8" pattern="[0-9]{4,8}">
      </div>
      <div class="actions">
        <button id="verify-code" type="submit" class="btn btn-primary">Verify and sign in</button>
        <button id="change-number" type="button" class="btn btn-quiet">Use another number</button>
      </div>
    </form>`;

  /**
   * Wires the sign-in card in `#sign-in` (writing its markup first when it is empty): send-otp, then
   * verify-otp, then the tokens saved and `onSignedIn(data)` called with verify-otp's data. `note`: what the
   * page needs (the roles). Returns `reset(message)`, which forgets the tokens and shows the phone form
   * with `message`; the page shows the card itself.
   */
  function signInForm({ onSignedIn, note = '' }) {
    const root = byId('sign-in');
    if (!root.querySelector('#phone-form')) {
      root.innerHTML = SIGN_IN_MARKUP;
      root.setAttribute('aria-labelledby', 'sign-in-title');
      byId('sign-in-note').textContent = note;
    }
    const ui = {
      error: byId('sign-in-error'),
      phoneForm: byId('phone-form'),
      countryCode: byId('country-code'),
      phoneNumber: byId('phone-number'),
      sendCode: byId('send-code'),
      codeForm: byId('code-form'),
      codeHint: byId('code-hint'),
      code: byId('otp-code'),
      verify: byId('verify-code'),
      changeNumber: byId('change-number'),
    };
    let pendingPhone = null; // { countryCode, phoneNumber } between send-otp and verify-otp

    function reset(message) {
      tokens.clear();
      pendingPhone = null;
      ui.codeForm.hidden = true;
      ui.phoneForm.hidden = false;
      ui.code.value = '';
      showMessage(ui.error, message);
      // After the page has shown the card: a hidden input takes no focus.
      setTimeout(() => ui.phoneNumber.focus(), 0);
    }

    ui.phoneForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      const countryCode = ui.countryCode.value.trim().replace(/^\+/, '');
      const phoneNumber = ui.phoneNumber.value.replace(/[\s().-]/g, '');
      if (!/^\d{1,4}$/.test(countryCode))
        return showMessage(ui.error, 'Enter the country code as digits, for example 90.');
      if (!/^\d{4,15}$/.test(phoneNumber))
        return showMessage(ui.error, 'Enter the phone number as digits, without the country code.');
      showMessage(ui.error, '');
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
        showMessage(ui.error, err.message);
      } finally {
        busy(ui.sendCode, false, 'Sending…');
      }
    });

    ui.codeForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      const code = ui.code.value.trim();
      if (!pendingPhone) return reset();
      if (!/^\d{4,8}$/.test(code)) return showMessage(ui.error, 'Enter the code from the SMS.');
      showMessage(ui.error, '');
      busy(ui.verify, true, 'Signing in…');
      try {
        const data = await postJson('/auth/verify-otp', { ...pendingPhone, code });
        tokens.save(data, `+${pendingPhone.countryCode} ${pendingPhone.phoneNumber}`);
        pendingPhone = null;
        ui.code.value = '';
        await onSignedIn(data);
      } catch (err) {
        showMessage(ui.error, err.message);
      } finally {
        busy(ui.verify, false, 'Signing in…');
      }
    });

    ui.changeNumber.addEventListener('click', () => reset());
    return { reset };
  }

  return Object.freeze({
    API,
    tokens,
    ApiError,
    SignedOut,
    envelope,
    request,
    postJson,
    authFetch,
    authJson,
    signOut,
    byId,
    showMessage,
    busy,
    views,
    signInForm,
  });
})();
