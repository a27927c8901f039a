/**
 * The CVD operations API: a vending-machine fleet back office, written the way
 * a user of cvd-activity writes an app. It imports only the package's public
 * API and is started with `node --require cvd-activity/register dist/demo/server.js`;
 * the register file does the tracing, this code names the user and records
 * what changed.
 *
 * Environment: CVD_DEMO_PORT (default 0 = any free port), CVD_DEMO_HOST
 * (default 127.0.0.1), CVD_DEMO_STATS_FILE (where to write the package's
 * activity counters when the process exits).
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { browserActivityEndpoint, getActivityStats, setErrorCode, setRoute } from 'cvd-activity';
import type { BrowserEndpoint } from 'cvd-activity';
import { adminRoutes } from './api/admin';
import { Auth } from './api/auth';
import { catalogRoutes } from './api/catalog';
import { deliveryRouteRoutes } from './api/deliveryRoutes';
import { deviceRoutes } from './api/devices';
import { financeRoutes } from './api/finance';
import { createFleet } from './api/fleet';
import { orderRoutes } from './api/orders';
import { planogramRoutes } from './api/planograms';
import { HttpError, readBody, Router, send } from './api/router';
import { STATIC_FILES } from './api/static';
import { BROWSER_ENDPOINT_PATH, webPage } from './web/pages';

/** Builds the demo API (not listening yet) over a fresh fleet made from `seed`. */
export function createDemoServer(seed = 7): Server {
  const fleet = createFleet(seed);
  const auth = new Auth(fleet);
  const router = new Router();
  router.on('GET', '/health', () => ({ json: { status: 'ok', devices: fleet.devices.size } }));
  auth.routes(router);
  for (const register of [deviceRoutes, planogramRoutes, orderRoutes, catalogRoutes, financeRoutes, deliveryRouteRoutes, adminRoutes]) {
    register(router, fleet, auth);
  }

  // What the web pages' browser module reports, stored by cvd-activity (created at the first report).
  let browserEndpoint: BrowserEndpoint | undefined;
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (url.pathname === BROWSER_ENDPOINT_PATH) {
        setRoute(BROWSER_ENDPOINT_PATH);
        auth.identify(req.headers); // after authentication, as the docs say: the user comes from the session, not the browser
        browserEndpoint ??= browserActivityEndpoint();
        return browserEndpoint(req, res);
      }
      const file = req.method === 'GET' ? (STATIC_FILES.get(url.pathname) ?? webPage(url.pathname)) : undefined;
      if (file) return send(res, { body: file.body, headers: { 'content-type': file.type, 'cache-control': 'max-age=3600' } });
      const route = router.match(req.method ?? 'GET', url.pathname);
      if (!route) {
        setErrorCode('NOT_FOUND');
        return send(res, { status: 404, json: { error: 'NOT_FOUND', message: `no route ${req.method} ${url.pathname}` } });
      }
      setRoute(route.pattern); // plain node:http has no router that instrumentation knows: name the route
      const body = await readBody(req);
      const reply = await route.handler({
        method: req.method ?? 'GET', path: url.pathname, params: route.params, query: url.searchParams, headers: req.headers, body, raw: req,
      });
      send(res, reply);
    } catch (err) {
      if (err instanceof HttpError) return send(res, { status: err.status, json: { error: err.code, message: err.message } });
      setErrorCode('INTERNAL');
      console.error('demo api: unexpected error', err);
      send(res, { status: 500, json: { error: 'INTERNAL', message: 'unexpected error' } });
    }
  });
  server.on('close', () => void browserEndpoint?.close());
  return server;
}

function main(): void {
  const server = createDemoServer(Number(process.env.CVD_DEMO_SEED ?? 7));
  const host = process.env.CVD_DEMO_HOST ?? '127.0.0.1';
  server.listen(Number(process.env.CVD_DEMO_PORT ?? 0), host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    console.log(`cvd-demo listening on http://${host}:${port}`);
  });
  // Stop taking requests on SIGTERM and let the process end by itself; cvd-activity
  // flushes spans and audit events before it does.
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    // If the database went away first (Ctrl-C stops the embedded one too), the audit pipeline
    // keeps retrying: end anyway. Nothing is lost: every accepted event is in the spool on
    // disk, and the next run with the same spool stores it.
    setTimeout(() => process.exit(0), 15_000).unref();
  });
  const statsFile = process.env.CVD_DEMO_STATS_FILE;
  if (statsFile) {
    process.once('exit', () => {
      try {
        writeFileSync(statsFile, JSON.stringify(getActivityStats()));
      } catch (err) {
        console.error(`demo api: could not write activity counters to ${statsFile}: ${(err as Error).message}`);
      }
    });
  }
}

if (require.main === module) main();
