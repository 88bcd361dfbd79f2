import { IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express, { type Request, type Response } from 'express';
import { createHttpServer } from '../../src/lib/http-server.js';

/** What a handler saw of its request and response. */
interface Seen {
  requestBuiltWithAppPrototype: boolean;
  responseBuiltWithAppPrototype: boolean;
  requestProtoIsApps: boolean;
  responseProtoIsApps: boolean;
  isIncomingMessage: boolean;
  isServerResponse: boolean;
  sameApp: boolean;
  header: string | undefined;
}

function see(app: express.Express, req: Request, res: Response): Seen {
  return {
    // Built by the server with the prototype Express sets: Express's `setPrototypeOf` had nothing to change.
    requestBuiltWithAppPrototype: Object.getPrototypeOf(req) === (req.constructor as { prototype: unknown }).prototype,
    responseBuiltWithAppPrototype: Object.getPrototypeOf(res) === (res.constructor as { prototype: unknown }).prototype,
    requestProtoIsApps: Object.getPrototypeOf(req) === app.request,
    responseProtoIsApps: Object.getPrototypeOf(res) === app.response,
    isIncomingMessage: req instanceof IncomingMessage,
    isServerResponse: res instanceof ServerResponse,
    sameApp: req.app === app && res.app === app,
    header: req.get('x-probe'),
  };
}

async function listening(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('createHttpServer: requests and responses made with the app prototypes', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  function appSeeing(): { app: express.Express; seen: Seen[] } {
    const app = express();
    const seen: Seen[] = [];
    app.use(express.json());
    // A mounted sub-app swaps the prototypes for its own and back: a later handler must see the app's again.
    const sub = express();
    sub.get('/sub', (req, res) => {
      res.status(200).json({ subSawItsApp: req.app === sub });
    });
    app.use(sub);
    app.post('/probe', (req, res) => {
      seen.push(see(app, req, res));
      res.status(201).json({ echoed: req.body as unknown });
    });
    return { app, seen };
  }

  it('serves Express as before, with each request and response created with the prototypes Express gives them', async () => {
    const { app, seen } = appSeeing();
    const server = createHttpServer(app);
    servers.push(server);
    const url = await listening(server);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${url}/probe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-probe': `p${i}` },
        body: JSON.stringify({ i }),
      });
      expect(res.status).to.equal(201);
      expect(await res.json()).to.deep.equal({ echoed: { i } });
    }
    expect((await (await fetch(`${url}/sub`)).json()) as unknown).to.deep.equal({ subSawItsApp: true });
    expect(seen).to.have.length(3);
    seen.forEach((s, i) =>
      expect(s).to.deep.equal({
        requestBuiltWithAppPrototype: true,
        responseBuiltWithAppPrototype: true,
        requestProtoIsApps: true,
        responseProtoIsApps: true,
        isIncomingMessage: true,
        isServerResponse: true,
        sameApp: true,
        header: `p${i}`,
      }),
    );
  });

  it('a second server of the same app reuses its classes (the prototypes stay the same)', async () => {
    const { app, seen } = appSeeing();
    const first = createHttpServer(app);
    const { request, response } = app;
    const second = createHttpServer(app);
    servers.push(first, second);
    expect(app.request).to.equal(request);
    expect(app.response).to.equal(response);
    const url = await listening(second);
    expect((await fetch(`${url}/probe`, { method: 'POST' })).status).to.equal(201);
    expect(seen[0]).to.include({ requestBuiltWithAppPrototype: true, sameApp: true });
  });

  it("node's own server does not (what the helper saves)", async () => {
    const { app, seen } = appSeeing();
    const { createServer } = await import('node:http');
    const server = createServer(app);
    servers.push(server);
    const url = await listening(server);
    expect((await fetch(`${url}/probe`, { method: 'POST' })).status).to.equal(201);
    expect(seen[0]).to.include({ requestBuiltWithAppPrototype: false, requestProtoIsApps: true, sameApp: true });
  });
});
