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

  /** Gives points back (e.g. the SMS could not be sent, so the cooldown should not bite). */
  async refund(checks: [LimitName, string][]): Promise<void> {
    await Promise.allSettled(checks.map(([name, key]) => this.limiters[name]?.reward(key, 1)));
  }
}
