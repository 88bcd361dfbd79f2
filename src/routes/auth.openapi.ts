/**
 * The OpenAPI part of the Authentication group (`./auth.ts`): its component schemas (the `data` types of
 * its answers and its request bodies) and its paths, one function per operation: phone and e-mail codes,
 * refresh, logout, revoke-token, sessions and me. Built with the shared blocks of `src/openapi/`; the
 * request rules come from `src/schemas/auth.ts`, as the validators' do. `src/openapi/spec.ts` adds it to the
 * document.
 */
import { PLATFORMS } from '../lib/client-info.js';
import {
  common,
  DATE_TIME,
  EMAIL_RULES,
  errorBody,
  errorResponse,
  jsonBody,
  JWT,
  OBJECT_ID,
  okBody,
  operation,
  rateLimited,
  schemaRef,
  signedIn,
  strictObject,
  successResponse,
  TS,
  validationFailed,
} from '../openapi/builders.js';
import { emptyBody, fieldsRefused, type ResourceSchemas } from '../openapi/components.js';
import { exampleUser } from '../openapi/examples.js';
import type {
  ExampleObject,
  JsonSchema,
  OperationObject,
  PathItemObject,
  RefObject,
  ResponseObject,
} from '../openapi/types.js';
import {
  ATTRIBUTION,
  AUTH_LENGTHS,
  CLICK_ID,
  CLICK_ID_PAIR,
  CLICK_ID_TYPES,
  CODE,
  VERIFICATION_ID,
} from '../schemas/auth.js';

const JWT_PATTERN = '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*$';
const EXAMPLE_ACCESS_TOKEN =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI2NWE0ZjBjMmU0YjBhMWIyYzNkNGU1ZjYifQ.c2lnbmF0dXJl';
const EXAMPLE_REFRESH_TOKEN = 'q8V3mJ2cX0tYw7uR5nB1kL9pZ4aE6sD3fG8hJ0kL2mN';
/** The example code: `OTP_LENGTH` digits. */
const exampleCode = (otpLength: number): string => '1234'.padEnd(otpLength, '0');

// ---------------------------------------------------------------------------------------------
// Schemas.

const tokenPairProperties = {
  accessToken: { type: 'string', pattern: JWT_PATTERN, description: 'A JWT (HS256) for `Authorization: Bearer …`.' },
  refreshToken: { type: 'string', minLength: 1, description: 'Opaque; every refresh returns a new one (rotation).' },
  expiresIn: { type: 'integer', minimum: 1, description: 'Seconds the access token lives (3600 by default).' },
  refreshExpiresIn: {
    type: 'integer',
    minimum: 1,
    description: 'Seconds the refresh token lives (2592000 by default).',
  },
};

const sentCodeProperties = {
  code: {
    type: 'string',
    pattern: '^[0-9]{4,8}$',
    description: 'Only when code exposure is on (development and test); never in production.',
  },
  expiresIn: { type: 'integer', minimum: 1, description: 'Seconds the code stays usable (180 by default).' },
  resendAvailableIn: {
    type: 'integer',
    minimum: 0,
    description:
      'Seconds until another code may be requested for this recipient (60 by default; 0 when the cooldown is off).',
  },
  verificationId: {
    type: 'string',
    pattern: VERIFICATION_ID.pattern,
    description:
      'Only when the request asked for `bindToDevice`: an opaque id that only this device holds. The code then works only in a verify request that carries it, so strangers guessing at the number can neither reach nor use up this device’s code. Keep it with the code; never log it.',
  },
};

