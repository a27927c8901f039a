/**
 * Hono (with @hono/node-server): the matched routes and the index of the one
 * that answered live on the request context `c` that only handlers see
 * (`routePath(c)` in 'hono/route'). Hono has no hook or channel for it, so
 * every app gets one first middleware, added in a subclass of `Hono` exported
 * in its place, that links `c` to the node request (`c.env.incoming`); the
 * template is read when the span ends. Sub-apps mounted with
 * `app.route('/api/v2', sub)` bring their copy of the middleware along with
 * their routes (prefixed): only the first one on a request acts.
 */
import type { IncomingMessage } from 'node:http';
import { existingRequestState } from '../requestState';

type HonoRoute = { path: string; method: string; handler: unknown };
type HonoContext = {
  env?: { incoming?: IncomingMessage };
  req: { routeIndex: number; matchedRoutes: HonoRoute[] };
  res?: { status: number };
};
type Next = () => Promise<void>;
type HonoClass = new (...args: unknown[]) => { use(path: string, handler: unknown): unknown };

const kTraced = Symbol('cvd-activity.hono');

/** The template of the route that answered, or undefined when none did (only middleware ran: a 404). */
function answeredRoute(c: HonoContext): string | undefined {
  const route = c.req.matchedRoutes[c.req.routeIndex];
  if (route === undefined || route.handler === linkRoute) return undefined;
  // A middleware that passed the request on to Hono's not-found handler.
  if (route.method === 'ALL' && route.path.endsWith('*') && c.res?.status === 404) return undefined;
  return route.path;
}

function linkRoute(c: HonoContext, next: Next): Promise<void> {
  const state = c.env?.incoming === undefined ? undefined : existingRequestState(c.env.incoming);
  if (state !== undefined && state.route === undefined) state.route = () => answeredRoute(c);
  return next();
}

/** Hono's `Hono` export replaced by a subclass whose instances start with the linking middleware. */
export function patchHono(hono: unknown): void {
  const exports = hono as { Hono?: HonoClass & { [kTraced]?: true } };
  const Base = exports.Hono;
  if (typeof Base !== 'function' || Base[kTraced]) return;
  // Named Hono too: apps and libraries that print or compare constructor names see no difference.
  const Traced: HonoClass & { [kTraced]?: true } = class Hono extends Base {
    constructor(...args: unknown[]) {
      super(...args);
      this.use('*', linkRoute);
    }
  };
  Traced[kTraced] = true;
  exports.Hono = Traced;
}
