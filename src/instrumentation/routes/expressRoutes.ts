/**
 * Express 4 and 5 route templates. Express leaves `req.route.path` (the last
 * route's own path) and `req.baseUrl` (the mount path with the request's
 * actual values: `/api/orgs/42`) on the request, and drops the mount path's
 * template once the layer is built. So the template is recorded where it is
 * still known, when a router's `use(path, …)` or `route(path)` adds a layer:
 * the layer gets its template, and its request handler (an own property
 * wrapping the prototype's, so `layer.handle` and `router.stack` stay as
 * they are) keeps the request's stack of mount templates as it enters and
 * leaves mounted routers. Entering a route layer sets the request's template;
 * leaving it with a plain `next()` (fall-through, possibly to a 404) clears it
 * again, while `next(err)` keeps it: the error belongs to that route.
 *
 * Templates are written as @opentelemetry/instrumentation-express writes them
 * (arrays joined with ',', RegExps as their source, `/` segments skipped,
 * duplicate slashes collapsed), so dashboards match across both.
 */
import { existingRequestState } from '../requestState';
import type { RequestState } from '../requestState';

type Next = (err?: unknown) => void;
type Handle = (this: unknown, req: object, res: unknown, next: Next) => unknown;
type Layer = { route?: unknown; handle_request?: Handle; handleRequest?: Handle };
type RouterProto = { use: (...args: unknown[]) => unknown; route: (path: unknown) => unknown; [kPatched]?: true };
type RouterInstance = { stack?: Layer[] };

const kPatched = Symbol('cvd-activity.express-router');

/** A `use()`/`route()` path as instrumentation-express writes it; undefined for anything else. */
function pathTemplate(path: unknown): string | undefined {
  if (typeof path === 'string') return path;
  if (path instanceof RegExp || typeof path === 'number') return path.toString();
  if (Array.isArray(path)) return path.map((p) => pathTemplate(p) ?? '').join(',');
  return undefined;
}

/** The mount path of `use(...args)`: the first argument unless it is (an array of) middleware. */
function mountTemplate(args: unknown[]): string | undefined {
  let first = args[0];
  while (Array.isArray(first) && first.length > 0) first = first[0];
  return typeof first === 'function' ? undefined : pathTemplate(args[0]);
}

/** Mount templates and a route template as one path, the way instrumentation-express joins them. */
function joinTemplates(mounts: readonly string[] | null, tail: string): string {
  const parts = mounts === null ? [tail] : [...mounts, tail];
  const joined = parts.filter((p) => p !== '/' && p !== '').join('').replace(/\/{2,}/g, '/');
  return joined === '' ? '/' : joined;
}

/** Replaces the layer's request handler (whichever name this Express uses) by `wrap(original)`. */
function wrapLayer(layer: Layer, wrap: (original: Handle) => Handle): void {
  const name = typeof layer.handleRequest === 'function' ? 'handleRequest' : 'handle_request';
  const original = layer[name];
  if (typeof original === 'function') layer[name] = wrap(original);
}

/** A mounted router or middleware: its template is on the request's mount stack while the request is inside it. */
function trackMount(layer: Layer, template: string): void {
  wrapLayer(layer, (original) => function mountedLayer(this: unknown, req, res, next) {
    const state = existingRequestState(req);
    if (state === undefined) return original.call(this, req, res, next);
    const mounts = (state.mounts ??= []);
    const depth = mounts.push(template);
    return original.call(this, req, res, function leaveMount(this: unknown, err?: unknown) {
      mounts.length = depth - 1;
      // eslint-disable-next-line prefer-rest-params
      return next.apply(this, arguments as unknown as [unknown]);
    });
  });
}

/** A route: entering it names the request's template; a plain next() out of it (fall-through) takes the name back. */
function trackRoute(layer: Layer, template: string): void {
  wrapLayer(layer, (original) => function routeLayer(this: unknown, req, res, next) {
    const state: RequestState | undefined = existingRequestState(req);
    if (state === undefined) return original.call(this, req, res, next);
    const before = state.route;
    state.route = joinTemplates(state.mounts, template);
    return original.call(this, req, res, function leaveRoute(this: unknown, err?: unknown) {
      // '' (not undefined): a route was left, so Express's own req.route is stale too (see untrackedExpressRoute).
      if (err === undefined || err === null || err === 'route' || err === 'router') state.route = before ?? '';
      // eslint-disable-next-line prefer-rest-params
      return next.apply(this, arguments as unknown as [unknown]);
    });
  });
}

/** The layers a call appended to `router.stack`. */
function appended(router: RouterInstance, before: number): Layer[] {
  return Array.isArray(router.stack) ? router.stack.slice(before) : [];
}

/**
 * Patches Express's Router (`express.Router` itself in Express 4, its
 * prototype in Express 5, where it is the `router` package's class) once.
 * Routers and apps created before this are not covered; under the register
 * flag nothing is created before.
 */
export function patchExpress(express: unknown): void {
  const Router = (express as { Router?: { prototype?: unknown } } | null)?.Router;
  if (typeof Router !== 'function') return;
  const proto = (typeof (Router.prototype as RouterProto | undefined)?.route === 'function' ? Router.prototype : Router) as RouterProto;
  if (proto[kPatched] || typeof proto.use !== 'function' || typeof proto.route !== 'function') return;
  proto[kPatched] = true;
  const use = proto.use;
  const route = proto.route;
  proto.use = function patchedUse(this: RouterInstance, ...args: unknown[]) {
    const before = this.stack?.length ?? 0;
    const result = use.apply(this, args);
    const template = mountTemplate(args);
    if (template !== undefined && template !== '/') for (const layer of appended(this, before)) trackMount(layer, template);
    return result;
  };
  proto.route = function patchedRoute(this: RouterInstance, path: unknown) {
    const before = this.stack?.length ?? 0;
    const result = route.call(this, path);
    const template = pathTemplate(path);
    if (template !== undefined) for (const layer of appended(this, before)) if (layer.route === result) trackRoute(layer, template);
    return result;
  };
}

/**
 * When Express was loaded where no module hook reaches (an ESM-only framework
 * such as NestJS 12 import()ing it inside a CommonJS app under --require), the
 * layers are not tracked. Express still leaves the matched route on the
 * request; its path is the whole template only for a route on the app itself
 * (empty `baseUrl`). Under a mounted router `baseUrl` holds actual values, so
 * there is no template to give.
 */
export function untrackedExpressRoute(req: object): string | undefined {
  const { route, baseUrl } = req as { route?: { path?: unknown }; baseUrl?: unknown };
  if (baseUrl !== '' || route === undefined || route === null) return undefined;
  return pathTemplate(route.path);
}
