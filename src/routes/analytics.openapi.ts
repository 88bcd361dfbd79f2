/**
 * The OpenAPI part of the Analytics group (`./analytics.ts`): its component schemas (the signups and funnel
 * reports) and its paths, one function per operation, with the query parameters they share. Built with the
 * shared blocks of `src/openapi/`; the query rules come from `src/schemas/analytics.ts` and the report
 * dimensions from the analytics service, as the routes' do. `src/openapi/spec.ts` adds it to the document.
 */
import {
  errorBody,
  errorResponse,
  JWT,
  okBody,
  operation,
  schemaRef,
  signedIn,
  strictObject,
  successResponse,
} from '../openapi/builders.js';
import type { ResourceSchemas } from '../openapi/components.js';
import type {
  ExampleObject,
  JsonSchema,
  OperationObject,
  ParameterObject,
  PathItemObject,
  RefObject,
  ResponseObject,
} from '../openapi/types.js';
import {
  ATTRIBUTION_FILTER,
  MAX_RANGE_DAYS,
  MAX_SPEND_ROWS,
  RETENTION_GROUPS,
  SPEND_FIELDS,
  SPEND_ROW,
  TIME_ZONE,
} from '../schemas/analytics.js';
import { DIMENSIONS, RETENTION_DAYS } from '../services/analytics.js';

/** A calendar day, `YYYY-MM-DD`, of the report's time zone: the range of a report and the `day` of its rows. */
const UTC_DAY: JsonSchema = { type: 'string', format: 'date', pattern: '^\\d{4}-\\d{2}-\\d{2}$' };
const TZ: JsonSchema = {
  type: 'string',
  pattern: TIME_ZONE.pattern,
  description: 'The IANA time zone whose calendar days the report counts.',
  examples: ['Europe/Istanbul'],
};

// ---------------------------------------------------------------------------------------------
// Schemas.

const countsProperties = {
  signups: {
    type: 'integer',
    minimum: 0,
    description: 'Users who signed up on the days in range (by their first-touch attribution).',
  },
  registrationsCompleted: {
    type: 'integer',
    minimum: 0,
    description: 'Those of them who have completed registration (whenever).',
  },
};

const cost = (what: string): JsonSchema => ({
  type: ['number', 'null'],
  minimum: 0,
  description: `The amount divided by ${what}, rounded to 4 decimals; \`null\` when there are none.`,
});
const spendProperty: JsonSchema = {
  type: 'array',
  description:
    'Spend per currency (no conversion), sorted by currency; present when the report groups and filters by day, source and campaign only (spend has no other dimension).',
  items: strictObject(
    {
      currency: { type: 'string', pattern: SPEND_ROW.currency.pattern },
      amount: { type: 'number', minimum: 0, description: 'The uploaded spend of the group.' },
      costPerSignup: cost('`signups`'),
      costPerCompletedRegistration: cost('`registrationsCompleted`'),
    },
    ['currency', 'amount', 'costPerSignup', 'costPerCompletedRegistration'],
  ),
};

