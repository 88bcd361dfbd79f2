/**
 * Twilio Programmable Messaging, "Create a Message resource":
 *   POST {baseUrl}/2010-04-01/Accounts/{AccountSid}/Messages.json
 *   Authorization: Basic base64(AccountSid:AuthToken)
 *   Content-Type: application/x-www-form-urlencoded
 *   To=<E.164>&Body=<text>&MessagingServiceSid=<MG…>   (or From=<sender>)
 * Success: 201 Created, JSON Message resource whose `sid` (SM…) we return.
 * Failure: 4xx/5xx, JSON `{ code, message, more_info, status }`, e.g.
 *   400 `{ "code": 21211, "message": "The 'To' number … is not a valid phone number.", … }`.
 *
 * Confirmed against: https://www.twilio.com/docs/messaging/api/message-resource
 * (parameters To/From/MessagingServiceSid/Body, Basic auth with the Account SID),
 * the CreateMessage operation in the twilio-go reference
 * (https://github.com/twilio/twilio-go/blob/v1.7.2/rest/api/v2010/docs/AccountsMessagesApi.md:
 * `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`). The error body
 * `{ code: 21211, message, more_info, status: 400 }` is Twilio's example as quoted from
 * its REST debugging guide; seen second-hand only, so we rely on nothing but `code`.
 * "201 Created" was not seen in an official page: any 2xx with a `sid` counts.
 *
 * When both a Messaging Service and a From are configured we send only
 * MessagingServiceSid: the service then picks the sender from its pool.
 */
import type { SmsConfig } from '../../../config/index.js';
import {
  asCode,
  basicAuth,
  field,
  postWithDeadline,
  SmsDeliveryError,
  trimBaseUrl,
  type SmsMessage,
  type SmsProvider,
} from './delivery.js';

export interface TwilioOptions {
  accountSid: string;
  authToken: string;
  from?: string;
  messagingServiceSid?: string;
  baseUrl: string;
  timeoutMs: number;
}

export function twilioOptions(sms: SmsConfig): TwilioOptions {
  const { accountSid, authToken, from, messagingServiceSid, baseUrl } = sms.twilio;
  const missing: string[] = [];
  if (!accountSid) missing.push('TWILIO_ACCOUNT_SID');
  if (!authToken) missing.push('TWILIO_AUTH_TOKEN');
  if (!from && !messagingServiceSid) missing.push('TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID');
  if (!accountSid || !authToken || missing.length > 0) {
    throw new Error(`SMS provider twilio is missing ${missing.join(', ')}`);
  }
  return { accountSid, authToken, from, messagingServiceSid, baseUrl, timeoutMs: sms.timeoutMs };
}

export class TwilioSmsProvider implements SmsProvider {
  readonly name = 'twilio' as const;
  private readonly url: string;
  private readonly authorization: string;

  constructor(private readonly options: TwilioOptions) {
    this.url = `${trimBaseUrl(options.baseUrl)}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`;
    this.authorization = basicAuth(options.accountSid, options.authToken);
  }

  async send(message: SmsMessage): Promise<{ providerMessageId?: string }> {
    const form = new URLSearchParams({ To: message.to, Body: message.text });
    if (this.options.messagingServiceSid) form.set('MessagingServiceSid', this.options.messagingServiceSid);
    else if (this.options.from) form.set('From', this.options.from);

    const res = await postWithDeadline(
      this.name,
      this.url,
      {
        headers: {
          authorization: this.authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
      },
      this.options.timeoutMs,
    );

    if (!res.ok) {
      const providerCode = asCode(field(res.json, 'code'));
      const detail = providerCode ? `HTTP ${res.status}, code ${providerCode}` : `HTTP ${res.status}`;
      throw new SmsDeliveryError(this.name, 'rejected', `twilio rejected the message (${detail})`, {
        httpStatus: res.status,
        ...(providerCode ? { providerCode } : {}),
      });
    }
    const sid = field(res.json, 'sid');
    if (typeof sid !== 'string' || sid === '') {
      // A 2xx we cannot read: we cannot tell whether Twilio queued the message.
      throw new SmsDeliveryError(this.name, 'rejected', `twilio answered HTTP ${res.status} without a message sid`, {
        httpStatus: res.status,
      });
    }
    return { providerMessageId: sid };
  }
}
