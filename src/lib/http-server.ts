/**
 * The HTTP server of an Express app: the web dyno's and the tests'.
 *
 * Express gives every request and response the app's prototypes (`app.request`, `app.response`: its methods,
 * `req.app`, …) with `Object.setPrototypeOf`, once per request. V8 then treats both objects as of a new shape,
 * and every later property access on them, in Node's HTTP code and in each middleware, takes a slower path: in
 * a loop of requests through an app with one route, the two calls cost ~140 µs of CPU per request, twice what
 * Node spends on the request itself (docs/architecture.md#the-http-server). Here Node creates the two objects
 * from subclasses whose prototypes already are the app's, and the app's prototypes become those subclasses'
 * prototypes, so Express's call finds the prototype it sets and changes nothing. What a request sees is the
 * same: Express's methods and `req.app` come through the prototype chain as before.
 */
import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { Express } from 'express';

/** The classes made for an app, so that a second server of the same app reuses them. */
const classesOf = new WeakMap<Express, AppClasses>();

interface AppClasses {
  IncomingMessage: typeof IncomingMessage;
  ServerResponse: typeof ServerResponse;
}

function classesFor(app: Express): AppClasses {
  const known = classesOf.get(app);
  if (known) return known;
  class AppRequest extends IncomingMessage {}
  class AppResponse extends ServerResponse {}
  Object.setPrototypeOf(AppRequest.prototype, app.request);
  Object.setPrototypeOf(AppResponse.prototype, app.response);
  app.request = AppRequest.prototype as unknown as Express['request'];
  app.response = AppResponse.prototype as unknown as Express['response'];
  const classes = { IncomingMessage: AppRequest, ServerResponse: AppResponse as typeof ServerResponse };
  classesOf.set(app, classes);
  return classes;
}

export function createHttpServer(app: Express): Server {
  return createServer(classesFor(app), app);
}