function dataSchemas(): Record<string, JsonSchema> {
  return {
    SendOtpResult: strictObject(
      {
        countryCode: {
          type: 'string',
          pattern: '^\\+[0-9]{1,3}$',
          description: 'Echoed with a plus, as documented (`"+90"`).',
        },
        phoneNumber: { type: 'string', pattern: '^[0-9]{4,17}$', description: 'The normalized national number.' },
        ...sentCodeProperties,
      },
      ['countryCode', 'phoneNumber', 'expiresIn', 'resendAvailableIn'],
    ),
    SendOtpEmailResult: strictObject(
      {
        email: {
          type: 'string',
          maxLength: 254,
          description: 'The address as used: trimmed, lower-cased, Unicode NFC.',
        },
        ...sentCodeProperties,
      },
      ['email', 'expiresIn', 'resendAvailableIn'],
    ),
    LoginResult: strictObject(
      {
        ...tokenPairProperties,
        user: schemaRef('PrivateUser'),
        isRegistrationComplete: {
          type: 'boolean',
          description: '`false` until `POST /api/v1/users/me/complete-registration` succeeds.',
        },
      },
      ['accessToken', 'refreshToken', 'expiresIn', 'refreshExpiresIn', 'user', 'isRegistrationComplete'],
    ),
    TokenPair: strictObject(tokenPairProperties, ['accessToken', 'refreshToken', 'expiresIn', 'refreshExpiresIn']),
    LogoutResult: strictObject(
      { revokedSessions: { type: 'integer', minimum: 0, description: 'Live sessions ended (all of the caller’s).' } },
      ['revokedSessions'],
    ),
    RevokeTokenResult: strictObject({ revoked: { const: true } }, ['revoked']),
    Session: strictObject(
      {
        id: OBJECT_ID,
        createdAt: DATE_TIME,
        lastUsedAt: DATE_TIME,
        expiresAt: DATE_TIME,
        ip: { type: ['string', 'null'] },
        userAgent: { type: ['string', 'null'], maxLength: 512 },
        platform: { type: ['string', 'null'], enum: [...PLATFORMS, null] },
        deviceId: { type: ['string', 'null'] },
        appVersion: { type: ['string', 'null'] },
        current: { type: 'boolean', description: '`true` for the session of the access token that made this request.' },
      },
      [
        'id',
        'createdAt',
        'lastUsedAt',
        'expiresAt',
        'ip',
        'userAgent',
        'platform',
        'deviceId',
        'appVersion',
        'current',
      ],
    ),
    SessionList: {
      type: 'array',
      items: schemaRef('Session'),
      description: 'Live sessions, most recently used first.',
    },
  };
}

// Request bodies: the constraints of the express-validator schemas in ./auth.ts. Strings the validators
// trim are documented without the surrounding whitespace they tolerate.

