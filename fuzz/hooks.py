"""Schemathesis hooks for `npm run fuzz` (loaded through SCHEMATHESIS_HOOKS by fuzz/run.mjs).

1. Authentication: operations that need `JWT-auth` get a real access token, obtained the way a
   client gets one: send-otp, then verify-otp with the code. The fuzz stack runs with NODE_ENV=test,
   where send-otp returns the code (`OTP_EXPOSE_CODE`, which the server refuses in production): no
   backdoor. The analytics reports get the token of a second user, to whom fuzz/run.mjs granted
   `admin` with the operator command (grant-role), so they are fuzzed past the role check too.
   Logout, finalize-now and a revoked session end a token; the next case logs in again.

   Some success paths need state no generator can guess (the code just sent, a live refresh token,
   a pending deletion): every second schema-valid case of those operations gets it first, through
   the API (see `_prepare`), and must then succeed (`prepared_cases_succeed`, a check of ours).

2. Two of schemathesis' checks are replaced (fuzz/run.mjs excludes the stock ones) by the same
   checks minus what the contract requires, and nothing else:
   - `negative_data_rejection_except_client_headers`: the stock check fails a request with an
     invalid header that is answered 2xx. Every header parameter of the document is a client header
     of docs/api.md#client-headers (`X-Language`, `X-Timezone`, `X-Platform`, `X-App-Version`,
     `X-Device-ID`) or `X-Request-Id`, and the API ignores an invalid value there (treats it as
     absent), never an error. Cases invalid elsewhere too are still judged, on the rest.
   - `positive_data_acceptance_except_contract_rules`: the stock check fails a schema-valid request
     answered 400. The contract requires 400 for a few rules no JSON Schema can state (a number
     libphonenumber accepts as mobile, the right code, an age of 18, a date range, the current
     policy versions, an address express-validator's isEmail accepts); those exact messages pass
     (CONTRACT_400), any other 400 to a schema-valid request still fails.

3. A workaround for schemathesis 4.32.5: it rewrites `prefixItems` in *response* schemas into the
   draft-4 array form of `items` and then checks that with a Draft 2020-12 validator, which refuses
   it ("Invalid Schema Object in response definition"), so no response could be validated. Our
   error schemas pin `errors[0]` with `prefixItems` (valid OpenAPI 3.1). Response schemas keep
   `prefixItems` as written; their validator is a 2020-12 one, which applies it.
"""

from __future__ import annotations

import os
import re
import threading

import requests
import schemathesis
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import ComponentInfo
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi import checks as openapi_checks
from schemathesis.specs.openapi.adapter import responses as openapi_responses

BASE_URL = os.environ["FUZZ_BASE_URL"].rstrip("/")
COUNTRY_CODE = "90"
USER_PHONE = os.environ["FUZZ_USER_PHONE"]
ADMIN_PHONE = os.environ["FUZZ_ADMIN_PHONE"]
ADMIN_PATHS = ("/api/v1/analytics/",)
# Operations whose success ends the caller's session (or account).
SESSION_ENDING = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/users/me/account-deletion/finalize-now")}

# ------------------------------------------------------------------ 3. prefixItems in response schemas

_to_json_schema = openapi_responses.to_json_schema


def _keep_prefix_items(schema, *args, **kwargs):
    if kwargs.get("is_response_schema"):
        kwargs["convert_prefix_items"] = False
    return _to_json_schema(schema, *args, **kwargs)


openapi_responses.to_json_schema = _keep_prefix_items

# ------------------------------------------------------------------ 1. authentication


