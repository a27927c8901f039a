/**
 * Fastify 5 publishes each new instance on the `fastify.initialization`
 * diagnostics channel. An `onRequest` hook added there, at the root, runs for
 * every request of every plugin scope and reads `request.routeOptions.url`:
 * the template Fastify matched, prefixes of `register(…, { prefix })`
 * included; undefined for the not-found handler.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { existingRequestState } from '../requestState';

type FastifyRequest = { raw: IncomingMessage; routeOptions?: { url?: unknown } };
type FastifyInstance = { addHook(name: 'onRequest', hook: (request: FastifyRequest, reply: unknown, done: () => void) => void): unknown };

function linkRoute(request: FastifyRequest, _reply: unknown, done: () => void): void {
  const state = existingRequestState(request.raw);
  if (state !== undefined) {
    // Read now, as a string: a reader kept for the span's end would hold the request object.
    const url = request.routeOptions?.url;
    state.route = typeof url === 'string' ? url : undefined;
  }
  done();
}

function onInitialization(message: unknown): void {
  (message as { fastify?: FastifyInstance }).fastify?.addHook('onRequest', linkRoute);
}

let subscribed = false;

/** Subscribes to Fastify's initialization channel (once). */
export function watchFastify(): void {
  if (subscribed) return;
  subscribed = true;
  diagnosticsChannel.subscribe('fastify.initialization', onInitialization);
}

/** Stops adding the hook to new Fastify instances. */
export function unwatchFastify(): void {
  if (!subscribed) return;
  subscribed = false;
  diagnosticsChannel.unsubscribe('fastify.initialization', onInitialization);
}