function requestSchemas(otpLength: number): Record<string, JsonSchema> {
  const attribution = {
    type: ['string', 'null'],
    pattern: ATTRIBUTION.pattern,
    description:
      'Optional marketing attribution: 1–64 characters of `A-Z a-z 0-9 . _ -`. Recorded only when this login creates the user (first touch); `null` counts as absent.',
  };
  const utm = (what: string) => ({
    ...attribution,
    description: `Optional ${what}, written once like \`signupSource\` (same rules; not in the user object). Reports group and filter by the medium.`,
  });
  const clickId = {
    type: ['string', 'null'],
    pattern: CLICK_ID.pattern,
    description: `Optional ad click id (gclid, fbclid, ttclid, …): 1–256 characters of \`A-Z a-z 0-9 . _ -\`, written once with the attribution. ${CLICK_ID_PAIR.message}.`,
  };
  const clickIdType = {
    type: ['string', 'null'],
    enum: [...CLICK_ID_TYPES, null],
    description: `Which network's click id \`clickId\` is. ${CLICK_ID_PAIR.message}.`,
  };
  const firstTouch = {
    signupSource: attribution,
    signupCampaign: attribution,
    signupMedium: utm('UTM medium'),
    signupContent: utm('UTM content'),
    signupTerm: utm('UTM term'),
    clickId,
    clickIdType,
  };
  const code = {
    type: 'string',
    pattern: CODE.pattern(otpLength),
    description: `The ${otpLength}-digit code (\`OTP_LENGTH\`).`,
    examples: [exampleCode(otpLength)],
  };
  const bindToDevice = {
    type: 'boolean',
    description:
      'Optional. `true`: bind the code to this device. The answer then carries a `verificationId`, and only a verify request that sends it back can use the code: attempts without it (or with another) are refused with `404 OTP_NOT_FOUND` and counted nowhere, so strangers cannot spend the code’s attempts or the number’s verify budget. The holder’s attempts on a bound code are charged to a budget of that number and that `verificationId` (`verify-recipient-hour`, 10 per hour), not to the number’s own, so strangers’ guesses on other codes for the number cannot block it either. The holder has the same attempts as on any code (`OTP_MAX_ATTEMPTS`, 5). Without it, codes work as they always did.',
  };
  const verificationId = {
    type: 'string',
    pattern: VERIFICATION_ID.pattern,
    description:
      'The `verificationId` that send-otp returned for a code bound to this device (`bindToDevice`). Required to use a bound code; a code sent without binding is used without it. Attempts that reach a bound code are charged to the verify budget of this number and this id, not to the number’s own.',
  };
  const countryCode = {
    type: 'string',
    pattern: '^\\+?[0-9]{1,3}$',
    description: 'The calling code, 1–3 digits; a leading `+` is accepted and dropped.',
    examples: ['90'],
  };
  const phoneNumber = {
    type: 'string',
    minLength: AUTH_LENGTHS.phoneNumber.min,
    maxLength: AUTH_LENGTHS.phoneNumber.max,
    pattern: '^[\\s\\-.()]*(?:[0-9][\\s\\-.()]*){4,17}$',
    description:
      'The national number. Spaces, dashes, dots and parentheses are dropped and a national trunk prefix is removed (`"0555 123 45 67"` → `"5551234567"` for 90). It must be a valid **mobile** (or fixed-line-or-mobile) number for the country by libphonenumber’s full metadata.',
    examples: ['5551234567'],
  };
  const email = {
    type: 'string',
    minLength: AUTH_LENGTHS.email.min,
    maxLength: AUTH_LENGTHS.email.max,
    format: 'email',
    description: `One mailbox, one identity: the address is trimmed, lower-cased and put in Unicode NFC before it is used or stored, so \`User@Example.com\` and \`user@example.com\` are one account. ${EMAIL_RULES}`,
    examples: ['user@example.com'],
  };
  return {
    SendOtpRequest: strictObject({ countryCode, phoneNumber, bindToDevice }, ['countryCode', 'phoneNumber']),
    VerifyOtpRequest: strictObject({ countryCode, phoneNumber, code, ...firstTouch, verificationId }, [
      'countryCode',
      'phoneNumber',
      'code',
    ]),
    SendOtpEmailRequest: strictObject({ email, bindToDevice }, ['email']),
    VerifyOtpEmailRequest: strictObject({ email, code, ...firstTouch, verificationId }, ['email', 'code']),
    RefreshTokenRequest: strictObject(
      {
        refreshToken: {
          type: 'string',
          minLength: AUTH_LENGTHS.refreshToken.min,
          maxLength: AUTH_LENGTHS.refreshToken.max,
          pattern: '\\S',
          description: 'Surrounding whitespace is ignored.',
        },
      },
      ['refreshToken'],
    ),
  };
}

/** The schemas of the group: `data` types with their envelopes, and request bodies. */
export function authSchemas(otpLength: number): ResourceSchemas {
  return {
    data: dataSchemas(),
    envelopes: [
      ['SendOtpResult', 201],
      ['SendOtpEmailResult', 201],
      ['LoginResult', 200],
      ['TokenPair', 200],
      ['LogoutResult', 200],
      ['RevokeTokenResult', 200],
      ['SessionList', 200],
    ],
    requests: requestSchemas(otpLength),
  };
}

// ---------------------------------------------------------------------------------------------
// Responses the operations share.

const ATTRIBUTION_DETAILS =
  'New users are created with `isRegistrationComplete: false`, `roles: ["user"]` and the attribution of this request (first touch: a later login never changes it). A session is opened (device, platform, IP, user agent) and tokens are returned; the last-login and signup-attribution side effects run in the worker. A user with a pending account deletion can still log in (`accountDeletionStatus: "pending"`).';

const loginExample = () => ({
  accessToken: EXAMPLE_ACCESS_TOKEN,
  refreshToken: EXAMPLE_REFRESH_TOKEN,
  expiresIn: 3600,
  refreshExpiresIn: 2592000,
  user: exampleUser(),
  isRegistrationComplete: false,
});

/** 429 of the send routes. */
function sendLimited(what: string): ResponseObject {
  return rateLimited(
    `A send limit is spent: the resend cooldown per ${what} (\`OTP_RESEND_COOLDOWN_SECONDS\`, 60 s), codes per ${what} (5 per hour, 10 per day), per IP (20 per hour)${what === 'number' ? ', or per country calling code (2000 per hour)' : ''}.`,
    'send-cooldown',
    42,
  );
}