function dataSchemas(): Record<string, JsonSchema> {
  const dimension = {
    type: ['string', 'null'],
    description:
      'A grouped dimension; `(none)` for users without attribution, `null` when unknown (e.g. the country of an e-mail signup).',
  };
  const retentionCounts = Object.fromEntries(
    RETENTION_DAYS.flatMap((n) => [
      [
        `returnedDay${n}`,
        {
          type: 'integer',
          minimum: 0,
          description: `Of \`signups\`, those who logged in during day ${n} after signing up (the 24 hours from ${n} × 24 h after the signup).`,
        },
      ],
      [
        `retentionDay${n}`,
        {
          type: ['number', 'null'],
          minimum: 0,
          maximum: 1,
          description: `\`returnedDay${n} / signups\`, rounded to 4 decimals; \`null\` until day ${n} has ended for the whole cohort, or without signups.`,
        },
      ],
    ]),
  );
  const retentionRequired = ['signups', ...RETENTION_DAYS.flatMap((n) => [`returnedDay${n}`, `retentionDay${n}`])];
  const signupsCount = { type: 'integer', minimum: 0, description: 'Users who signed up on that day (of `tz`).' };
  return {
    SignupsReport: strictObject(
      {
        from: UTC_DAY,
        to: UTC_DAY,
        tz: TZ,
        groupBy: { type: 'array', items: { enum: [...DIMENSIONS] } },
        rows: {
          type: 'array',
          description: 'One row per group, sorted by the grouped values. A row has exactly the `groupBy` dimensions.',
          items: strictObject(
            { ...Object.fromEntries(DIMENSIONS.map((d) => [d, dimension])), ...countsProperties, spend: spendProperty },
            ['signups', 'registrationsCompleted'],
          ),
        },
        totals: strictObject({ ...countsProperties, spend: spendProperty }, ['signups', 'registrationsCompleted']),
      },
      ['from', 'to', 'tz', 'groupBy', 'rows', 'totals'],
    ),
    RetentionReport: strictObject(
      {
        from: UTC_DAY,
        to: UTC_DAY,
        tz: TZ,
        groupBy: { type: 'array', items: { enum: [...RETENTION_GROUPS] } },
        rows: {
          type: 'array',
          description: 'One row per signup day and group, sorted by them.',
          items: strictObject(
            {
              day: UTC_DAY,
              ...Object.fromEntries(RETENTION_GROUPS.map((d) => [d, dimension])),
              signups: signupsCount,
              ...retentionCounts,
            },
            ['day', ...retentionRequired],
          ),
        },
        totals: strictObject({ signups: signupsCount, ...retentionCounts }, retentionRequired),
      },
      ['from', 'to', 'tz', 'groupBy', 'rows', 'totals'],
    ),
    SpendUpload: strictObject(
      {
        rows: {
          type: 'array',
          items: strictObject(
            Object.fromEntries(
              SPEND_FIELDS.map((f) => [
                f,
                f === 'amount'
                  ? {
                      type: ['string', 'number'],
                      pattern: SPEND_ROW.amount.pattern,
                      minimum: 0,
                      description: SPEND_ROW.amount.message,
                    }
                  : { type: 'string', pattern: SPEND_ROW[f].pattern, description: SPEND_ROW[f].message },
              ]),
            ),
            [...SPEND_FIELDS],
          ),
        },
      },
      ['rows'],
    ),
    SpendStored: strictObject(
      {
        rows: { type: 'integer', minimum: 0, description: 'Rows stored.' },
        created: { type: 'integer', minimum: 0, description: 'Of them, new day/source/campaign/currency rows.' },
        replaced: { type: 'integer', minimum: 0, description: 'Of them, rows that replaced an earlier upload’s.' },
      },
      ['rows', 'created', 'replaced'],
    ),
    FunnelReport: strictObject(
      {
        from: UTC_DAY,
        to: UTC_DAY,
        tz: TZ,
        source: { type: ['string', 'null'] },
        campaign: { type: ['string', 'null'] },
        medium: { type: ['string', 'null'] },
        otpSent: {
          type: ['integer', 'null'],
          minimum: 0,
          description: 'Codes sent. `null` when `source` or `campaign` is given: send-otp carries no attribution.',
        },
        otpVerified: {
          type: 'integer',
          minimum: 0,
          description: 'Codes verified, attributed by the verify request’s `signupSource`/`signupCampaign`.',
        },
        ...countsProperties,
        logins: {
          type: 'integer',
          minimum: 0,
          description: 'Logins (sessions opened); 0 when `source` or `campaign` is given.',
        },
      },
      [
        'from',
        'to',
        'tz',
        'source',
        'campaign',
        'medium',
        'otpSent',
        'otpVerified',
        'signups',
        'registrationsCompleted',
        'logins',
      ],
    ),
  };
}

