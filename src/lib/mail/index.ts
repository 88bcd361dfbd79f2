/**
 * E-mail delivery through nodemailer. `createMailer` picks the transport named
 * by `mail.transport`:
 * - `json`: nodemailer's JSON transport; nothing leaves the process. One info
 *   line is logged with the message id, the recipient's domain and the
 *   lengths, never the text (it carries the one-time code) nor the address.
 * - `smtp`: a pooled SMTP transport from `mail.smtpUrl`
 *   (`smtp://user:pass@host:587`, STARTTLS when offered; `smtps://…:465`;
 *   nodemailer options such as `?requireTLS=true` can ride on the query).
 *   Connection, greeting, socket and DNS timeouts are `mail.timeoutMs`, and
 *   every send also has an overall deadline of `mail.timeoutMs` (which cancels
 *   the send inside nodemailer too).
 *
 * A send fails only with `MailDeliveryError` (`timeout` | `rejected` |
 * `network`), whose message never holds the text, the recipient or credentials.
 * `from` comes from the config on every message; `to` is always one address.
 */
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { MailConfig } from '../../../config/index.js';
import type { Logger } from '../logger.js';
import { MailDeliveryError, toMailDeliveryError, type MailMessage, type Mailer } from './delivery.js';

export {
  MailDeliveryError,
  toMailDeliveryError,
  type MailDeliveryErrorOptions,
  type MailFailureReason,
  type MailMessage,
  type Mailer,
  type MailTransportName,
} from './delivery.js';

/** The recipient's domain, lower-cased, for logs (the local part identifies a person). */
export function emailDomain(address: string): string | undefined {
  const at = address.lastIndexOf('@');
  if (at < 0 || at === address.length - 1) return undefined;
  return address.slice(at + 1).toLowerCase();
}

/**
 * The `to` field as one address object: nodemailer would split a string such
 * as `a@x.test, b@y.test` into several recipients; an object is taken as one.
 */
const recipient = (to: string) => ({ name: '', address: to });

/** Options common to both transports: no file/URL content, one recipient, no nodemailer logging. */
const COMMON = {
  logger: false,
  debug: false,
  disableFileAccess: true,
  disableUrlAccess: true,
  maxRecipients: 1,
} as const;

class JsonMailer implements Mailer {
  readonly transport = 'json' as const;
  private readonly transporter = nodemailer.createTransport({ ...COMMON, jsonTransport: true });

  constructor(
    private readonly from: string,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  async send(message: MailMessage): Promise<{ messageId?: string }> {
    let messageId: string;
    try {
      const info = await this.transporter.sendMail({
        from: this.from,
        to: recipient(message.to),
        subject: message.subject,
        text: message.text,
      });
      messageId = info.messageId || `json-${randomUUID()}`;
    } catch (error) {
      throw toMailDeliveryError(this.transport, error, this.timeoutMs);
    }
    this.logger.info(
      {
        transport: this.transport,
        messageId,
        emailDomain: emailDomain(message.to),
        subjectLength: message.subject.length,
        length: message.text.length,
      },
      'mail sent (json transport)',
    );
    return { messageId };
  }

  close(): void {
    this.transporter.close();
  }
}

export interface SmtpMailerOptions {
  smtpUrl: string;
  from: string;
  timeoutMs: number;
}

class SmtpMailer implements Mailer {
  readonly transport = 'smtp' as const;
  private readonly transporter;
  private closed = false;

  constructor(
    private readonly options: SmtpMailerOptions,
    logger: Logger,
  ) {
    const { timeoutMs } = options;
    // Keys in the URL's query string win over these (nodemailer merges them that way).
    this.transporter = nodemailer.createTransport({
      ...COMMON,
      url: options.smtpUrl,
      pool: true,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      dnsTimeout: timeoutMs,
      // How long close() waits for the server to close its side before destroying the socket.
      socketCloseTimeout: Math.min(timeoutMs, 1000),
    });
    // Mail re-emits transport-level errors; without a listener an 'error' event would crash the process.
    // Only the code is logged: nodemailer messages can echo server replies.
    this.transporter.on('error', (err: { code?: unknown }) => {
      logger.warn(
        { transport: this.transport, errorCode: typeof err.code === 'string' ? err.code : undefined },
        'mail transport error',
      );
    });
  }

  async send(message: MailMessage): Promise<{ messageId?: string }> {
    const { timeoutMs } = this.options;
    if (this.closed) throw new MailDeliveryError(this.transport, 'network', `${this.transport}: mailer is closed`);
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new MailDeliveryError(this.transport, 'timeout', `${this.transport}: no response within ${timeoutMs} ms`, {
            errorCode: 'ETIMEDOUT',
          }),
        );
        // Stops the send inside nodemailer: drops it from the pool queue or closes its connection.
        controller.abort();
      }, timeoutMs);
    });
    try {
      const info = await Promise.race([
        this.transporter.sendMail({
          from: this.options.from,
          to: recipient(message.to),
          subject: message.subject,
          text: message.text,
          signal: controller.signal,
        }),
        deadline,
      ]);
      return { messageId: info.messageId };
    } catch (error) {
      throw toMailDeliveryError(this.transport, error, timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.transporter.close();
  }
}

/**
 * @throws Error (plain) when `transport` is `smtp` without `smtpUrl`; `loadConfig`
 * already refuses such a config, so this guards hand-built ones.
 */
export function createMailer(mail: MailConfig, logger: Logger): Mailer {
  switch (mail.transport) {
    case 'json':
      return new JsonMailer(mail.from, mail.timeoutMs, logger);
    case 'smtp': {
      if (!mail.smtpUrl) throw new Error('Mail transport smtp is missing SMTP_URL');
      return new SmtpMailer({ smtpUrl: mail.smtpUrl, from: mail.from, timeoutMs: mail.timeoutMs }, logger);
    }
    default: {
      const unknown: never = mail.transport;
      throw new Error(`Unknown mail transport "${String(unknown)}"`);
    }
  }
}