/** 502 of the send routes: the SMS provider or the mail transport failed. */
function deliveryFailed(transport: string, errorCode: string, field: string, summary: string): ResponseObject {
  return errorResponse(502, {
    description: `The ${transport} refused the message or timed out. The code is discarded (not usable) and the resend cooldown is given back.`,
    errorCodes: [errorCode],
    examples: {
      failed: {
        summary,
        value: errorBody(502, [`${field}: the code could not be delivered; try again`], { errorCode }),
      },
    },
  });
}

/** 400 of the verify routes: a malformed body (these examples), or a wrong code. */
function verifyFailed(examples: Record<string, ExampleObject>): ResponseObject {
  const otpInvalid = {
    summary: 'A wrong code',
    value: errorBody(400, ['code: incorrect'], { errorCode: 'OTP_INVALID', details: { attemptsRemaining: 2 } }),
  };
  return validationFailed(
    'The body is malformed, or the code is wrong (`OTP_INVALID`, with `details.attemptsRemaining`).',
    { ...examples, otpInvalid },
    {
      errorCodes: ['OTP_INVALID'],
      details: {
        type: 'object',
        additionalProperties: false,
        required: ['attemptsRemaining'],
        properties: { attemptsRemaining: { type: 'integer', minimum: 0 } },
      },
    },
  );
}

/** The other failures of the verify routes: no usable code, an account that cannot log in, a spent limit. */
function verifyErrors(): Record<string, ResponseObject | RefObject> {
  return {
    '404': errorResponse(404, {
      description:
        'No usable code for this recipient: never sent, expired, already used, or its attempts exhausted (`OTP_MAX_ATTEMPTS`, 5 by default). Request a new code.',
      errorCodes: ['OTP_NOT_FOUND'],
      examples: {
        otpNotFound: {
          summary: 'No usable code',
          value: errorBody(404, ['code: no usable code for this number; request a new one'], {
            errorCode: 'OTP_NOT_FOUND',
          }),
        },
      },
    }),
    '409': errorResponse(409, {
      description:
        'The account cannot log in in its current state: suspended by support (`ACCOUNT_SUSPENDED`), or a finalized deletion still being processed (`ACCOUNT_UNAVAILABLE`). The code was right (and is used up); no session is opened.',
      errorCodes: ['ACCOUNT_SUSPENDED', 'ACCOUNT_UNAVAILABLE'],
      examples: {
        accountSuspended: {
          summary: 'A suspended account',
          value: errorBody(409, ['account: suspended; contact support'], { errorCode: 'ACCOUNT_SUSPENDED' }),
        },
        accountUnavailable: {
          summary: 'A deletion being finalized',
          value: errorBody(409, ['account: cannot log in in its current state'], { errorCode: 'ACCOUNT_UNAVAILABLE' }),
        },
      },
    }),
    '429': rateLimited(
      'Too many verify attempts for this recipient (`OTP_VERIFY_PER_NUMBER_HOUR`, 10 per hour, counting only attempts that reached a usable code; attempts on a code bound to a device count against that number and `verificationId` alone) or from this IP (`OTP_VERIFY_PER_IP_HOUR`, 60 per hour).',
      'verify-recipient-hour',
      3542,
    ),
    ...common({ db: true, bodyValidated: true }),
  };
}

// ---------------------------------------------------------------------------------------------
// Operations.

