/**
 * Registers a path with its handlers and answers every other method on that
 * path with 405 (and an `Allow` header), in the envelope.
 */
import type { RequestHandler, Router } from 'express';
import { AppError } from '../lib/errors.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type RouteHandlers = Partial<Record<Method, RequestHandler[]>>;

export function defineRoute(router: Router, path: string, handlers: RouteHandlers): void {
  const route = router.route(path);
  const allowed: string[] = [];
  for (const [method, chain] of Object.entries(handlers) as [Method, RequestHandler[]][]) {
    route[method](...chain);
    allowed.push(method.toUpperCase());
    if (method === 'get') allowed.push('HEAD');
  }
  const allow = allowed.join(', ');
  route.all((_req, _res) => {
    throw new AppError(405, { messages: [`Allowed methods: ${allow}`], headers: { Allow: allow } });
  });
}
