/**
 * Real HTTP against an app listening on a loopback port (port 0).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import mongoose from 'mongoose';
import { createApp, type AppDeps } from '../../src/app.js';
import { createHttpServer } from '../../src/lib/http-server.js';
import { createLogger, type Logger } from '../../src/lib/logger.js';
import { testConfig } from './env.js';
import { queues, redis } from './hooks.js';
import { recordingMailer } from './auth.js';
import { captureLogs, type LogCapture } from './logs.js';
import { checkResponse } from './openapi-check.js';

export interface TestServer {
  url: string;
  server: Server;
  logs: LogCapture;
  request: (path: string, init?: RequestInit) => Promise<TestResponse>;
  close: () => Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  // The parsed body; tests assert on its shape.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** Listens on `port` (0: any free one). */
export async function listen(app: Express, logs: LogCapture, port = 0): Promise<TestServer> {
  const server = createHttpServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    server,
    logs,
    request: async (path, init) => {
      const res = await fetch(url + path, init);
      const text = await res.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // Not JSON (e.g. a CSV export); tests read `text`.
      }
      checkResponse(app, init?.method ?? 'GET', path, { status: res.status, headers: res.headers, text, body });
      return { status: res.status, headers: res.headers, text, body };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** Builds the real app on the shared test connections, with config overrides. */
export async function startApp(
  overrides: Record<string, string> = {},
  deps: Partial<AppDeps> = {},
): Promise<TestServer> {
  const logs = captureLogs();
  const logger: Logger = createLogger({ level: 'debug' }, logs.stream);
  const app = createApp({
    config: testConfig(overrides),
    logger,
    mongo: mongoose.connection,
    redis: redis(),
    queues: queues(),
    mailer: recordingMailer(),
    ...deps,
  });
  return listen(app, logs);
}

export function json(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}
