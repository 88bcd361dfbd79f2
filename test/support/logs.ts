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
