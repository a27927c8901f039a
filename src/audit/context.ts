/**
 * The request context: who is acting and from where, for the duration of one
 * incoming request. instrumentation/ opens it when a request arrives (also for
 * requests that get no span); the app fills in the user with `setUser()`;
 * `audit.record()` reads it. It is independent of OpenTelemetry's context so
 * audit events keep their actor even when tracing is off, dropped or sampled out.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** The user an auth middleware identified. */
export interface UserInfo {
  id: string;
  roles?: string[];
  sessionId?: string;
}

/** What kind of activity a request is, beyond a plain API call. */
export type ActivityType = 'api_call' | 'page_view' | 'file_download' | 'login' | 'logout';

/** Mutable state of one incoming request. */
export interface RequestContext {
  user: UserInfo | null;
  /** Client address after the trusted-proxy rules. */
  clientAddress: string | null;
  userAgent: string | null;
  /** The app's own error code (`setErrorCode`), exported as `error.type`. */
  errorCode: string | null;
  /** Set by `markActivity('login' | 'logout')`; otherwise derived from the response. */
  activityType: ActivityType | null;
  /** The route template the app matched (`setRoute`), exported as `http.route`. */
  route: string | null;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** A fresh context for a request from `clientAddress` with `userAgent`. */
export function newRequestContext(clientAddress: string | null, userAgent: string | null): RequestContext {
  return { user: null, clientAddress, userAgent, errorCode: null, activityType: null, route: null };
}

/** Runs `fn` (a request's handling) with `ctx` as the current request context. */
export function runWithRequestContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** The context of the request being handled, if any. */
export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

/** Names the user of the current request; audit events and the request's span carry it. No-op outside a request. */
export function setUser(user: UserInfo): void {
  const ctx = storage.getStore();
  if (ctx) ctx.user = { ...user, roles: user.roles ? [...user.roles] : undefined };
}

/** Sets the app's own error code for the current request (exported as `error.type`). */
export function setErrorCode(code: string): void {
  const ctx = storage.getStore();
  if (ctx) ctx.errorCode = String(code);
}

/**
 * Names the route template the current request matched (`/api/devices/:id`),
 * for apps whose router leaves none on the request (plain node:http, a router
 * of their own): the span gets `http.route` and is named `GET /api/devices/:id`,
 * so dashboards group requests by route, not by every id. A template, never the
 * raw path. Not a string or empty: ignored. No-op outside a request.
 */
export function setRoute(template: string): void {
  const ctx = storage.getStore();
  if (ctx && typeof template === 'string' && template.length > 0) ctx.route = template;
}

/** Marks the current request as a login or logout (its span's `activity.type`). */
export function markActivity(type: 'login' | 'logout'): void {
  const ctx = storage.getStore();
  if (ctx) ctx.activityType = type;
}
