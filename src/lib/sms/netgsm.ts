/**
 * Netgsm (Turkey) REST v2 bulk-SMS send, used here for one message:
 *   POST {baseUrl}/sms/rest/v2/send
 *   Authorization: Basic base64(usercode:password)
 *   Content-Type: application/json
 *   { "msgheader": "<approved sender name>", "messages": [{ "msg": "<text>", "no": "5XXXXXXXXX" }],
 *     "encoding": "TR" }            // encoding only when the text has Turkish letters
 * Answer: JSON `{ "code": "00", "description": "…", "jobid": "…" }` on success; any
 * other `code` is a failure: 20 message text, 30 credentials / API access / IP,
 * 40 msgheader not defined, 50 and 51 IYS, 70 bad parameters, 80 sending rate
 * limit, 85 duplicate limit (20 tasks per number per minute), 100/101 system error.
 *
 * CONFIRMED (Netgsm's own client and spec, github.com/netgsm/netgsm-sms-js: src/netgsm.ts
 * `sendRestSms`, src/enums.ts `SendSmsErrorCode`, openapi.json; also the npm package
 * @netgsm/sms, https://app.unpkg.com/@netgsm/sms@1.1.11/files/dist/types.d.ts and
 * enums.d.ts; and github.com/netgsm/netgsm-sms-python `SmsService.send`):
 *   - the URL, Basic auth with usercode:password, the JSON field names above;
 *   - success is `code` "00" with a `jobid`; the error codes listed above;
 *   - errors are answered with HTTP 406 and the same `{ code, description }` body
 *     (openapi.json), so a code is read from non-2xx bodies too;
 *   - `no` for Turkish numbers is the 10-digit national number without 0/90
 *     (openapi.json: pattern ^[0-9]{10}$; README examples `5XXXXXXXXX`);
 *   - `encoding: "TR"` enables Turkish characters (and changes how length and price are
 *     counted); the Python client says to send it only when the text needs it.
 * NOT CONFIRMED (no source found in the stored docs): the `no` format for non-Turkish
 * numbers. We send `00` + country code + number (the international-dialling form
 * Netgsm's older HTTP/XML APIs used); check with Netgsm before sending abroad.
 * Also unconfirmed for v2: whether the legacy success codes "01"/"02" (start/stop date
 * corrected) can occur; we never send dates, so only "00" counts as success.
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

export interface NetgsmOptions {
  usercode: string;
  password: string;
  header: string;
  baseUrl: string;
  timeoutMs: number;
}

export function netgsmOptions(sms: SmsConfig): NetgsmOptions {
  const { usercode, password, header, baseUrl } = sms.netgsm;
  if (!usercode || !password || !header) {
    const missing = [!usercode && 'NETGSM_USERCODE', !password && 'NETGSM_PASSWORD', !header && 'NETGSM_HEADER'].filter(
      Boolean,
    );
    throw new Error(`SMS provider netgsm is missing ${missing.join(', ')}`);
  }
  return { usercode, password, header, baseUrl, timeoutMs: sms.timeoutMs };
}

/** Letters that need Netgsm's Turkish encoding (not in the GSM 03.38 default alphabet). */
const TURKISH_LETTERS = /[çÇğĞıİöÖşŞüÜ]/;

/**
 * E.164 to Netgsm's `no`: `+905551234567` → `5551234567`; any other country →
 * `00` + digits (see the header comment: the international form is unconfirmed).
 * `undefined` when `to` is not E.164.
 */
export function netgsmNumber(to: string): string | undefined {
  const m = /^\+([1-9]\d{6,14})$/.exec(to);
  if (!m) return undefined;
  const digits = m[1]!;
  return digits.startsWith('90') ? digits.slice(2) : `00${digits}`;
}

export class NetgsmSmsProvider implements SmsProvider {
  readonly name = 'netgsm' as const;
  private readonly url: string;
  private readonly authorization: string;

  constructor(private readonly options: NetgsmOptions) {
    this.url = `${trimBaseUrl(options.baseUrl)}/sms/rest/v2/send`;
    this.authorization = basicAuth(options.usercode, options.password);
  }

  async send(message: SmsMessage): Promise<{ providerMessageId?: string }> {
    const no = netgsmNumber(message.to);
    if (!no) throw new SmsDeliveryError(this.name, 'rejected', 'netgsm: recipient is not an E.164 number');

    const body: Record<string, unknown> = {
      msgheader: this.options.header,
      messages: [{ msg: message.text, no }],
    };
    if (TURKISH_LETTERS.test(message.text)) body.encoding = 'TR';

    const res = await postWithDeadline(
      this.name,
      this.url,
      {
        headers: {
          authorization: this.authorization,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify(body),
      },
      this.options.timeoutMs,
    );

    const code = asCode(field(res.json, 'code'));
    if (res.ok && code === '00') {
      const jobid = asCode(field(res.json, 'jobid'));
      return jobid ? { providerMessageId: jobid } : {};
    }
    const detail = code ? `HTTP ${res.status}, code ${code}` : `HTTP ${res.status}`;
    throw new SmsDeliveryError(this.name, 'rejected', `netgsm rejected the message (${detail})`, {
      httpStatus: res.status,
      ...(code ? { providerCode: code } : {}),
    });
  }
}
