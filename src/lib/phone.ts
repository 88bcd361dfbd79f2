/**
 * Phone numbers as docs/api.md#phone-numbers defines them: a calling code (1–3 digits,
 * optional `+`) and a national number (separators and the national trunk
 * prefix dropped), valid as a mobile (or fixed-line-or-mobile) number by
 * libphonenumber's full metadata.
 */
import { parsePhoneNumberWithError } from 'libphonenumber-js/max';

export interface NormalizedPhone {
  /** Calling code without `+`, as stored and returned: `"90"`. */
  countryCode: string;
  /** National significant number: `"5551234567"`. */
  phoneNumber: string;
  /** `+905551234567`: the one key of a person's number. */
  e164: string;
}

const COUNTRY_CODE = /^\+?(\d{1,3})$/;
const SEPARATORS = /[\s\-.()]/g;
const MOBILE_TYPES = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE']);

/** Normalizes the calling code alone; `undefined` when it is not 1–3 digits. */
export function normalizeCountryCode(raw: string): string | undefined {
  return COUNTRY_CODE.exec(raw.trim())?.[1];
}

/**
 * @returns the normalized number, or a reason suitable for a validation message.
 */
export function normalizePhone(rawCountryCode: string, rawNumber: string): NormalizedPhone | { error: string } {
  const countryCode = normalizeCountryCode(rawCountryCode);
  if (!countryCode) return { error: 'countryCode: must be 1-3 digits, optionally with a leading +' };
  const national = rawNumber.replace(SEPARATORS, '');
  if (!/^\d{4,17}$/.test(national)) {
    return { error: `phoneNumber: not a valid mobile number for country code ${countryCode}` };
  }
  try {
    const parsed = parsePhoneNumberWithError(national, { defaultCallingCode: countryCode });
    // With the full metadata, `isValid()` is `getType() !== undefined`: a type is the validity check (run once).
    const type = parsed.getType();
    if (parsed.countryCallingCode !== countryCode || !type || !MOBILE_TYPES.has(type)) {
      return { error: `phoneNumber: not a valid mobile number for country code ${countryCode}` };
    }
    return { countryCode, phoneNumber: parsed.nationalNumber, e164: parsed.number };
  } catch {
    return { error: `phoneNumber: not a valid mobile number for country code ${countryCode}` };
  }
}

/**
 * A number in international format: `+905551234567`, `+90 555 123 45 67`, `00905551234567`, or its digits
 * alone (a `+` in a query string that was not percent-encoded arrives as a space). Validated and
 * normalized as `normalizePhone` does. Errors name the field `phone`.
 */
export function normalizeInternationalPhone(raw: string): NormalizedPhone | { error: string } {
  const digits = raw
    .trim()
    .replace(SEPARATORS, '')
    .replace(/^(?:\+|00)/, '');
  const error = { error: 'phone: not a mobile number in international format (+<country code><number>)' };
  if (!/^\d{5,18}$/.test(digits)) return error;
  try {
    const parsed = parsePhoneNumberWithError(`+${digits}`);
    const phone = normalizePhone(parsed.countryCallingCode, parsed.nationalNumber);
    return 'error' in phone ? error : phone;
  } catch {
    return error;
  }
}