class Tokens:
    """One live access token per fuzz user, obtained on first use and dropped when its session ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: dict[str, str] = {}  # phone -> token
        self._issued: dict[str, str] = {}  # every token we handed out -> phone
        self.logins = 0

    def get(self, phone: str) -> str:
        with self._lock:
            token = self._live.get(phone)
            if token is None:
                token = self._live[phone] = login(phone)
                self._issued[token] = phone
                self.logins += 1
            return token

    def forget(self, token: str) -> None:
        with self._lock:
            phone = self._issued.get(token)
            if phone is not None and self._live.get(phone) == token:
                del self._live[phone]

    def issued(self, token: str) -> bool:
        with self._lock:
            return token in self._issued

    def is_live(self, token: str | None) -> bool:
        with self._lock:
            return token is not None and token in self._live.values()

    def replacement(self, token: str) -> str | None:
        """A live token of the same user when `token` is one of ours whose session has ended."""
        with self._lock:
            phone = self._issued.get(token)
            if phone is None or self._live.get(phone) == token:
                return None
        return self.get(phone)


def login(phone: str) -> str:
    """A new session of the fuzz user of `phone`; returns its access token."""
    return login_pair(phone)[0]


def login_pair(phone: str) -> tuple[str, str]:
    """send-otp, then verify-otp with the exposed code: (access token, refresh token) of a new session."""
    number = {"countryCode": COUNTRY_CODE, "phoneNumber": phone}
    sent = requests.post(f"{BASE_URL}/api/v1/auth/send-otp", json=number, timeout=30)
    if sent.status_code != 201:
        raise RuntimeError(f"fuzz login: send-otp answered {sent.status_code}")
    code = sent.json()["data"].get("code")
    if not code:
        raise RuntimeError("fuzz login: send-otp returned no code (is OTP_EXPOSE_CODE on?)")
    verified = requests.post(f"{BASE_URL}/api/v1/auth/verify-otp", json={**number, "code": code}, timeout=30)
    if verified.status_code != 200:
        raise RuntimeError(f"fuzz login: verify-otp answered {verified.status_code}")
    data = verified.json()["data"]
    return data["accessToken"], data["refreshToken"]


TOKENS = Tokens()


def _phone_for(case) -> str:
    return ADMIN_PHONE if case.operation.path.startswith(ADMIN_PATHS) else USER_PHONE


# refresh_interval=None: schemathesis asks every time; `Tokens` caches and knows when a token ended.
@schemathesis.auth(refresh_interval=None)
class FuzzUserAuth:
    def get(self, case, ctx):
        return TOKENS.get(_phone_for(case))

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


def _bearer(headers) -> str | None:
    header = (headers or {}).get("Authorization") or ""
    return header[len("Bearer ") :] if header.startswith("Bearer ") else None


@schemathesis.hook
def after_call(context, case, response):
    token = _bearer(response.request.headers)
    if token is None or not TOKENS.issued(token):
        return
    ended = (case.method.upper(), case.operation.path) in SESSION_ENDING and response.status_code == 200
    if response.status_code == 401:
        try:
            ended = ended or response.json().get("errorCode") == "SESSION_REVOKED"
        except ValueError:
            pass
    if ended:
        TOKENS.forget(token)


# Some success paths need state no generator can guess: the code just sent, a live refresh
# token, a pending deletion. Every second schema-valid case of those operations gets it first,
# made through the API as a client would (the other half keeps what was generated):
# - verify-otp / verify-otp-email: a code is sent to the case's own number or address, and the
#   case carries that code (when the send succeeds: most generated numbers are not mobile numbers);
# - refresh / revoke-token: a live refresh token of another session of the fuzz user;
# - DELETE account-deletion: the fuzz user asks for deletion first, so there is one to cancel.
_turns: dict[str, int] = {}
_turns_lock = threading.Lock()
# Cases given that state, by case id: they must succeed (`prepared_cases_succeed`).
PREPARED: dict[str, str] = {}


def _my_turn(key: str) -> bool:
    with _turns_lock:
        _turns[key] = _turns.get(key, 0) + 1
        return _turns[key] % 2 == 0


def _exposed_code(path: str, body: dict, case_body: dict) -> dict | None:
    """Sends a code for the case's recipient; the fields to put in the case's body (the code, and the
    verificationId when the case carries one: the code is then bound to it, as a client would do)."""
    bind = "verificationId" in case_body
    sent = requests.post(f"{BASE_URL}{path}", json={**body, **({"bindToDevice": True} if bind else {})}, timeout=30)
    if sent.status_code != 201:
        return None
    data = sent.json()["data"]
    return {"code": data.get("code"), **({"verificationId": data["verificationId"]} if bind else {})}


def _prepare(case) -> None:
    PREPARED.pop(case.id, None)  # a case sent again is judged by what was prepared this time
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    method, path, body = case.method.upper(), case.operation.path, case.body
    if method == "DELETE" and path == "/api/v1/users/me/account-deletion":
        if _bearer(case.headers) and _my_turn(path):
            asked = requests.post(f"{BASE_URL}{path}", json={}, headers={"Authorization": case.headers["Authorization"]}, timeout=30)
            if asked.status_code == 200:
                PREPARED[case.id] = "a pending deletion to cancel"
        return
    if method != "POST" or not isinstance(body, dict):
        return
    if path == "/api/v1/auth/verify-otp" and isinstance(body.get("countryCode"), str) and isinstance(body.get("phoneNumber"), str):
        if _my_turn(path):
            fields = _exposed_code("/api/v1/auth/send-otp", {"countryCode": body["countryCode"], "phoneNumber": body["phoneNumber"]}, body)
            if fields:
                case.body = {**body, **fields}
                PREPARED[case.id] = "the code just sent to this number"
    elif path == "/api/v1/auth/verify-otp-email" and isinstance(body.get("email"), str):
        if _my_turn(path):
            fields = _exposed_code("/api/v1/auth/send-otp-email", {"email": body["email"]}, body)
            if fields:
                case.body = {**body, **fields}
                PREPARED[case.id] = "the code just sent to this address"
    elif path in ("/api/v1/auth/refresh", "/api/v1/auth/revoke-token") and "refreshToken" in body:
        # revoke-token needs the caller to be the fuzz user (it is, unless the case tests auth).
        if _my_turn(path) and (path == "/api/v1/auth/refresh" or TOKENS.is_live(_bearer(case.headers))):
            case.body = {**body, "refreshToken": login_pair(USER_PHONE)[1]}
            PREPARED[case.id] = "a live refresh token of the caller"


@schemathesis.hook
def before_call(context, case, kwargs):
    # Some phases attach auth to a batch of cases before sending any: a token that ended since
    # (logout, finalize-now) is swapped for the user's live one, so each case is sent signed in.
    token = _bearer(case.headers)
    fresh = token and TOKENS.replacement(token)
    if fresh:
        case.headers = {**case.headers, "Authorization": f"Bearer {fresh}"}
    _prepare(case)


# ------------------------------------------------------------------ 2. checks narrowed to what the contract allows

@schemathesis.check
def negative_data_rejection_except_client_headers(ctx, response, case):
    """schemathesis' negative_data_rejection, judging the request as if its headers were valid.

    The API (docs/api.md#client-headers) makes the server ignore an invalid client header: a case whose only
    invalid part is its headers must be accepted, so it is no finding. A case also invalid
    elsewhere (body, query) is judged by the stock check on those parts alone, with the stock
    check's own corrections (e.g. a generated extra query parameter `[]` that never reaches the wire).
    """
    meta = case.meta
    header = meta.components.get(ParameterLocation.HEADER) if meta is not None else None
    if meta is None or not meta.generation.mode.is_negative or header is None or not header.mode.is_negative:
        return openapi_checks.negative_data_rejection(ctx, response, case)
    if not any(info.mode.is_negative for location, info in meta.components.items() if location != ParameterLocation.HEADER):
        return None
    meta.components[ParameterLocation.HEADER] = ComponentInfo(mode=GenerationMode.POSITIVE)
    try:
        return openapi_checks.negative_data_rejection(ctx, response, case)
    finally:
        meta.components[ParameterLocation.HEADER] = header


# Answers of 400 to a schema-valid request that the contract requires: rules no JSON Schema can state
# (a number valid for libphonenumber, the right code, an age, a date range, the current policy
# versions, an address express-validator's isEmail accepts, a profile address with a Unicode format
# character outside the Basic Multilingual Plane, which the document's portable pattern cannot name).
# Per path, each an exact message.
PROFILE_EMAIL_400 = r"email: must not contain spaces, invisible, formatting or control characters"
# clickId and clickIdType: both or neither (a rule across two fields).
CLICK_ID_PAIR_400 = r"clickId(Type)?: clickId and clickIdType come together"
# The reports: a range rule across two fields, and `tz` must name a zone of the time-zone database (the
# document gives its shape; aliases such as Asia/Calcutta are accepted too, so it cannot enumerate them).
REPORT_400 = [
    r"from: must not be after to",
    r"to: the range is at most \d+ days",
    r"tz: must be an IANA time zone such as UTC or Europe/Istanbul",
]
CURSOR_400 = r"cursor: not a cursor this API returned"
CONTRACT_400 = {
    "/api/v1/auth/send-otp": [r"phoneNumber: not a valid mobile number for country code \d{1,3}"],
    "/api/v1/auth/verify-otp": [r"phoneNumber: not a valid mobile number for country code \d{1,3}", r"code: incorrect", CLICK_ID_PAIR_400],
    "/api/v1/auth/send-otp-email": [r"email: not a valid e-mail address"],
    "/api/v1/auth/verify-otp-email": [r"email: not a valid e-mail address", r"code: incorrect", CLICK_ID_PAIR_400],
    "/api/v1/users/me/complete-registration": [
        r"birthDate: must be at least 18 years ago",
        r"(privacyPolicy|termsOfUse|consentForm)Version: the current version is \S+",
        PROFILE_EMAIL_400,
    ],
    "/api/v1/users/me": [r"birthDate: must be at least 18 years ago", PROFILE_EMAIL_400],
    "/api/v1/analytics/signups": REPORT_400,
    "/api/v1/analytics/funnel": REPORT_400,
    "/api/v1/analytics/retention": REPORT_400,
    # A spend upload: a CSV body is a string to the document (its lines are described in words); a JSON
    # row's day must be a calendar day (the pattern gives the shape), its amount a decimal, each row once.
    "/api/v1/analytics/spend": [
        r"line \d+: .*",
        r"rows\[\d+\] \(line \d+\): day: must be a day YYYY-MM-DD",
        # a number amount: at most 4 decimals and 12 digits before the point (JSON Schema's multipleOf
        # cannot say "4 decimals" of a float exactly)
        r"rows\[\d+\] \(line \d+\): amount: must be a decimal amount ≥ 0 with at most 4 decimals, such as 120\.50",
        r"rows\[\d+\] \(line \d+\): repeats .*",
    ],
    # A cursor is opaque: only one a list answered is one (the document cannot enumerate them).
    "/api/v1/users/me/security-events": [CURSOR_400],
    "/api/v1/admin/users": [CURSOR_400],
    "/api/v1/admin/users/{id}/events": [CURSOR_400],
}


def _is_contract_400(case, response) -> bool:
    rules = CONTRACT_400.get(case.operation.path)
    if response.status_code != 400 or not rules:
        return False
    try:
        errors = response.json().get("errors")
    except ValueError:
        return False
    if not isinstance(errors, list) or len(errors) < 2 or errors[0] != "Validation failed":
        return False
    return all(isinstance(e, str) and any(re.fullmatch(rule, e) for rule in rules) for e in errors[1:])


@schemathesis.check
def positive_data_acceptance_except_contract_rules(ctx, response, case):
    """schemathesis' positive_data_acceptance, minus the 400s of CONTRACT_400 (every other 400 still fails)."""
    if _is_contract_400(case, response):
        return None
    return openapi_checks.positive_data_acceptance(ctx, response, case)


@schemathesis.check
def prepared_cases_succeed(ctx, response, case):
    """A schema-valid case that `_prepare` gave a real code, a live refresh token or a pending deletion must succeed."""
    given = PREPARED.get(case.id)
    # A prepared case can still break a rule across fields (clickId without clickIdType): that 400 is due.
    if _is_contract_400(case, response) and "code: incorrect" not in response.text:
        return None
    if given is not None and response.request.headers.get("Authorization") == (case.headers or {}).get("Authorization") and not 200 <= response.status_code < 300:
        raise AssertionError(f"{case.method.upper()} {case.operation.path} with {given} answered {response.status_code}, not 2xx")
