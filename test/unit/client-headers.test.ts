import { expect } from 'chai';
import { parseTimezone } from '../../src/middleware/client-headers.js';
import { TIMEZONE } from '../../src/schemas/users.js';

describe('X-Timezone and the timezone field (docs/api.md#client-headers)', () => {
  it('takes UTC and UTC±HH:MM in quarter hours from -12:00 to +14:00, and nothing the OpenAPI pattern refuses', () => {
    const good = ['UTC', 'UTC+03:00', 'UTC+05:45', 'UTC-12:00', 'UTC+14:00', 'UTC-03:30'];
    const bad = ['UTC+01:60', 'UTC+01:75', 'UTC-12:15', 'UTC+14:15', 'UTC+3', 'utc', 'UTC+03:10', 'GMT+03:00', ''];
    for (const tz of good) expect(parseTimezone(tz), tz).to.equal(tz);
    for (const tz of bad) expect(parseTimezone(tz), tz).to.equal(undefined);
    // The server and the document's pattern agree, both ways.
    for (const tz of [...good, ...bad]) expect(new RegExp(TIMEZONE.pattern).test(tz), tz).to.equal(good.includes(tz));
  });
});
