import { expect } from 'chai';
import type { Request, Response } from 'express';
import { matchedData } from 'express-validator';
import { AppError } from '../../src/lib/errors.js';
import { requiredString, validateBody } from '../../src/middleware/validate.js';

/** Runs `validateBody(schema)` on `body` as Express would: the field messages, or the data handlers read. */
async function validate(schema: Parameters<typeof validateBody>[0], body: unknown) {
  const [middleware] = validateBody(schema);
  const req = { body, params: {}, query: {}, headers: {}, cookies: {} } as unknown as Request;
  try {
    // Express 5 takes a middleware's rejected promise as its error, as `next(err)`.
    await new Promise<void>((resolve, reject) => {
      const next = (err?: unknown) => (err ? reject(err as Error) : resolve());
      Promise.resolve(middleware!(req, {} as Response, next)).catch(reject);
    });
  } catch (err) {
    if (err instanceof AppError) return { errors: err.messages };
    throw err;
  }
  return { data: matchedData(req) };
}

describe('validateBody: consecutive requiredString fields run as one chain, with the same outcome', () => {
  const digits = { pattern: /^[0-9]{4}$/, message: 'must be 4 digits' };
  const schema = {
    a: requiredString(1, 4),
    b: requiredString(2, 8),
    note: { optional: true, isString: { errorMessage: 'must be a string' } },
    c: requiredString(1, 16, digits),
  };

  it('reports each field first failure first, in the order of the schema, across groups', async () => {
    expect(await validate(schema, {})).to.deep.equal({
      errors: ['a: is required', 'b: is required', 'c: is required'],
    });
    expect(await validate(schema, { a: 5, b: ' x ', note: 1, c: '12a4' })).to.deep.equal({
      errors: ['a: must be a string', 'b: must be 2-8 characters', 'note: must be a string', 'c: must be 4 digits'],
    });
    expect(await validate(schema, { a: 'abcde', b: null, c: '1234567890123456789' })).to.deep.equal({
      errors: ['a: must be 1-4 characters', 'b: is required', 'c: must be 1-16 characters'],
    });
  });

  it('trims each value before its checks and in the data handlers read', async () => {
    expect(await validate(schema, { a: ' ab ', b: '\tabc\n', c: ' 1234 ' })).to.deep.equal({
      data: { a: 'ab', b: 'abc', c: '1234' },
    });
  });

  it('still refuses unknown fields, and values nested under a known one by its own check', async () => {
    expect(await validate(schema, { a: 'x', b: 'xy', c: '1234', d: 1 })).to.deep.equal({
      errors: ['d: unknown field'],
    });
    expect(await validate(schema, { a: { x: 1 }, b: 'xy', c: '1234' })).to.deep.equal({
      errors: ['a: must be a string'],
    });
  });
});
