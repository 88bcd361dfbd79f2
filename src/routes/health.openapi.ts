/**
 * The OpenAPI part of the probes (`./health.ts`): the `Health` and `Readiness` schemas and the paths
 * `/healthz` and `/readyz`, one function each. Built with the shared blocks of `src/openapi/`;
 * `src/openapi/spec.ts` adds it to the document (without the `/api/v1` no-store header: probes do not send it).
 */
import {
  common,
  errorBody,
  errorResponse,
  okBody,
  operation,
  strictObject,
  successResponse,
} from '../openapi/builders.js';
import type { ResourceSchemas } from '../openapi/components.js';
import type { OperationObject, PathItemObject } from '../openapi/types.js';

/** The schemas of the probes' answers, with their envelopes. */
export function healthSchemas(): ResourceSchemas {
  return {
    data: {
      Health: strictObject({ status: { const: 'ok' }, uptimeSeconds: { type: 'integer', minimum: 0 } }, [
        'status',
        'uptimeSeconds',
      ]),
      Readiness: strictObject(
        {
          status: { const: 'ready' },
          checks: strictObject({ mongodb: { const: 'up' }, redis: { const: 'up' } }, ['mongodb', 'redis']),
        },
        ['status', 'checks'],
      ),
    },
    envelopes: [
      ['Health', 200],
      ['Readiness', 200],
    ],
  };
}

function getHealth(): OperationObject {
  return operation({
    operationId: 'getHealth',
    summary: 'Liveness',
    description:
      'The process is alive. It checks no dependency, so a database outage never gets the process restarted.',
    tags: ['Health'],
    responses: {
      '200': successResponse('Alive.', 'HealthEnvelope', {
        ok: { summary: 'Alive', value: okBody({ status: 'ok', uptimeSeconds: 3600 }) },
      }),
      ...common({ db: false, bodyValidated: false }),
    },
    'x-mutating': false,
  });
}

function getReadiness(): OperationObject {
  return operation({
    operationId: 'getReadiness',
    summary: 'Readiness',
    description: 'MongoDB and Redis both answer within `READINESS_TIMEOUT_MS` (1500 ms).',
    tags: ['Health'],
    responses: {
      '200': successResponse('Ready.', 'ReadinessEnvelope', {
        ready: { summary: 'Ready', value: okBody({ status: 'ready', checks: { mongodb: 'up', redis: 'up' } }) },
      }),
      ...common({ db: false, bodyValidated: false }),
      '503': errorResponse(503, {
        description:
          'A dependency does not answer; `details.checks` says which (one `<name>: not reachable` message each). No `errorCode`.',
        details: {
          type: 'object',
          additionalProperties: false,
          required: ['checks'],
          properties: {
            checks: strictObject({ mongodb: { enum: ['up', 'down'] }, redis: { enum: ['up', 'down'] } }, [
              'mongodb',
              'redis',
            ]),
          },
        },
        examples: {
          redisDown: {
            summary: 'Redis down',
            value: errorBody(503, ['redis: not reachable'], { details: { checks: { mongodb: 'up', redis: 'down' } } }),
          },
        },
      }),
    },
    'x-mutating': false,
  });
}

/** The probes' paths. */
export function healthPaths(): Record<string, PathItemObject> {
  return {
    '/healthz': { get: getHealth() },
    '/readyz': { get: getReadiness() },
  };
}
