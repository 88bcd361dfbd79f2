/**
 * The one error family of the app. Services throw these; the HTTP error
 * middleware turns them into the envelope, and workers/process handlers log
 * them with the same shape. Anything that is not an AppError is unexpected:
 * it becomes a generic 500 and is logged, never sent.
 */

/** The documented first message for each status (docs/api.md#errors). */
export const GENERIC_MESSAGES: Readonly<Record<number, string>> = {
  400: 'Validation failed',
  401: 'Authentication required',
  403: 'Insufficient permissions',
  404: 'Resource not found',
  405: 'Method not allowed',
  409: 'Resource already exists or cannot be changed in its current state',
  413: 'Request body too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  500: 'Internal server error',
  502: 'Upstream service failed',
  503: 'Service unavailable',
};

export function genericMessage(status: number): string {
  return GENERIC_MESSAGES[status] ?? (status >= 500 ? GENERIC_MESSAGES[500]! : 'Request failed');
}

export interface AppErrorOptions {
  /** Stable UPPER_SNAKE code clients may branch on, e.g. `OTP_INVALID`. */
  errorCode?: string;
  /** Structured extra information, e.g. `{ attemptsRemaining: 2 }`. */
  details?: Record<string, unknown>;
  /** Specific messages listed after the generic one. */
  messages?: string[];
  /** Extra response headers, e.g. `Retry-After`. */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly status: number;
  readonly errorCode: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly messages: string[];
  readonly headers: Record<string, string>;

  constructor(status: number, options: AppErrorOptions = {}) {
    super(options.messages?.[0] ?? genericMessage(status), { cause: options.cause });
    this.name = 'AppError';
    this.status = status;
    this.errorCode = options.errorCode;
    this.details = options.details;
    this.messages = options.messages ?? [];
    this.headers = options.headers ?? {};
  }

  /** `errors` of the envelope: the generic message first, specifics after. */
  get errors(): string[] {
    return [genericMessage(this.status), ...this.messages];
  }
}

export const badRequest = (messages: string[] = [], o: Omit<AppErrorOptions, 'messages'> = {}) =>
  new AppError(400, { ...o, messages });
export const unauthorized = (o: AppErrorOptions = {}) => new AppError(401, o);
export const forbidden = (o: AppErrorOptions = {}) => new AppError(403, o);
export const notFound = (o: AppErrorOptions = {}) => new AppError(404, o);
export const conflict = (o: AppErrorOptions = {}) => new AppError(409, o);
export const serviceUnavailable = (o: AppErrorOptions = {}) => new AppError(503, o);

export function tooManyRequests(retryAfterSeconds: number, o: AppErrorOptions = {}): AppError {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return new AppError(429, {
    ...o,
    details: { ...o.details, retryAfterSeconds: seconds },
    headers: { ...o.headers, 'Retry-After': String(seconds) },
  });
}
