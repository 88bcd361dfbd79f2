/**
 * The end of the middleware chain: unknown routes, and the one error handler
 * that turns anything thrown into the envelope.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, notFound } from '../lib/errors.js';
import { sendError } from '../lib/envelope.js';

export const notFoundHandler: RequestHandler = () => {
  throw notFound({ messages: ['No route matches this path'] });
};

/** Errors that body-parser/express raise for client mistakes carry `status` and `expose`. */
interface HttpLikeError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
}

const CLIENT_ERROR_MESSAGES: Record<string, string> = {
  'entity.parse.failed': 'body: not valid JSON',
  'entity.too.large': 'body: larger than the allowed size',
  'encoding.unsupported': 'body: unsupported content encoding',
  'charset.unsupported': 'body: unsupported charset',
  'request.aborted': 'body: request aborted',
};

/** Driver errors that mean "the database is not reachable right now", not "your request is bad". */
const UNAVAILABLE_ERRORS = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
]);

/**
 * Server error codes that mean "busy or changing primaries, try again": a lock or write conflict that
 * outlasted the server's own retries, a step-down or shutdown during the write (MongoDB's error codes).
 */
const TRANSIENT_SERVER_CODES = new Set([
  24, // LockTimeout
  91, // ShutdownInProgress
  112, // WriteConflict
  189, // PrimarySteppedDown
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

interface ServerErrorLike {
  code?: unknown;
  hasErrorLabel?: (label: string) => boolean;
}

/** A server-side error the client can do nothing about but try again. */
function isTransientServerError(err: Error): boolean {
  if (!err.name.startsWith('Mongo')) return false;
  const e = err as Error & ServerErrorLike;
  if (typeof e.code === 'number' && TRANSIENT_SERVER_CODES.has(e.code)) return true;
  return typeof e.hasErrorLabel === 'function' && e.hasErrorLabel('RetryableWriteError');
}

export function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  if (err instanceof Error && (UNAVAILABLE_ERRORS.has(err.name) || isTransientServerError(err))) {
    return new AppError(503, {
      errorCode: 'DEPENDENCY_UNAVAILABLE',
      messages: ['database: temporarily unavailable'],
      cause: err,
    });
  }
  const e = err as HttpLikeError | null;
  const status = e?.status ?? e?.statusCode;
  if (e && typeof status === 'number' && status >= 400 && status < 500 && e.expose !== false) {
    const message = (e.type && CLIENT_ERROR_MESSAGES[e.type]) || undefined;
    return new AppError(status, { messages: message ? [message] : [] });
  }
  return undefined;
}

export const errorHandler: ErrorRequestHandler = (err, req, res, next) => {
  if (res.headersSent) {
    next(err);
    return;
  }
  const known = toAppError(err);
  if (known) {
    if (known.status >= 500) req.log.error({ err, status: known.status }, 'request failed');
    sendError(res, known);
    return;
  }
  // Unexpected: log it with the request id, send nothing of it.
  req.log.error({ err }, 'unhandled error');
  sendError(res, new AppError(500));
};