function sendOtp(code: string): OperationObject {
  return operation({
    operationId: 'sendOtp',
    summary: 'Doğrulama kodu gönder (send a verification code by SMS)',
    description:
      'Sends a one-time code by SMS to the normalized number; a new code replaces the previous one. `code` is in the response only when code exposure is on (development and test). Configured test numbers get their fixed code without SMS and without send limits.',
    tags: ['Authentication'],
    requestBody: jsonBody('SendOtpRequest', {
      docs: { summary: 'The docs’ example', value: { countryCode: '90', phoneNumber: '5551234567' } },
      spaced: {
        summary: 'With a plus, a trunk prefix and spaces (the same number)',
        value: { countryCode: '+90', phoneNumber: '0555 123 45 67' },
      },
    }),
    responses: {
      '201': successResponse('The code was sent.', 'SendOtpResultEnvelope', {
        docs: {
          summary: 'The docs’ example (code exposure on)',
          value: okBody(
            { countryCode: '+90', phoneNumber: '5551234567', code, expiresIn: 180, resendAvailableIn: 60 },
            201,
          ),
        },
        production: {
          summary: 'Production: no code',
          value: okBody({ countryCode: '+90', phoneNumber: '5551234567', expiresIn: 180, resendAvailableIn: 60 }, 201),
        },
      }),
      '400': validationFailed('The body is malformed or the number is not a valid mobile number.', {
        invalidNumber: {
          summary: 'Not a mobile number',
          value: errorBody(400, ['phoneNumber: not a valid mobile number for country code 90']),
        },
        missing: { summary: 'A missing field', value: errorBody(400, ['phoneNumber: is required']) },
      }),
      '429': sendLimited('number'),
      '502': deliveryFailed('SMS provider', 'SMS_DELIVERY_FAILED', 'sms', 'Provider timeout'),
      ...common({ db: true, bodyValidated: true }),
    },
    'x-mutating': true,
  });
}

function verifyOtp(code: string): OperationObject {
  return operation({
    operationId: 'verifyOtp',
    summary: 'Doğrulama kodu ile giriş yap (log in with a verification code)',
    description: `Checks the code against the latest unexpired, unused code of the number; a code works once, and after \`OTP_MAX_ATTEMPTS\` (5) wrong codes it is dead. ${ATTRIBUTION_DETAILS}`,
    tags: ['Authentication'],
    requestBody: jsonBody('VerifyOtpRequest', {
      docs: {
        summary: 'The docs’ example',
        value: {
          countryCode: '90',
          phoneNumber: '5551234567',
          code,
          signupSource: 'instagram_ads',
          signupCampaign: 'spring_launch_2026',
        },
      },
      minimal: { summary: 'Without attribution', value: { countryCode: '90', phoneNumber: '5551234567', code } },
    }),
    responses: {
      '200': successResponse(
        'Logged in: tokens, the private user object, and whether registration is complete.',
        'LoginResultEnvelope',
        {
          newUser: { summary: 'A new user (the docs’ example)', value: okBody(loginExample()) },
        },
      ),
      '400': verifyFailed({
        invalidNumber: {
          summary: 'Not a mobile number',
          value: errorBody(400, ['phoneNumber: not a valid mobile number for country code 90']),
        },
        badAttribution: {
          summary: 'Attribution with a space',
          value: errorBody(400, ['signupSource: must be 1-64 characters of A-Z a-z 0-9 . _ -']),
        },
      }),
      ...verifyErrors(),
    },
    'x-mutating': true,
  });
}

function sendOtpEmail(code: string): OperationObject {
  return operation({
    operationId: 'sendOtpEmail',
    summary: 'Send a verification code by e-mail',
    description:
      'The e-mail variant of send-otp: the address is trimmed, lower-cased and put in Unicode NFC (a quoted local part or an invisible character is refused), the code goes out by mail. Same limits (keyed by the address; no per-country budget).',
    tags: ['Authentication'],
    requestBody: jsonBody('SendOtpEmailRequest', {
      docs: { summary: 'An address', value: { email: 'user@example.com' } },
    }),
    responses: {
      '201': successResponse('The code was sent.', 'SendOtpEmailResultEnvelope', {
        docs: {
          summary: 'Code exposure on',
          value: okBody({ email: 'user@example.com', code, expiresIn: 180, resendAvailableIn: 60 }, 201),
        },
      }),
      '400': validationFailed('The body is malformed or the address is not valid.', {
        invalidEmail: { summary: 'Not an address', value: errorBody(400, ['email: not a valid e-mail address']) },
        quoted: { summary: 'A quoted local part', value: errorBody(400, ['email: must not have a quoted local part']) },
        invisible: {
          summary: 'A zero-width space in the address',
          value: errorBody(400, ['email: must not contain spaces, invisible, formatting or control characters']),
        },
      }),
      '429': sendLimited('address'),
      '502': deliveryFailed('mail transport', 'MAIL_DELIVERY_FAILED', 'email', 'SMTP rejection'),
      ...common({ db: true, bodyValidated: true }),
    },
    'x-mutating': true,
  });
}

