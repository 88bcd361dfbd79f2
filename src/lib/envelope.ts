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

export function sendData<T>(res: Response, statusCode: number, data: T): void {
  res.status(statusCode).json(successBody(statusCode, data));
}

export function sendError(res: Response, err: AppError): void {
  for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  res.status(err.status).json(errorBody(err));
}
