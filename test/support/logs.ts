/**
 * Captures pino output in memory so tests can assert what was (and was not) logged.
 */
import { Writable } from 'node:stream';

export interface LogCapture {
  stream: Writable;
  lines: () => Record<string, unknown>[];
  text: () => string;
}

export function captureLogs(): LogCapture {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  const text = () => chunks.join('');
  return {
    stream,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/**
 * Matches text (logs, job data) that shows a one-time `code`: as a JSON string, after the word
 * "code", or as a word of its own. Not as a run of digits inside a request id, an ObjectId, a pid
 * or a time, where a short code turns up by chance (a pid of 14242 holds "4242").
 */
export function showsCode(code: string): RegExp {
  return new RegExp(`"${code}"|code[^a-z0-9]+${code}(?!\\d)|[\\s'=]${code}(?![\\w-])`);
}
