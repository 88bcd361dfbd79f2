/**
 * Development/test provider: sends nothing and logs one line. The text is never
 * logged (it carries the one-time code); only its length is. The recipient goes
 * under the `phone` key, which the logger masks (see src/lib/logger.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { SmsMessage, SmsProvider } from './delivery.js';

export class ConsoleSmsProvider implements SmsProvider {
  readonly name = 'console' as const;

  constructor(private readonly logger: Logger) {}

  async send(message: SmsMessage): Promise<{ providerMessageId?: string }> {
    const providerMessageId = `console-${randomUUID()}`;
    this.logger.info(
      { provider: this.name, phone: message.to, length: message.text.length, providerMessageId },
      'sms sent (console)',
    );
    return { providerMessageId };
  }
}