function verifyOtpEmail(code: string): OperationObject {
  return operation({
    operationId: 'verifyOtpEmail',
    summary: 'Log in with an e-mail verification code',
    description: `The e-mail variant of verify-otp. A user whose verified e-mail identity is the address logs in; otherwise a new user is created with that \`email\`. Same guarantees and errors. ${ATTRIBUTION_DETAILS}`,
    tags: ['Authentication'],
    requestBody: jsonBody('VerifyOtpEmailRequest', {
      docs: {
        summary: 'With attribution',
        value: { email: 'user@example.com', code, signupSource: 'instagram_ads', signupCampaign: 'spring_launch_2026' },
      },
    }),
    responses: {
      '200': successResponse('Logged in.', 'LoginResultEnvelope', {
        newUser: {
          summary: 'A new e-mail user',
          value: okBody({
            ...loginExample(),
            user: { ...exampleUser(), countryCode: null, phoneNumber: null, email: 'user@example.com' },
          }),
        },
      }),
      '400': verifyFailed({
        invalidEmail: { summary: 'Not an address', value: errorBody(400, ['email: not a valid e-mail address']) },
      }),
      ...verifyErrors(),
    },
    'x-mutating': true,
  });
}

function refreshToken(): OperationObject {
  return operation({
    operationId: 'refreshToken',
    summary: 'Access token yenile (refresh the access token)',
    description:
      'Every refresh rotates: a new refresh token is returned and the presented one is used up. Concurrent refreshes with the same token within the grace window (`REFRESH_REUSE_GRACE_SECONDS`, 10 s) all succeed, each with a working pair. Reuse after the window is taken as theft: the whole session is revoked and the call is `401 REFRESH_TOKEN_REUSED`.',
    tags: ['Authentication'],
    requestBody: jsonBody('RefreshTokenRequest', {
      token: { summary: 'A refresh token', value: { refreshToken: EXAMPLE_REFRESH_TOKEN } },
    }),
    responses: {
      '200': successResponse('A new token pair.', 'TokenPairEnvelope', {
        pair: {
          summary: 'A new pair',
          value: okBody({
            accessToken: EXAMPLE_ACCESS_TOKEN,
            refreshToken: EXAMPLE_REFRESH_TOKEN,
            expiresIn: 3600,
            refreshExpiresIn: 2592000,
          }),
        },
      }),
      '400': validationFailed('The body is malformed.', {
        notString: { summary: 'Not a string', value: errorBody(400, ['refreshToken: must be a string']) },
      }),
      '401': errorResponse(401, {
        description:
          'The refresh token is unknown, expired or revoked (`REFRESH_TOKEN_INVALID`), or was reused after the grace window (`REFRESH_TOKEN_REUSED`: the session is now revoked).',
        errorCodes: ['REFRESH_TOKEN_INVALID', 'REFRESH_TOKEN_REUSED'],
        examples: {
          invalid: {
            summary: 'Unknown or expired',
            value: errorBody(401, ['refreshToken: invalid, expired or revoked'], {
              errorCode: 'REFRESH_TOKEN_INVALID',
            }),
          },
          reused: {
            summary: 'Reused after the grace window',
            value: errorBody(401, ['refreshToken: already used; the session has been ended'], {
              errorCode: 'REFRESH_TOKEN_REUSED',
            }),
          },
        },
      }),
      ...common({ db: true, bodyValidated: true }),
    },
    'x-mutating': true,
  });
}

function logout(): OperationObject {
  return operation({
    operationId: 'logout',
    summary: 'Çıkış yap (log out everywhere)',
    description:
      'Ends **all** the caller’s live sessions. Their refresh tokens stop at once; their access tokens within `SESSION_CACHE_TTL_MS` (≤ 5 s) on every server.',
    tags: ['Authentication'],
    security: JWT,
    requestBody: emptyBody(),
    responses: {
      '200': successResponse('The sessions ended.', 'LogoutResultEnvelope', {
        three: { summary: 'Three sessions', value: okBody({ revokedSessions: 3 }) },
      }),
      '400': fieldsRefused(),
      ...signedIn({ db: true, bodyValidated: true }),
    },
    'x-mutating': true,
  });
}

