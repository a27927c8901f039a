/**
 * Hono (with @hono/node-server): the matched routes and the index of the one
 * that answered live on the request context `c` that only handlers see
 * (`routePath(c)` in 'hono/route' reads them). Hono has no hook or channel
 * for it, so `Hono` is replaced by a subclass whose route methods (`get`,
 * `post`, …, `all`, `on`) wrap each handler: the wrapper links `c` to the node
 * request: as it runs, the request's route is the path of the route it is
 * registered for (`c.req.matchedRoutes[c.req.routeIndex]`, prefixes
 * included), copied as a string. Only middleware ran (a 404): no route. Not a middleware: a route with a single handler
 * keeps Hono's synchronous fast path (and @hono/node-server's), which a
 * middleware would turn into an async compose per request. Sub-apps mounted
 * with `app.route('/api/v2', sub)` bring their wrapped handlers along.
 */
import type { IncomingMessage } from 'node:http';
import { existingRequestState } from '../requestState';

type HonoRoute = { path: string; method: string };
type HonoContext = {
  env?: { incoming?: IncomingMessage };
  req: { routeIndex: number; matchedRoutes: HonoRoute[] };
};
type Handler = (c: HonoContext, next: unknown) => unknown;
type HonoClass = new (...args: unknown[]) => object;

const kTraced = Symbol('cvd-activity.hono');
const REGISTRATIONS = ['get', 'post', 'put', 'delete', 'options', 'patch', 'all', 'on'] as const;

/** `handler`, first naming the request's route after the route it is registered for (a string: nothing holds `c`). */
function linked(handler: Handler): Handler {
  return function linkedHandler(this: unknown, c, next) {
    const incoming = c?.env?.incoming;
    const state = incoming === undefined ? undefined : existingRequestState(incoming);
    if (state !== undefined) state.route = c.req.matchedRoutes[c.req.routeIndex]?.path;
    return handler.call(this, c, next);
  };
}

/** Hono's `Hono` export replaced by a subclass whose route methods link handlers to the request. */
export function patchHono(hono: unknown): void {
  const exports = hono as { Hono?: HonoClass & { [kTraced]?: true } };
  const Base = exports.Hono;
  if (typeof Base !== 'function' || Base[kTraced]) return;
  // Named Hono too: apps and libraries that print or compare constructor names see no difference.
  const Traced: HonoClass & { [kTraced]?: true } = class Hono extends Base {
    constructor(...args: unknown[]) {
      super(...args);
      const app = this as unknown as Record<string, unknown>;
      for (const name of REGISTRATIONS) {
        const register = app[name];
        if (typeof register !== 'function') continue;
        app[name] = (...params: unknown[]) => register.apply(this, params.map((p) => (typeof p === 'function' ? linked(p as Handler) : p)));
      }
    }
  };
  Traced[kTraced] = true;
  exports.Hono = Traced;
}
