/**
 * What every SMS provider shares: the message and provider shapes, the one
 * error type a send can fail with, and the HTTP call that enforces the
 * deadline and classifies transport failures.
 *
 * Rule for every message built here and in the providers: it may name the
 * provider, the HTTP status and the provider's error code, and nothing else.
 * Never the SMS text (it carries the one-time code), never credentials, never
 * the recipient, and never the provider's own error text (it can echo the
 * recipient back, e.g. Twilio's "The 'To' number … is not valid").
 */
import type { SmsProviderName } from '../../../config/index.js';

export interface SmsMessage {
  /** E.164 with the leading `+`, e.g. `+905551234567`. */
  to: string;
  text: string;
}

export interface SmsProvider {
  readonly name: SmsProviderName;
  send(message: SmsMessage): Promise<{ providerMessageId?: string }>;
}

export type SmsFailureReason = 'timeout' | 'rejected' | 'network';

export interface SmsDeliveryErrorOptions {
  httpStatus?: number;
  providerCode?: string;
  cause?: unknown;
}

export class SmsDeliveryError extends Error {
  readonly provider: string;
  readonly reason: SmsFailureReason;
  readonly httpStatus?: number;
  readonly providerCode?: string;

  constructor(provider: string, reason: SmsFailureReason, message: string, options: SmsDeliveryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SmsDeliveryError';
    this.provider = provider;
    this.reason = reason;
    if (options.httpStatus !== undefined) this.httpStatus = options.httpStatus;
    if (options.providerCode !== undefined) this.providerCode = options.providerCode;
  }
}

export interface ProviderResponse {
  status: number;
  ok: boolean;
  /** Parsed JSON body, or `undefined` when the body is empty or not JSON. */
  json: unknown;
}

/** `baseUrl` without trailing slashes, so `${base}/path` never doubles them. */
export function trimBaseUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** `value` as a non-empty string: providers send codes as strings or numbers. */
export function asCode(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function field(body: unknown, key: string): unknown {
  return body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[key] : undefined;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/**
 * POSTs with global `fetch`, with one deadline of `timeoutMs` covering the
 * connection, the response headers and the body. A deadline hit becomes
 * `timeout`; anything else that keeps us from reading a response (DNS,
 * connection refused or reset, TLS) becomes `network`. HTTP statuses are
 * returned, not judged: each provider decides what a status and body mean.
 */
export async function postWithDeadline(
  provider: SmsProviderName,
  url: string,
  init: { headers: Record<string, string>; body: string },
  timeoutMs: number,
): Promise<ProviderResponse> {
  const signal = AbortSignal.timeout(timeoutMs);
  let status: number;
  let ok: boolean;
  let text: string;
  try {
    const res = await fetch(url, { method: 'POST', headers: init.headers, body: init.body, signal });
    status = res.status;
    ok = res.ok;
    text = await res.text();
  } catch (error) {
    if (isTimeout(error) || signal.aborted) {
      throw new SmsDeliveryError(provider, 'timeout', `${provider}: no response within ${timeoutMs} ms`, {
        cause: error,
      });
    }
    throw new SmsDeliveryError(
      provider,
      'network',
      `${provider}: request failed before a response (${networkCode(error)})`,
      {
        cause: error,
      },
    );
  }
  let json: unknown;
  try {
    json = text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    json = undefined;
  }
  return { status, ok, json };
}

/** The system error code behind a fetch failure (`ECONNREFUSED`, `ENOTFOUND`…), for the message. */
function networkCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = (current as Error & { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]+$/.test(code)) return code;
    current = current.cause;
  }
  return 'connection error';
}