/** The schemas of the group: the reports, with their envelopes. */
export function analyticsSchemas(): ResourceSchemas {
  return {
    data: dataSchemas(),
    envelopes: [
      ['SignupsReport', 200],
      ['FunnelReport', 200],
      ['RetentionReport', 200],
      ['SpendStored', 200],
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Parameters and responses the operations share.

/** `from` / `to`: the range of a report. */
const day = (name: 'from' | 'to', example: string): ParameterObject => ({
  name,
  in: 'query',
  description:
    name === 'to'
      ? 'Last day (of `tz`), inclusive. Default: today there.'
      : `First day (of \`tz\`), inclusive. Default: 29 days before \`to\`. The range is 1–${MAX_RANGE_DAYS} days.`,
  schema: UTC_DAY,
  example,
});
/** `tz`: the calendar of the report. */
const tz: ParameterObject = {
  name: 'tz',
  in: 'query',
  description: `An IANA time zone (\`${TIME_ZONE.message.replace('must be an IANA time zone such as ', '')}\`): the report counts that zone's calendar days, DST included. Default \`ANALYTICS_DEFAULT_TZ\` (\`UTC\`). Counts are kept per UTC quarter hour, so zones with half- or quarter-hour offsets (Asia/Kolkata, Asia/Kathmandu) are exact too.`,
  schema: { type: 'string', pattern: TIME_ZONE.pattern },
  example: 'Europe/Istanbul',
};
const format: ParameterObject = {
  name: 'format',
  in: 'query',
  description: '`json` (the envelope) or `csv` (`text/csv`).',
  schema: { type: 'string', enum: ['json', 'csv'], default: 'json' },
};

/** `source` / `campaign` / `medium`: only the users with this attribution. */
const filter = (name: 'source' | 'campaign' | 'medium', example: string): ParameterObject => ({
  name,
  in: 'query',
  description: `Only users with this ${name} (\`(none)\` for users without attribution).`,
  schema: { type: 'string', pattern: ATTRIBUTION_FILTER.pattern },
  example,
});
const filters = (): ParameterObject[] => [
  filter('source', 'instagram_ads'),
  filter('campaign', 'spring_launch_2026'),
  filter('medium', 'cpc'),
];
/** `groupBy` of a grouped report: a comma-separated subset of `dimensions`. */
const groupByParam = (
  description: string,
  items: readonly string[],
  example: string[],
  extra: JsonSchema = {},
): ParameterObject => ({
  name: 'groupBy',
  in: 'query',
  description,
  style: 'form',
  explode: false,
  schema: { type: 'array', items: { enum: [...items] }, ...extra },
  example,
});

/** The failures of every report besides a bad query: no token, no reporting role. */
function reportErrors(): Record<string, ResponseObject | RefObject> {
  return {
    '403': errorResponse(403, {
      description: 'The caller has neither the `admin` nor the `marketing` role.',
      errorCodes: ['ROLE_REQUIRED'],
      examples: {
        role: {
          summary: 'No reporting role',
          value: errorBody(403, ['role: one of admin, marketing is required'], { errorCode: 'ROLE_REQUIRED' }),
        },
      },
    }),
    ...signedIn({ db: true, bodyValidated: true }),
  };
}

/** 400 of the reports: a bad query (these examples, and an unknown parameter), or a body that is not JSON. */
const badQuery = (examples: Record<string, ExampleObject>) =>
  errorResponse(400, {
    description:
      'A query parameter is invalid, repeated or unknown (one `name: problem` entry each), or the body is not valid JSON.',
    examples: {
      ...examples,
      unknown: { summary: 'An unknown parameter', value: errorBody(400, ['foo: unknown query parameter']) },
    },
  });

// ---------------------------------------------------------------------------------------------
// Operations.

function getSignupsReport(): OperationObject {
  const signupsExample = {
    from: '2026-01-01',
    to: '2026-01-31',
    tz: 'UTC',
    groupBy: ['day', 'source', 'campaign'],
    rows: [
      { day: '2026-01-01', source: '(none)', campaign: '(none)', signups: 3, registrationsCompleted: 1, spend: [] },
      {
        day: '2026-01-01',
        source: 'instagram_ads',
        campaign: 'spring_launch_2026',
        signups: 12,
        registrationsCompleted: 7,
        spend: [{ currency: 'USD', amount: 120.5, costPerSignup: 10.0417, costPerCompletedRegistration: 17.2143 }],
      },
    ],
    totals: {
      signups: 15,
      registrationsCompleted: 8,
      spend: [{ currency: 'USD', amount: 120.5, costPerSignup: 8.0333, costPerCompletedRegistration: 15.0625 }],
    },
  };
  return operation({
    operationId: 'getSignupsReport',
    summary: 'Signups by day, source, campaign, country, platform',
    description:
      "Signup cohorts: `signups` counts users who signed up on the days in range (of `tz`), `registrationsCompleted` those of them who have completed registration (whenever). Users without attribution count under source, campaign and medium `(none)`. When the report groups and filters by day, source and campaign only, rows and totals carry `spend` per currency with `costPerSignup` and `costPerCompletedRegistration` (uploaded with `PUT /api/v1/analytics/spend`). `format=csv` returns the same rows as a CSV attachment (not enveloped; with spend, one line per currency); values starting with `= + - @` are prefixed with `'`. Roles `admin` or `marketing`.",
    tags: ['Analytics'],
    security: JWT,
    parameters: [
      day('from', '2026-01-01'),
      day('to', '2026-01-31'),
      tz,
      groupByParam(
        'Comma-separated dimensions to group by (default `day`); duplicates are ignored.',
        DIMENSIONS,
        ['day', 'source', 'campaign'],
        { minItems: 1, default: ['day'] },
      ),
      ...filters(),
      format,
    ],
    responses: {
      '200': successResponse(
        'The report: JSON in the envelope, or CSV with `format=csv`.',
        'SignupsReportEnvelope',
        { docs: { summary: 'The docs’ example query', value: okBody(signupsExample) } },
        {
          'text/csv': {
            schema: {
              type: 'string',
              description:
                'A header line (the grouped columns, `signups`, `registrationsCompleted`, and with spend `currency`, `spend`, `costPerSignup`, `costPerCompletedRegistration`) and one line per row (with spend: per row and currency; a row without spend has those four empty), CRLF-terminated.',
            },
            example:
              'day,source,campaign,signups,registrationsCompleted,currency,spend,costPerSignup,costPerCompletedRegistration\r\n2026-01-01,(none),(none),3,1,,,,\r\n2026-01-01,instagram_ads,spring_launch_2026,12,7,USD,120.5,10.0417,17.2143\r\n',
          },
        },
        {
          'Content-Disposition': {
            description: 'With `format=csv`: `attachment; filename="signups_<from>_<to>.csv"`.',
            schema: { type: 'string' },
          },
        },
      ),
      '400': badQuery({
        badDay: { summary: 'Not a day', value: errorBody(400, ['from: must be a UTC day YYYY-MM-DD']) },
      }),
      ...reportErrors(),
    },
    'x-mutating': false,
  });
}

function getFunnelReport(): OperationObject {
  return operation({
    operationId: 'getFunnelReport',
    summary: 'The login funnel',
    description:
      'Codes sent, codes verified, signups, completed registrations and logins in the range (days of `tz`). `otpSent` cannot be attributed (send-otp carries no source), so it is `null` when `source`, `campaign` or `medium` is given, and `logins` is then 0. Roles `admin` or `marketing`.',
    tags: ['Analytics'],
    security: JWT,
    parameters: [day('from', '2026-01-01'), day('to', '2026-01-31'), tz, ...filters()],
    responses: {
      '200': successResponse('The funnel.', 'FunnelReportEnvelope', {
        all: {
          summary: 'All sources',
          value: okBody({
            from: '2026-01-01',
            to: '2026-01-31',
            tz: 'UTC',
            source: null,
            campaign: null,
            medium: null,
            otpSent: 1200,
            otpVerified: 1010,
            signups: 640,
            registrationsCompleted: 410,
            logins: 1010,
          }),
        },
        bySource: {
          summary: 'One source',
          value: okBody({
            from: '2026-01-01',
            to: '2026-01-31',
            tz: 'Europe/Istanbul',
            source: 'instagram_ads',
            campaign: null,
            medium: null,
            otpSent: null,
            otpVerified: 300,
            signups: 210,
            registrationsCompleted: 150,
            logins: 0,
          }),
        },
      }),
      '400': badQuery({ range: { summary: 'from after to', value: errorBody(400, ['from: must not be after to']) } }),
      ...reportErrors(),
    },
    'x-mutating': false,
  });
}

function getRetentionReport(): OperationObject {
  const row = {
    day: '2026-03-29',
    source: 'instagram_ads',
    signups: 40,
    returnedDay1: 18,
    retentionDay1: 0.45,
    returnedDay7: 9,
    retentionDay7: 0.225,
    returnedDay30: 4,
    retentionDay30: 0.1,
  };
  const { day: _day, source: _source, ...totals } = row;
  return operation({
    operationId: 'getRetentionReport',
    summary: 'Retention cohorts: who comes back on day 1, 7 and 30',
    description:
      'For the users who signed up on each day in range (of `tz`), grouped by `groupBy`: how many logged in again on day 1, 7 and 30 after signing up, and the share. **Day n** is the 24 hours that start n × 24 h after the user’s signup instant (so it does not depend on the time zone, and a login 23 h after signing up is day 0); a login then counts once per user and n. A share is `null` until day n has ended for the whole cohort. `format=csv`: the same rows as a CSV attachment. Roles `admin` or `marketing`.',
    tags: ['Analytics'],
    security: JWT,
    parameters: [
      day('from', '2026-03-01'),
      day('to', '2026-03-31'),
      tz,
      groupByParam(
        `Comma-separated: any of ${RETENTION_GROUPS.join(', ')} (the signup day is always grouped; default none).`,
        RETENTION_GROUPS,
        ['source'],
      ),
      ...filters(),
      format,
    ],
    responses: {
      '200': successResponse(
        'The cohorts: JSON in the envelope, or CSV with `format=csv`.',
        'RetentionReportEnvelope',
        {
          bySource: {
            summary: 'By source',
            value: okBody({
              from: '2026-03-29',
              to: '2026-03-29',
              tz: 'Europe/Istanbul',
              groupBy: ['source'],
              rows: [row],
              totals,
            }),
          },
        },
        {
          'text/csv': {
            schema: {
              type: 'string',
              description:
                'A header line (`day`, the grouped columns, `signups`, then `returnedDayN`, `retentionDayN` for 1, 7, 30) and one line per row, CRLF-terminated.',
            },
            example:
              'day,source,signups,returnedDay1,retentionDay1,returnedDay7,retentionDay7,returnedDay30,retentionDay30\r\n2026-03-29,instagram_ads,40,18,0.45,9,0.225,4,0.1\r\n',
          },
        },
        {
          'Content-Disposition': {
            description: 'With `format=csv`: `attachment; filename="retention_<from>_<to>.csv"`.',
            schema: { type: 'string' },
          },
        },
      ),
      '400': badQuery({ badZone: { summary: 'Not a time zone', value: errorBody(400, [`tz: ${TIME_ZONE.message}`]) } }),
      ...reportErrors(),
    },
    'x-mutating': false,
  });
}

function putSpend(): OperationObject {
  const csv =
    'day,source,campaign,amount,currency\r\n2026-03-29,instagram_ads,spring_launch_2026,120.50,USD\r\n2026-03-29,google_search,brand,900,TRY\r\n';
  return operation({
    operationId: 'putSpend',
    summary: 'Upload marketing spend',
    description: `Rows \`{ day, source, campaign, amount, currency }\` as JSON (\`{ "rows": [...] }\`, up to \`BODY_LIMIT_BYTES\`) or CSV (\`text/csv\` with a header line naming the five columns, up to \`ANALYTICS_SPEND_MAX_BYTES\`), at most ${MAX_SPEND_ROWS} rows. Each row replaces the spend of its day, source, campaign and currency (uploading the same file twice changes nothing). One malformed row rejects the whole upload: 400 with an entry per problem naming its line (\`line 3: amount: …\` for CSV, \`rows[1] (line 2): …\` for JSON). Amounts are in the currency's units, at most 4 decimals; currencies are never converted. The day is a calendar day as the ad platform reports it, matched to the report's days whatever \`tz\`. Roles \`admin\` or \`marketing\`.`,
    tags: ['Analytics'],
    security: JWT,
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: schemaRef('SpendUpload'),
          examples: {
            json: {
              summary: 'Two rows',
              value: {
                rows: [
                  {
                    day: '2026-03-29',
                    source: 'instagram_ads',
                    campaign: 'spring_launch_2026',
                    amount: '120.50',
                    currency: 'USD',
                  },
                  { day: '2026-03-29', source: 'google_search', campaign: 'brand', amount: 900, currency: 'TRY' },
                ],
              },
            },
          },
        },
        'text/csv': { schema: { type: 'string' }, example: csv },
      },
    },
    responses: {
      '200': successResponse('Stored.', 'SpendStoredEnvelope', {
        stored: { summary: 'Two rows, one new', value: okBody({ rows: 2, created: 1, replaced: 1 }) },
      }),
      '400': errorResponse(400, {
        description:
          'A row is malformed or repeated (the upload is refused whole, one entry per problem naming its line), the CSV header lacks a column, or the body is neither.',
        examples: {
          badRow: {
            summary: 'A bad amount on line 3',
            value: errorBody(400, [`line 3: amount: ${SPEND_ROW.amount.message}`]),
          },
          repeated: {
            summary: 'A repeated row',
            value: errorBody(400, ['line 4: repeats line 2 (the same day, source, campaign and currency)']),
          },
        },
      }),
      ...reportErrors(),
    },
    'x-mutating': true,
  });
}

/** The paths of the group, each operation a function of this file. */
export function analyticsPaths(): Record<string, PathItemObject> {
  return {
    '/api/v1/analytics/signups': { get: getSignupsReport() },
    '/api/v1/analytics/funnel': { get: getFunnelReport() },
    '/api/v1/analytics/retention': { get: getRetentionReport() },
    '/api/v1/analytics/spend': { put: putSpend() },
  };
}
