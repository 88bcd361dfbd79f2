/**
 * The optional client headers (docs/api.md#client-headers). An invalid value is treated
 * as absent, never as an error.
 */
import type { RequestHandler } from 'express';
import { LANGUAGES, PLATFORMS, type ClientInfo } from '../lib/client-info.js';

declare module 'express-serve-static-core' {
  interface Request {
    client: ClientInfo;
  }
}

const TIMEZONE = /^UTC([+-])(\d{2}):(\d{2})$/;
const APP_VERSION = /^[0-9A-Za-z.+_-]{1,32}$/;
const DEVICE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function parseTimezone(raw: string | undefined): string | undefined {
  if (raw === 'UTC') return raw;
  const m = raw ? TIMEZONE.exec(raw) : null;
  if (!m) return undefined;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  const signed = m[1] === '-' ? -minutes : minutes;
  if (Number(m[3]) >= 60 || Number(m[3]) % 15 !== 0 || signed < -12 * 60 || signed > 14 * 60) return undefined;
  return raw;
}

function oneOf<T extends string>(values: readonly T[], raw: string | undefined): T | undefined {
  return values.find((v) => v === raw);
}

export const clientHeaders: RequestHandler = (req, _res, next) => {
  const tz = parseTimezone(req.get('x-timezone')?.trim());
  const appVersion = req.get('x-app-version')?.trim();
  const deviceId = req.get('x-device-id')?.trim();
  const userAgent = req.get('user-agent');
  req.client = {
    language: oneOf(LANGUAGES, req.get('x-language')?.trim().toLowerCase()) ?? 'en',
    timezone: tz ?? 'UTC',
    timezoneGiven: tz !== undefined,
    platform: oneOf(PLATFORMS, req.get('x-platform')?.trim().toLowerCase()) ?? 'web',
    appVersion: appVersion && APP_VERSION.test(appVersion) ? appVersion : null,
    deviceId: deviceId && DEVICE_ID.test(deviceId) ? deviceId : null,
    userAgent: userAgent ? userAgent.slice(0, 512) : null,
    ip: req.ip ?? null,
  };
  next();
};
