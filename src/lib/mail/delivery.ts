/**
 * What every mail transport shares: the message and mailer shapes, the one
 * error type a send can fail with, and the mapping from nodemailer's errors to it.
 *
 * Rule for every message built here: it may name the transport, the SMTP
 * response code and a system/nodemailer error code (`ECONNREFUSED`, `EAUTH`…),
 * and nothing else. Never the mail text (it carries the one-time code), never
 * credentials, never the recipient, and never the server's reply text or
 * nodemailer's own message (both can echo the recipient back, e.g.
 * `550 5.1.1 <someone@example.com>: Recipient address rejected`). For the same
 * reason the nodemailer error is not attached as `cause`: pino's `err`
 * serializer appends cause messages to the logged message.
 */
export type MailTransportName = 'json' | 'smtp';

export interface MailMessage {
  /** One address (`someone@example.com`); never a list. */
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  readonly transport: MailTransportName;
  send(message: MailMessage): Promise<{ messageId?: string }>;
  /** Closes pooled connections; an in-flight send finishes first (bounded by the deadline). */
  close(): void;
}

export type MailFailureReason = 'timeout' | 'rejected' | 'network';

export interface MailDeliveryErrorOptions {
  /** The SMTP reply code (e.g. 550, 421, 535) when the server answered with an error. */
  responseCode?: number;
  /** nodemailer's or the system's error code (`EENVELOPE`, `ECONNREFUSED`…), never secret. */
  errorCode?: string;
}

export class MailDeliveryError extends Error {
  readonly transport: MailTransportName;
  readonly reason: MailFailureReason;
  readonly responseCode?: number;
  readonly errorCode?: string;

  constructor(
    transport: MailTransportName,
    reason: MailFailureReason,
    message: string,
    options: MailDeliveryErrorOptions = {},
  ) {
    super(message);
    this.name = 'MailDeliveryError';
    this.transport = transport;
    this.reason = reason;
    if (options.responseCode !== undefined) this.responseCode = options.responseCode;
    if (options.errorCode !== undefined) this.errorCode = options.errorCode;
  }
}

/**
 * nodemailer codes for a message (or a configuration) refused before any server
 * reply: sending the same message again would fail the same way.
 */
const REFUSED_CODES = new Set([
  'EAUTH',
  'ENOAUTH',
  'EENVELOPE',
  'EMESSAGE',
  'ECONFIG',
  'EOTP',
  'EMAXRECIPIENTS',
  'EREQUIRETLS',
  'EFILEACCESS',
  'EURLACCESS',
]);

function safeCode(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Z][A-Z0-9_]{0,39}$/.test(value) ? value : undefined;
}

/**
 * Classifies a nodemailer failure. `timeoutMs` is only used for the message.
 * - ETIMEDOUT (connect, greeting or socket timeout) or EABORT (our deadline) → `timeout`;
 * - any SMTP error reply (`responseCode`, 4xx or 5xx, incl. a 535 on AUTH) → `rejected`;
 * - nodemailer refusing the message or the credentials before any server
 *   reply (EAUTH/ENOAUTH/EENVELOPE/EMESSAGE/ECONFIG…) → `rejected`: retrying won't help;
 * - anything else (connection refused/reset, DNS, TLS, proxy, a dropped
 *   connection, an unknown error) → `network`; the message names the system
 *   code behind it (`ECONNREFUSED`, `ENOTFOUND`) when there is one.
 */
export function toMailDeliveryError(
  transport: MailTransportName,
  error: unknown,
  timeoutMs: number,
): MailDeliveryError {
  if (error instanceof MailDeliveryError) return error;
  const e = (error ?? {}) as { code?: unknown; originalCode?: unknown; responseCode?: unknown };
  const code = safeCode(e.code);
  const systemCode = safeCode(e.originalCode) ?? code;

  if (code === 'ETIMEDOUT' || code === 'EABORT') {
    return new MailDeliveryError(transport, 'timeout', `${transport}: no response within ${timeoutMs} ms`, {
      errorCode: code,
    });
  }
  if (typeof e.responseCode === 'number' && Number.isInteger(e.responseCode)) {
    const responseCode = e.responseCode;
    return new MailDeliveryError(transport, 'rejected', `${transport}: server replied ${responseCode}`, {
      responseCode,
      ...(code === undefined ? {} : { errorCode: code }),
    });
  }
  if (code !== undefined && REFUSED_CODES.has(code)) {
    return new MailDeliveryError(transport, 'rejected', `${transport}: message not accepted (${code})`, {
      errorCode: code,
    });
  }
  return new MailDeliveryError(
    transport,
    'network',
    `${transport}: connection failed (${systemCode ?? 'connection error'})`,
    {
      ...(systemCode === undefined ? {} : { errorCode: systemCode }),
    },
  );
}
