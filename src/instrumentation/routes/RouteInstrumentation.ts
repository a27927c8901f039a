/**
 * http.route for Express 4/5 (and NestJS on it), Fastify 5, Koa + @koa/router
 * and Hono, with no code in the app. Each framework's template is taken from
 * its own public signals: Fastify's `fastify.initialization` channel and
 * `request.routeOptions.url`, @koa/router's `ctx._matchedRoute`, Hono's
 * matched routes on `c.req`, Express's router layers (see each file).
 *
 * Why our own extraction rather than the maintained instrumentations
 * (@opentelemetry/instrumentation-express / -koa, @fastify/otel, @hono/otel):
 *  - cost: the Express and Koa instrumentations create a span per middleware
 *    and router layer, and even with those turned off (`ignoreLayersType`)
 *    they wrap every layer and run their bookkeeping per layer per request;
 *    here a request pays one small closure per mounted Express router it
 *    enters, or one string copy when the framework matches a route.
 *    bench/overhead/frameworks.mjs measures it per framework against the
 *    same register with extraction off (bench/RESULTS.md);
 *  - no code in the app: @hono/otel is a middleware the app must add and
 *    @fastify/otel a plugin it must register;
 *  - one version line: those packages follow their own release trains and
 *    SDK ranges; this file needs only @opentelemetry/instrumentation's module
 *    hooks, which the SDK line we pin already brings.
 * Templates are never guessed from the URL: no known template, no http.route.
 */
import { InstrumentationBase, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import { patchExpress } from './expressRoutes';
import { unwatchFastify, watchFastify } from './fastifyRoutes';
import { patchHono } from './honoRoutes';
import { patchKoa } from './koaRoutes';

/** The CommonJS exports behind `exports`: under import-in-the-middle, a CommonJS module's namespace holds them as `default`. */
function commonJs(exports: unknown, has: (candidate: unknown) => boolean): unknown {
  return has(exports) ? exports : (exports as { default?: unknown } | null)?.default;
}

const hasRouter = (e: unknown): boolean => typeof (e as { Router?: unknown } | null)?.Router === 'function';
const hasCreateContext = (e: unknown): boolean =>
  typeof (e as { prototype?: { createContext?: unknown } } | null)?.prototype?.createContext === 'function';

/** Adds route templates to the request state; creates no spans. */
export class RouteInstrumentation extends InstrumentationBase<InstrumentationConfig> {
  constructor() {
    super('cvd-activity-routes', '1.0.0', {});
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    // No unpatch: the patches read the request state and pass through when there is none.
    return [
      new InstrumentationNodeModuleDefinition('express', ['>=4.0.0 <6'], (exports: unknown) => {
        patchExpress(commonJs(exports, hasRouter));
        return exports;
      }),
      new InstrumentationNodeModuleDefinition('koa', ['>=2.0.0 <4'], (exports: unknown) => {
        patchKoa(commonJs(exports, hasCreateContext));
        return exports;
      }),
      new InstrumentationNodeModuleDefinition('hono', ['>=4.0.0 <5'], (exports: unknown) => {
        patchHono(exports);
        return exports;
      }),
    ];
  }

  override enable(): void {
    super.enable();
    watchFastify();
  }

  override disable(): void {
    super.disable();
    unwatchFastify();
  }
}
