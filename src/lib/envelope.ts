/**
 * The response envelope (docs/api.md#the-envelope), built only here.
 */
import type { Response } from 'express';
import { AppError } from './errors.js';

export interface Envelope<T> {
  isSuccess: boolean;
  statusCode: number;
  data: T | null;
  errors: string[];
  errorCode?: string;
  details?: Record<string, unknown>;
  timestamp: string;
}

export function successBody<T>(statusCode: number, data: T, now = new Date()): Envelope<T> {
  return { isSuccess: true, statusCode, data, errors: [], timestamp: now.toISOString() };
}

export function errorBody(err: AppError, now = new Date()): Envelope<null> {
  const body: Envelope<null> = {
    isSuccess: false,
    statusCode: err.status,
    data: null,
    errors: err.errors,
    timestamp: now.toISOString(),
  };
  if (err.errorCode) body.errorCode = err.errorCode;
  if (err.details) body.details = err.details;
  return body;
}

/**
 * Sends a success envelope as JSON, written with its headers in one piece: Express's `res.json` turns a body of
 * 1,000 characters or more (a login's answer is about 1,500) into a Buffer, which Node then writes as a second
 * chunk. Node leaves the body out of an answer to HEAD.
 */
export function sendData<T>(res: Response, statusCode: number, data: T): void {
  const text = JSON.stringify(successBody(statusCode, data));
  res.status(statusCode);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

export function sendError(res: Response, err: AppError): void {
  for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  res.status(err.status).json(errorBody(err));
}
