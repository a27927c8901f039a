/**
 * Koa 3 (and 2) with @koa/router: the router writes the matched layer's full
 * path (prefixes included) to `ctx._matchedRoute`. Every context inherits
 * from its app's `app.context`; an accessor defined there (once per app, when
 * the app creates its first context) sees that assignment and copies the
 * template, a string, onto the request's state. Nothing holds the context
 * itself: keeping a reference to it for the span's end cost ~20 µs per
 * request in bench/overhead/frameworks.mjs. No route matched: no assignment,
 * no http.route.
 */
import type { IncomingMessage } from 'node:http';
import { existingRequestState } from '../requestState';

type KoaApp = { context?: object };
type CreateContext = (this: KoaApp, req: IncomingMessage, res: unknown) => unknown;
type KoaPrototype = { createContext?: CreateContext; [kPatched]?: true };

const kPatched = Symbol('cvd-activity.koa');
const kMatched = Symbol('cvd-activity.koa-matched-route');
const kWatched = Symbol('cvd-activity.koa-context-watched');

/** `_matchedRoute` on every context of this app: stored as before, and copied to the request state. */
function watchMatchedRoute(context: object & { [kWatched]?: true }): void {
  if (context[kWatched] || Object.getOwnPropertyDescriptor(context, '_matchedRoute') !== undefined) return;
  context[kWatched] = true;
  Object.defineProperty(context, '_matchedRoute', {
    configurable: true,
    get(this: { [kMatched]?: unknown }) {
      return this[kMatched];
    },
    set(this: { [kMatched]?: unknown; req?: IncomingMessage }, template: unknown) {
      this[kMatched] = template;
      const state = this.req === undefined ? undefined : existingRequestState(this.req);
      if (state !== undefined && typeof template === 'string') state.route = template;
    },
  });
}

/** Patches `Application.prototype.createContext` of the Koa class `koa` once. */
export function patchKoa(koa: unknown): void {
  const proto = (koa as { prototype?: KoaPrototype } | null)?.prototype;
  const createContext = proto?.createContext;
  if (proto === undefined || proto[kPatched] || typeof createContext !== 'function') return;
  proto[kPatched] = true;
  proto.createContext = function watchedCreateContext(this: KoaApp, req: IncomingMessage, res: unknown): unknown {
    if (this.context !== undefined) watchMatchedRoute(this.context);
    return createContext.call(this, req, res);
  };
}
