/**
 * Koa 3 (and 2) with @koa/router: the router writes the matched layer's full
 * path (prefixes included) to `ctx._matchedRoute`. Koa creates that context
 * in `Application#createContext(req, res)`; wrapping it links the context to
 * the request, and the template is read when the span ends. No router, or no
 * route matched: `_matchedRoute` stays unset, and so does http.route.
 */
import type { IncomingMessage } from 'node:http';
import { existingRequestState } from '../requestState';

type KoaContext = { _matchedRoute?: unknown };
type CreateContext = (this: unknown, req: IncomingMessage, res: unknown) => KoaContext;
type KoaPrototype = { createContext?: CreateContext; [kPatched]?: true };

const kPatched = Symbol('cvd-activity.koa');

/** Patches `Application.prototype.createContext` of the Koa class `koa` once. */
export function patchKoa(koa: unknown): void {
  const proto = (koa as { prototype?: KoaPrototype } | null)?.prototype;
  const createContext = proto?.createContext;
  if (proto === undefined || proto[kPatched] || typeof createContext !== 'function') return;
  proto[kPatched] = true;
  proto.createContext = function linkedCreateContext(this: unknown, req: IncomingMessage, res: unknown): KoaContext {
    const ctx = createContext.call(this, req, res);
    const state = existingRequestState(req);
    if (state !== undefined) state.route = () => (typeof ctx._matchedRoute === 'string' ? ctx._matchedRoute : undefined);
    return ctx;
  };
}
