/**
 * The `info.description` of the OpenAPI document: the envelope, the errors, authentication, the client
 * headers, the default limits and the decisions, in Markdown (Swagger UI renders it above the operations).
 */
export const DESCRIPTION = `The phone-OTP login backend of the Allmine mobile-app API (the **Authentication** group, plus the
registration, account-deletion, marketing-report and support (admin) endpoints built on it).

## The envelope
Every response body, success or error, is JSON in one envelope:

\`\`\`json
{ "isSuccess": true, "statusCode": 200, "data": { }, "errors": [], "timestamp": "2026-01-15T10:30:00.000Z" }
{ "isSuccess": false, "statusCode": 404, "data": null, "errors": ["Resource not found"], "timestamp": "2026-01-15T10:30:00.000Z" }
\`\`\`

\`statusCode\` repeats the HTTP status; \`timestamp\` is the server time (ISO-8601 UTC, milliseconds). On success
\`errors\` is \`[]\`; on error \`data\` is \`null\` and \`errors\` has at least one message. The only body that is not
enveloped is the CSV export of \`GET /api/v1/analytics/signups?format=csv\`.

## Errors
\`errors[0]\` is the generic message of the status; specific \`field: problem\` messages follow it. An error may
also carry \`errorCode\` (a stable UPPER_SNAKE string: branch on it, never on message text) and \`details\`.

| status | \`errors[0]\` | when |
|---|---|---|
| 400 | \`Validation failed\` | a malformed body or query (one entry per problem, e.g. \`phoneNumber: not a valid mobile number for country code 90\`; unknown fields are refused), a body that is not valid JSON, \`OTP_INVALID\`, \`POLICY_VERSION_STALE\` |
| 401 | \`Authentication required\` | \`TOKEN_MISSING\`, \`TOKEN_INVALID\`, \`TOKEN_EXPIRED\`, \`SESSION_REVOKED\`; refresh: \`REFRESH_TOKEN_INVALID\`, \`REFRESH_TOKEN_REUSED\` |
| 403 | \`Insufficient permissions\` | \`ROLE_REQUIRED\` (a role is missing), \`FEATURE_DISABLED\`, \`SELF_ACTION_REFUSED\` |
| 404 | \`Resource not found\` | an unknown route, \`OTP_NOT_FOUND\`, \`REFRESH_TOKEN_NOT_FOUND\`, \`USER_NOT_FOUND\`, \`SESSION_NOT_FOUND\` |
| 405 | \`Method not allowed\` | a known path with another method (\`Allow\` lists the methods it serves) |
| 409 | \`Resource already exists or cannot be changed in its current state\` | \`ACCOUNT_SUSPENDED\`, \`ACCOUNT_UNAVAILABLE\`, \`ACCOUNT_DELETED\`, \`REGISTRATION_ALREADY_COMPLETE\`, \`REGISTRATION_INCOMPLETE\`, \`USERNAME_TAKEN\`, \`USERNAME_CHANGE_TOO_SOON\`, \`NO_PENDING_DELETION\` |
| 413 | \`Request body too large\` | a body over 16 KiB |
| 415 | \`Unsupported media type\` | a JSON body in a charset other than UTF-8, or an unsupported \`Content-Encoding\` |
| 429 | \`Too many requests\` | \`RATE_LIMITED\`, with \`Retry-After\` and \`details: { retryAfterSeconds, limits }\` |
| 500 | \`Internal server error\` | unexpected; never a stack trace or an internal error text |
| 502 | \`Upstream service failed\` | \`SMS_DELIVERY_FAILED\`, \`MAIL_DELIVERY_FAILED\` |
| 503 | \`Service unavailable\` | \`DEPENDENCY_UNAVAILABLE\` (MongoDB unreachable, or busy with a write conflict or a failover); \`/readyz\` when a dependency is down |

Any request can get 400 (unreadable JSON), 413, 415 or 500, before routing; an unknown route gets 404 and a
known path with another method 405 (these two are listed under \`x-unmatched-requests\`, since OpenAPI has no
place for responses to requests that match no operation). Every response carries \`X-Request-Id\`.

## Authentication
\`JWT-auth\`: \`Authorization: Bearer <accessToken>\` (HS256, 3600 s). Refresh tokens (30 days) are opaque and
rotate on every use; reuse after a 10 s grace window revokes the session. Logout, revoke-token and account
deletion stop the session's access tokens within 5 s on every server. An access token must carry \`sub\`,
\`sid\`, \`iat\` and \`exp\` (else 401 \`TOKEN_INVALID\`). Every response of an \`/api/v1\` operation, errors
included, is \`Cache-Control: no-store\`.

## Client headers
Every operation accepts the optional \`X-Language\` (\`en\` | \`tr\`), \`X-Timezone\` (\`UTC\`, \`UTC-12:00\` … \`UTC+14:00\`),
\`X-Platform\` (\`web\` | \`mobile_ios\` | \`mobile_android\` | \`admin\` | \`api\` | \`unknown\` | \`all\`), \`X-App-Version\` and
\`X-Device-ID\`. An invalid value is ignored, never an error. Platform, app version and device id are recorded on
sessions and login events.

## Limits (defaults; each is configurable)
| what | default |
|---|---|
| code | 4 digits, valid 180 s, 5 wrong attempts |
| resend cooldown per recipient | 60 s |
| codes sent per recipient | 5 per hour, 10 per day |
| codes sent per IP / per country calling code | 20 / 2000 per hour |
| verify attempts per recipient / per IP | 10 / 60 per hour |
| access / refresh token lifetime | 3600 s / 2592000 s |
| request body | 16 KiB |

## Decisions
- Phone numbers: \`countryCode\` 1–3 digits (a leading \`+\` is dropped), \`phoneNumber\` national (separators and the
  trunk prefix dropped); it must be a valid mobile number. \`90\`+\`05551234567\` and \`+90\`+\`555 123 45 67\` are one account.
  Users store and return \`countryCode: "90"\`; send-otp echoes \`"+90"\`, as documented.
- One user per normalized number (and per verified e-mail); a code works once; concurrent first logins converge on
  one user. Attribution (\`signupSource\`, \`signupCampaign\`) is written once, at signup (first touch).
- Side effects (signup attribution, last login, funnel events) run in a worker; \`lastLogin\` may lag the login.
- Request bodies are strict: unknown fields are 400. \`code\` appears in send-otp responses only in development and test.
- A suspended account (409 \`ACCOUNT_SUSPENDED\`) or a finalized deletion (409 \`ACCOUNT_UNAVAILABLE\`) cannot log in; a
  pending deletion can (so it can be cancelled).
- Roles: \`user\`, \`admin\`, \`marketing\`, \`support\`. The **Admin** operations serve \`support\` and \`admin\`; only
  \`admin\` changes roles, erases accounts and suspends an admin; nobody removes \`admin\` from themselves. Every
  state-changing admin call takes a \`reason\` (3–500 characters), and every admin call is in the audit trail
  before it answers. Paged lists take \`limit\` (1–100, default 20) and \`cursor\` (the previous page's \`nextCursor\`).
- Reports count signup cohorts by UTC day; users without attribution count under \`(none)\`.

## Not in this document
HTML and operations routes: \`/dashboard\` (the marketers' page), \`/docs\` (this document, rendered), \`/openapi.json\`
(this document, not enveloped), \`/metrics\` and \`/admin/queues\` where deployed.`;
