/**
 * pino to stdout. Secrets, one-time codes and tokens are censored wherever
 * they appear in a log object (top level or one level deep); phone numbers
 * keep only their first two and last two digits.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

const SECRET_KEYS = [
  'code',
  'otp',
  'codeHash',
  'verificationId',
  'verificationHash',
  'accessToken',
  'refreshToken',
  'token',
  'password',
  'secret',
  'authorization',
  'cookie',
];
const PHONE_KEYS = ['phoneNumber', 'phone', 'e164'];

export const REDACT_PATHS = [
  ...[...SECRET_KEYS, ...PHONE_KEYS].flatMap((k) => [k, `*.${k}`]),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-refresh-token"]',
];

export function maskPhone(value: string): string {
  const digits = value.replace(/\D/g, '');
  if (digits.length <= 4) return '*'.repeat(digits.length);
  return `${digits.slice(0, 2)}${'*'.repeat(digits.length - 4)}${digits.slice(-2)}`;
}

export function createLogger(
  options: { level: string; name?: string; pretty?: boolean },
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: options.level,
      base: { name: options.name ?? 'allmine-auth', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: REDACT_PATHS,
        censor: (value: unknown, path: string[]) =>
          PHONE_KEYS.includes(path[path.length - 1] ?? '') && typeof value === 'string'
            ? maskPhone(value)
            : '[REDACTED]',
      },
      serializers: { err: pino.stdSerializers.err },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

export type { Logger };
