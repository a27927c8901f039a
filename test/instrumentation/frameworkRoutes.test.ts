// Real frameworks from npm in child processes under --require (and one ESM app
// per family under --import), exporting to an OTLP receiver in this process:
// http.route and the span name carry the template, never a concrete value.
import { expect } from 'chai';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startChildApp } from '../support/childApp';
import type { ChildApp } from '../support/childApp';
import { OtlpReceiver } from '../support/otlpReceiver';
import type { ReceivedSpan } from '../support/otlpReceiver';

/** Values put in the URLs; none may appear in any http.route. */
const IDS = ['org-4242', 'dev-777', 'truck-31', 'item-5150', 'order-99', 'probe-7'];

// Express 4 is installed as the alias `express4`; module hooks (ours and every
// OpenTelemetry instrumentation's) match packages by the folder they live in,
// so the app loads it from a folder named node_modules/express, as users have it.
const EXPRESS4 = join(ROOT, '.test-frameworks', 'node_modules', 'express');

describe('instrumentation: http.route from real frameworks', function () {
  this.timeout(60000);
  const receiver = new OtlpReceiver();
  let app: ChildApp | undefined;

  before(async () => {
    if (!existsSync(join(EXPRESS4, 'package.json'))) cpSync(join(ROOT, 'node_modules', 'express4'), EXPRESS4, { recursive: true });
    await receiver.start();
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
    receiver.reset();
  });
  after(() => receiver.stop());

  async function launch(fixture: string, mode: 'require' | 'import' = 'require', env: NodeJS.ProcessEnv = {}): Promise<ChildApp> {
    app = await startChildApp(join('frameworks', fixture), mode, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, ...env });
    return app;
  }

  /** Sends each request, waits for all their server spans, and returns them by url.path. */
  async function spansOf(requests: [method: string, path: string][]): Promise<Map<string, ReceivedSpan>> {
    for (const [method, path] of requests) await (await fetch(`${app!.base}${path}`, { method })).arrayBuffer();
    await receiver.waitFor(`${requests.length} spans`, () => receiver.serverSpans().length >= requests.length);
    return new Map(receiver.serverSpans().map((s) => [String(s.attributes['url.path']), s]));
  }

  /** The route and name expected, the attributes every server span has, and no concrete id in any route. */
  function expectRoutes(spans: Map<string, ReceivedSpan>, expected: Record<string, string | null>): void {
    for (const [path, route] of Object.entries(expected)) {
      const span = spans.get(path);
      expect(span, `span for ${path}`).to.not.equal(undefined);
      const method = String(span!.attributes['http.request.method']);
      if (route === null) {
        expect(span!.attributes, path).to.not.have.property('http.route');
        expect(span!.name, path).to.equal(method);
      } else {
        expect(span!.attributes['http.route'], path).to.equal(route);
        expect(span!.name, path).to.equal(`${method} ${route}`);
      }
      expect(span!.attributes).to.include({ 'client.address': '127.0.0.1', 'activity.type': 'api_call' });
      expect(span!.attributes['activity.outcome']).to.equal(Number(span!.attributes['http.response.status_code']) < 400 ? 'success' : 'failure');
      expect(span!.attributes['http.response.body.size']).to.be.a('number');
    }
    for (const span of receiver.serverSpans()) {
      const route = String(span.attributes['http.route'] ?? '');
      for (const id of IDS) expect(route, `http.route of ${String(span.attributes['url.path'])}`).to.not.include(id);
    }
  }

  const expressRequests: [string, string][] = [
    ['GET', '/api/orgs/org-4242/devices/dev-777'], ['GET', '/api/fleet/trucks/truck-31'], ['GET', '/api/list-b'],
    ['GET', '/api/maybe/dev-777'], ['GET', '/api/fail/dev-777'], ['GET', '/api/nothing-here'],
  ];
  const expressRoutes = {
    '/api/orgs/org-4242/devices/dev-777': '/api/orgs/:orgId/devices/:id',
    '/api/fleet/trucks/truck-31': '/api/fleet/trucks/:truckId',
    '/api/list-b': '/api/list-a,/api/list-b',
    '/api/maybe/dev-777': null, // next() fell through to Express's 404
    '/api/fail/dev-777': '/api/fail/:id', // the error belongs to its route
    '/api/nothing-here': null,
  };

  it('Express 4: mounted routers with parameters, nested routers, array paths, fall-through and errors', async () => {
    await launch('express-app.js', 'require', { FIXTURE_EXPRESS: EXPRESS4 });
    const spans = await spansOf(expressRequests);
    expectRoutes(spans, expressRoutes);
    expect(spans.get('/api/fail/dev-777')!.attributes['error.type']).to.equal('500');
  });

  it('Express 5: the same app, the same templates', async () => {
    await launch('express-app.js');
    expectRoutes(await spansOf(expressRequests), expressRoutes);
  });

  it('Express 5 as ESM under --import', async () => {
    await launch('express-app.mjs', 'import');
    expectRoutes(await spansOf([['GET', '/api/orgs/org-4242/devices/dev-777']]), { '/api/orgs/org-4242/devices/dev-777': '/api/orgs/:orgId/devices/:id' });
  });

  it('NestJS (platform-express): the controller route', async () => {
    await launch('nest-app.js');
    expectRoutes(await spansOf([['GET', '/api/devices/dev-777']]), { '/api/devices/dev-777': '/api/devices/:id' });
  });

  it('Fastify 5: prefixed plugins, async handlers, the 404 handler', async () => {
    await launch('fastify-app.js');
    const spans = await spansOf([['GET', '/api/v2/items/item-5150'], ['POST', '/api/v2/items/item-5150/notes'], ['GET', '/health/probe-7'], ['GET', '/api/v2/nothing']]);
    expectRoutes(spans, {
      '/api/v2/items/item-5150': '/api/v2/items/:itemId', '/api/v2/items/item-5150/notes': '/api/v2/items/:itemId/notes',
      '/health/probe-7': '/health/:probe', '/api/v2/nothing': null,
    });
  });

  it('Fastify 5 as ESM under --import', async () => {
    await launch('fastify-app.mjs', 'import');
    expectRoutes(await spansOf([['GET', '/api/v2/items/item-5150']]), { '/api/v2/items/item-5150': '/api/v2/items/:itemId' });
  });

  it('Koa 3 + @koa/router: prefixed and nested routers, no match', async () => {
    await launch('koa-app.js');
    const spans = await spansOf([['GET', '/api/v2/items/item-5150'], ['GET', '/api/v3/orders/order-99'], ['GET', '/api/v2/nothing']]);
    expectRoutes(spans, { '/api/v2/items/item-5150': '/api/v2/items/:itemId', '/api/v3/orders/order-99': '/api/v3/orders/:orderId', '/api/v2/nothing': null });
  });

  it('Koa 3 + @koa/router as ESM under --import', async () => {
    await launch('koa-app.mjs', 'import');
    expectRoutes(await spansOf([['GET', '/api/v2/items/item-5150']]), { '/api/v2/items/item-5150': '/api/v2/items/:itemId' });
  });

  it('Hono + @hono/node-server: app.route(\'/api/v2\', sub), a middleware, no match', async () => {
    await launch('hono-app.js');
    const spans = await spansOf([['GET', '/api/v2/items/item-5150'], ['GET', '/api/v2/nothing']]);
    expectRoutes(spans, { '/api/v2/items/item-5150': '/api/v2/items/:itemId', '/api/v2/nothing': null });
  });

  it('Hono as ESM under --import', async () => {
    await launch('hono-app.mjs', 'import');
    expectRoutes(await spansOf([['GET', '/api/v2/items/item-5150']]), { '/api/v2/items/item-5150': '/api/v2/items/:itemId' });
  });
});
