/**
 * SMS delivery. `createSmsProvider` picks the provider named by `sms.provider`;
 * every provider enforces `sms.timeoutMs` itself and fails only with
 * `SmsDeliveryError` (`timeout` | `rejected` | `network`), whose message never
 * holds the SMS text or credentials.
 */
import type { SmsConfig } from '../../../config/index.js';
import type { Logger } from '../logger.js';
import { ConsoleSmsProvider } from './console.js';
import type { SmsProvider } from './delivery.js';
import { NetgsmSmsProvider, netgsmOptions } from './netgsm.js';
import { TwilioSmsProvider, twilioOptions } from './twilio.js';

export { SmsDeliveryError, type SmsFailureReason, type SmsMessage, type SmsProvider } from './delivery.js';
export { ConsoleSmsProvider } from './console.js';
export { NetgsmSmsProvider, netgsmNumber } from './netgsm.js';
export { TwilioSmsProvider } from './twilio.js';

/**
 * @throws Error (plain) when the chosen provider's credentials are missing;
 * `loadConfig` already refuses such a config, so this guards hand-built ones.
 */
export function createSmsProvider(sms: SmsConfig, logger: Logger): SmsProvider {
  switch (sms.provider) {
    case 'console':
      return new ConsoleSmsProvider(logger);
    case 'twilio':
      return new TwilioSmsProvider(twilioOptions(sms));
    case 'netgsm':
      return new NetgsmSmsProvider(netgsmOptions(sms));
    default: {
      const unknown: never = sms.provider;
      throw new Error(`Unknown SMS provider "${String(unknown)}"`);
    }
  }
}