function revokeToken(): OperationObject {
  return operation({
    operationId: 'revokeToken',
    summary: 'Refresh token iptal et (end the session of a refresh token)',
    description:
      'Ends the one session the refresh token belongs to, when it is the caller’s (e.g. signing out another device listed by `GET /api/v1/auth/sessions`).',
    tags: ['Authentication'],
    security: JWT,
    requestBody: jsonBody('RefreshTokenRequest', {
      token: { summary: 'A refresh token of the caller', value: { refreshToken: EXAMPLE_REFRESH_TOKEN } },
    }),
    responses: {
      '200': successResponse('The session ended.', 'RevokeTokenResultEnvelope', {
        revoked: { summary: 'Revoked', value: okBody({ revoked: true }) },
      }),
      '400': validationFailed('The body is malformed.', {
        missing: { summary: 'No token', value: errorBody(400, ['refreshToken: is required']) },
      }),
      '404': errorResponse(404, {
        description: 'The refresh token is unknown or not the caller’s; nothing is revoked.',
        errorCodes: ['REFRESH_TOKEN_NOT_FOUND'],
        examples: {
          notYours: {
            summary: 'Not the caller’s token',
            value: errorBody(404, ['refreshToken: no such token of yours'], { errorCode: 'REFRESH_TOKEN_NOT_FOUND' }),
          },
        },
      }),
      ...signedIn({ db: true, bodyValidated: true }),
    },
    'x-mutating': true,
  });
}

function listSessions(): OperationObject {
  return operation({
    operationId: 'listSessions',
    summary: 'Aktif oturumları listele (list active sessions)',
    description:
      'The caller’s live sessions, most recently used first, with `current: true` on the one making this request.',
    tags: ['Authentication'],
    security: JWT,
    responses: {
      '200': successResponse('The live sessions.', 'SessionListEnvelope', {
        two: {
          summary: 'Two devices',
          value: okBody([
            {
              id: '65a4f0c2e4b0a1b2c3d4e5f7',
              createdAt: TS,
              lastUsedAt: TS,
              expiresAt: '2026-02-14T10:30:00.000Z',
              ip: '203.0.113.7',
              userAgent: 'Allmine/2.4.1 iOS',
              platform: 'mobile_ios',
              deviceId: 'device-A1',
              appVersion: '2.4.1',
              current: true,
            },
            {
              id: '65a4f0c2e4b0a1b2c3d4e5f8',
              createdAt: TS,
              lastUsedAt: TS,
              expiresAt: '2026-02-14T10:30:00.000Z',
              ip: '198.51.100.4',
              userAgent: 'Mozilla/5.0',
              platform: 'web',
              deviceId: null,
              appVersion: null,
              current: false,
            },
          ]),
        },
      }),
      ...signedIn({ db: true, bodyValidated: false }),
    },
    'x-mutating': false,
  });
}

function getMe(): OperationObject {
  return operation({
    operationId: 'getMe',
    summary: 'Mevcut kullanıcı bilgilerini getir (the current user)',
    description: 'The private user object of the caller.',
    tags: ['Authentication'],
    security: JWT,
    responses: {
      '200': successResponse('The private user object.', 'PrivateUserEnvelope', {
        user: { summary: 'A new user', value: okBody(exampleUser()) },
      }),
      ...signedIn({ db: true, bodyValidated: false }),
    },
    'x-mutating': false,
  });
}

/** The paths of the group, each a function of this file. */
export function authPaths(otpLength: number): Record<string, PathItemObject> {
  const code = exampleCode(otpLength);
  return {
    '/api/v1/auth/send-otp': { post: sendOtp(code) },
    '/api/v1/auth/verify-otp': { post: verifyOtp(code) },
    '/api/v1/auth/send-otp-email': { post: sendOtpEmail(code) },
    '/api/v1/auth/verify-otp-email': { post: verifyOtpEmail(code) },
    '/api/v1/auth/refresh': { post: refreshToken() },
    '/api/v1/auth/logout': { post: logout() },
    '/api/v1/auth/revoke-token': { post: revokeToken() },
    '/api/v1/auth/sessions': { get: listSessions() },
    '/api/v1/auth/me': { get: getMe() },
  };
}
