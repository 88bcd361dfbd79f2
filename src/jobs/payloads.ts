/**
 * The payload schema of every queue. The worker checks each job against its queue's schema before the
 * processor runs (`jobHandler`, src/workers/processors.ts) and fails a job that does not fit at once, as
 * unrecoverable: no retry can mend a payload, and no processor may act on one that a bug, an old producer
 * or a hand-edited job got wrong. Unknown fields are ignored (a newer producer may add one); a field a new
 * release requires must stay optional until the old producers and the outbox are drained.
 */
import { z } from 'zod';
import { PLATFORMS } from '../lib/client-info.js';
import { WORKER_AUDIT_TYPES } from './audit.js';
import type { QueueName } from './queues.js';

/** How far a login may lie ahead of the worker's clock (clock skew between dynos), and no further. */
export const MAX_FUTURE_SKEW_MS = 60_000;

const objectId = z.string().regex(/^[0-9a-f]{24}$/, 'must be an id (24 hex digits)');
const isoTime = z.iso.datetime({ error: 'must be an ISO 8601 UTC time' });
/** The request id the web logged, carried for log correlation: `X-Request-Id`'s charset. */
const reqId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be a request id')
  .optional();
const attribution = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be an attribution value')
  .nullable();

const SCHEMAS: Record<QueueName, z.ZodType> = {
  'signup-attribution': z.object({ userId: objectId, sessionId: objectId, reqId }),
  'last-login': z.object({
    userId: objectId,
    sessionId: objectId,
    loginAt: isoTime,
    signedUpAt: isoTime.optional(),
    reqId,
  }),
  'registration-completed': z.object({ userId: objectId, completedAt: isoTime, reqId }),
  funnel: z.object({
    step: z.enum(['otp-sent', 'otp-verified']),
    codeId: objectId,
    at: isoTime,
    channel: z.enum(['phone', 'email']),
    country: z
      .string()
      .regex(/^[0-9]{1,3}$/, 'must be a calling code')
      .nullable(),
    platform: z.enum(PLATFORMS),
    source: attribution,
    campaign: attribution,
    medium: attribution.optional(),
  }),
  audit: z
    .object({
      type: z.enum(WORKER_AUDIT_TYPES),
      at: isoTime,
      userId: objectId,
      actorKind: z.enum(['user', 'anonymous']),
      sessionId: objectId.optional(),
      actorSessionId: objectId.optional(),
      codeId: objectId.optional(),
      attempt: z.number().int().min(1).max(100).optional(),
      channel: z.enum(['phone', 'email']).optional(),
      platform: z.enum(PLATFORMS).optional(),
      count: z.number().int().min(0).optional(),
      reqId,
    })
    .refine((d) => d.type !== 'verify-failed' || (d.codeId !== undefined && d.attempt !== undefined), {
      message: 'codeId and attempt are required for verify-failed',
      path: ['codeId'],
    })
    .refine((d) => !['login', 'refresh-token-reuse', 'session-revoked'].includes(d.type) || d.sessionId !== undefined, {
      message: 'is required for this type',
      path: ['sessionId'],
    })
    .refine((d) => d.type !== 'logout' || d.actorSessionId !== undefined, {
      message: 'is required for logout',
      path: ['actorSessionId'],
    }),
  // Job schedulers' jobs: nothing to carry.
  'account-deletion': z.object({}),
  'outbox-relay': z.object({}),
  'expiry-sweep': z.object({}),
};

/**
 * Checks of a payload that fits its queue's schema against the worker's clock, for the queues that have one
 * (the schemas stay clock-free, built once: building a zod schema per job cost the worker 0.4 ms per job). A
 * payload wrong in its fields is refused for those alone.
 */
const CLOCK_CHECKS: Partial<Record<QueueName, (data: unknown, nowMs: number) => string | undefined>> = {
  // `lastLogin` only moves forward (`$max`), so a login dated in the future would pin it there for good.
  'last-login': (data, nowMs) =>
    Date.parse((data as { loginAt: string }).loginAt) > nowMs + MAX_FUTURE_SKEW_MS
      ? 'loginAt: must not be more than a minute in the future'
      : undefined,
};

/**
 * What is wrong with `data` as a payload of `queue`, field by field (`loginAt: must not be …`), or
 * undefined when it fits. The text names fields and rules, never values: it ends up in logs and in the
 * failed job's `failedReason`. `now` is the worker's clock.
 */
export function payloadProblems(queue: QueueName, data: unknown, now: Date): string | undefined {
  const parsed = SCHEMAS[queue].safeParse(data);
  if (parsed.success) return CLOCK_CHECKS[queue]?.(parsed.data, now.getTime());
  return parsed.error.issues
    .map(
      (i) =>
        `${i.path.join('.') || 'payload'}: ${i.code === 'invalid_type' && i.message.endsWith('received undefined') ? 'is required' : i.message}`,
    )
    .join('; ');
}
