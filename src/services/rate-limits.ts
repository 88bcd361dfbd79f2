/**
 * The limits of docs/api.md#limits, counted in Redis so every web dyno shares them
 * (rate-limiter-flexible's atomic Lua scripts). When Redis does not answer,
 * each limiter falls back to an in-memory twin with the same budget
 * ("insurance"), so a Redis blip neither locks everyone out nor lifts the limits.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../../config/index.js';
import { tooManyRequests } from '../lib/errors.js';
import type { Redis } from '../lib/redis.js';

const HOUR = 3600;
const DAY = 24 * HOUR;

export type LimitName =
  | 'send-cooldown'
  | 'send-recipient-hour'
  | 'send-recipient-day'
  | 'send-ip-hour'
  | 'send-country-hour'
  | 'verify-recipient-hour'
  | 'verify-ip-hour';

/** The limits that count against one recipient (`phone:+90…` / `email:…`): what support can see and reset. */
export const RECIPIENT_LIMITS = [
  'send-cooldown',
  'send-recipient-hour',
  'send-recipient-day',
  'verify-recipient-hour',
] as const satisfies readonly LimitName[];

/** A limit's live state for one key. */
export interface LimitState {
  name: LimitName;
  /** Points per window. */
  limit: number;
  /** Points taken in the current window (0 when none is open). */
  used: number;
  remaining: number;
  /** The next attempt would be refused (429). */
  blocked: boolean;
  /** When the current window ends and `used` drops to 0; null when no window is open. */
  resetsAt: string | null;
}

export class RateLimits {
  /** A limit configured to 0 (only the resend cooldown may be) has no limiter and never bites. */
  private readonly limiters: Partial<Record<LimitName, RateLimiterAbstract>>;

  constructor(redis: Redis, config: Config) {
    const l = config.limits;
    const make = (name: LimitName, points: number, duration: number): RateLimiterAbstract =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `rl:${name}`,
        points,
        duration,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: `rl:${name}`, points, duration }),
      });
    this.limiters = {
      ...(config.otp.resendCooldownSeconds > 0
        ? { 'send-cooldown': make('send-cooldown', 1, config.otp.resendCooldownSeconds) }
        : {}),
      'send-recipient-hour': make('send-recipient-hour', l.sendPerNumberHour, HOUR),
      'send-recipient-day': make('send-recipient-day', l.sendPerNumberDay, DAY),
      'send-ip-hour': make('send-ip-hour', l.sendPerIpHour, HOUR),
      'send-country-hour': make('send-country-hour', l.sendPerCountryHour, HOUR),
      'verify-recipient-hour': make('verify-recipient-hour', l.verifyPerNumberHour, HOUR),
      'verify-ip-hour': make('verify-ip-hour', l.verifyPerIpHour, HOUR),
    };
  }

  /**
   * Takes one point from each named limit (in parallel: one Redis round trip
   * of latency). @throws AppError 429 with the longest wait when any is spent.
   */
  async consume(all: [LimitName, string][]): Promise<void> {
    const checks = all.filter(([name]) => this.limiters[name]);
    const results = await Promise.allSettled(checks.map(([name, key]) => this.limiters[name]!.consume(key)));
    let waitMs = -1;
    const exceeded: LimitName[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      if (r.reason instanceof RateLimiterRes) {
        waitMs = Math.max(waitMs, r.reason.msBeforeNext);
        exceeded.push(checks[i]![0]);
        return;
      }
      throw r.reason;
    });
    if (waitMs >= 0) {
      throw tooManyRequests(waitMs / 1000, { errorCode: 'RATE_LIMITED', details: { limits: exceeded } });
    }
  }

  /**
   * The live state of the named limits (limits configured off are left out). Read from Redis; while it
   * does not answer, from this process's in-memory twin.
   */
  async state(checks: [LimitName, string][], now: Date): Promise<LimitState[]> {
    const present = checks.filter(([name]) => this.limiters[name]);
    return Promise.all(
      present.map(async ([name, key]) => {
        const limiter = this.limiters[name]!;
        const res = await limiter.get(key);
        const used = res?.consumedPoints ?? 0;
        const remaining = Math.max(0, limiter.points - used);
        const open = res !== null && res.msBeforeNext > 0;
        return {
          name,
          limit: limiter.points,
          used: open ? used : 0,
          remaining: open ? remaining : limiter.points,
          blocked: open && remaining === 0,
          resetsAt: open ? new Date(now.getTime() + res.msBeforeNext).toISOString() : null,
        };
      }),
    );
  }

  /** Forgets the named counters: their windows start afresh. */
  async reset(checks: [LimitName, string][]): Promise<void> {
    await Promise.all(checks.map(([name, key]) => this.limiters[name]?.delete(key)));
  }

  /** Gives points back (e.g. the SMS could not be sent, so the cooldown should not bite). */
  async refund(checks: [LimitName, string][]): Promise<void> {
    await Promise.allSettled(checks.map(([name, key]) => this.limiters[name]?.reward(key, 1)));
  }
}
