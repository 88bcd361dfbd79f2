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
import { ATTRIBUTION_FILTER, MAX_RANGE_DAYS } from '../schemas/analytics.js';
import { DIMENSIONS } from '../services/analytics.js';

/** A UTC day, `YYYY-MM-DD`: the range of a report and the `day` of its rows. */
const UTC_DAY: JsonSchema = { type: 'string', format: 'date', pattern: '^\\d{4}-\\d{2}-\\d{2}$' };

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

function dataSchemas(): Record<string, JsonSchema> {
  const dimension = {
    type: ['string', 'null'],
    description:
      'A grouped dimension; `(none)` for users without attribution, `null` when unknown (e.g. the country of an e-mail signup).',
  };
  return {
    SignupsReport: strictObject(
      {
        from: UTC_DAY,
        to: UTC_DAY,
        groupBy: { type: 'array', items: { enum: [...DIMENSIONS] } },
        rows: {
          type: 'array',
          description: 'One row per group, sorted by the grouped values. A row has exactly the `groupBy` dimensions.',
          items: strictObject({ ...Object.fromEntries(DIMENSIONS.map((d) => [d, dimension])), ...countsProperties }, [
            'signups',
            'registrationsCompleted',
          ]),
        },
        totals: strictObject(countsProperties, ['signups', 'registrationsCompleted']),
      },
      ['from', 'to', 'groupBy', 'rows', 'totals'],
    ),
    FunnelReport: strictObject(
      {
        from: UTC_DAY,
        to: UTC_DAY,
        source: { type: ['string', 'null'] },
        campaign: { type: ['string', 'null'] },
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
      ['from', 'to', 'source', 'campaign', 'otpSent', 'otpVerified', 'signups', 'registrationsCompleted', 'logins'],
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
      ? 'Last UTC day, inclusive. Default: today.'
      : `First UTC day, inclusive. Default: 29 days before \`to\`. The range is 1–${MAX_RANGE_DAYS} days.`,
  schema: UTC_DAY,
  example,
});
/** `source` / `campaign`: only the users with this attribution. */
const filter = (name: 'source' | 'campaign', example: string): ParameterObject => ({
  name,
  in: 'query',
  description: `Only users with this ${name} (\`(none)\` for users without attribution).`,
  schema: { type: 'string', pattern: ATTRIBUTION_FILTER.pattern },
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
    groupBy: ['day', 'source', 'campaign'],
    rows: [
      { day: '2026-01-01', source: '(none)', campaign: '(none)', signups: 3, registrationsCompleted: 1 },
      {
        day: '2026-01-01',
        source: 'instagram_ads',
        campaign: 'spring_launch_2026',
        signups: 12,
        registrationsCompleted: 7,
      },
    ],
    totals: { signups: 15, registrationsCompleted: 8 },
  };
  return operation({
    operationId: 'getSignupsReport',
    summary: 'Signups by day, source, campaign, country, platform',
    description:
      "Signup cohorts: `signups` counts users who signed up on the days in range (UTC), `registrationsCompleted` those of them who have completed registration (whenever). Users without attribution count under source and campaign `(none)`. `format=csv` returns the same rows as a CSV attachment (not enveloped); values starting with `= + - @` are prefixed with `'`. Roles `admin` or `marketing`.",
    tags: ['Analytics'],
    security: JWT,
    parameters: [
      day('from', '2026-01-01'),
      day('to', '2026-01-31'),
      {
        name: 'groupBy',
        in: 'query',
        description: 'Comma-separated dimensions to group by (default `day`); duplicates are ignored.',
        style: 'form',
        explode: false,
        schema: { type: 'array', minItems: 1, items: { enum: [...DIMENSIONS] }, default: ['day'] },
        example: ['day', 'source', 'campaign'],
      },
      filter('source', 'instagram_ads'),
      filter('campaign', 'spring_launch_2026'),
      {
        name: 'format',
        in: 'query',
        description: '`json` (the envelope) or `csv` (`text/csv`).',
        schema: { type: 'string', enum: ['json', 'csv'], default: 'json' },
      },
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
                'A header line (the grouped columns, `signups`, `registrationsCompleted`) and one line per row, CRLF-terminated.',
            },
            example:
              'day,source,campaign,signups,registrationsCompleted\r\n2026-01-01,(none),(none),3,1\r\n2026-01-01,instagram_ads,spring_launch_2026,12,7\r\n',
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
      'Codes sent, codes verified, signups, completed registrations and logins in the range (UTC days). `otpSent` cannot be attributed (send-otp carries no source), so it is `null` when `source` or `campaign` is given. Roles `admin` or `marketing`.',
    tags: ['Analytics'],
    security: JWT,
    parameters: [
      day('from', '2026-01-01'),
      day('to', '2026-01-31'),
      filter('source', 'instagram_ads'),
      filter('campaign', 'spring_launch_2026'),
    ],
    responses: {
      '200': successResponse('The funnel.', 'FunnelReportEnvelope', {
        all: {
          summary: 'All sources',
          value: okBody({
            from: '2026-01-01',
            to: '2026-01-31',
            source: null,
            campaign: null,
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
            source: 'instagram_ads',
            campaign: null,
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

/** The paths of the group, each operation a function of this file. */
export function analyticsPaths(): Record<string, PathItemObject> {
  return {
    '/api/v1/analytics/signups': { get: getSignupsReport() },
    '/api/v1/analytics/funnel': { get: getFunnelReport() },
  };
}
