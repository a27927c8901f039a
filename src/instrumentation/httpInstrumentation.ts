/**
 * instrumentation-http configured with our hooks. Everything per request is
 * O(1) on precomputed structures: the noise decision and client address are
 * computed once per request into its RequestState.
 */
import type { Attributes, Span } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import type { IncomingMessage } from 'node:http';
import { ATTR } from './attributes';
import type { ActivitySpanProcessor } from './ActivitySpanProcessor';
import type { QueryRedactor } from './QueryRedactor';
import { existingRequestState, requestState } from './requestState';
import { reportOnce } from './reportOnce';

/** What the hooks need. */
export interface HttpHooksOptions {
  redactor: QueryRedactor;
  processor: ActivitySpanProcessor;
  /** Whether a proxy may name the client; only then does network.peer.address (the proxy) differ from client.address. */
  trustsProxies: boolean;
}

/** An HttpInstrumentation whose hooks apply noise rules, client address, query redaction and enrichment. */
export function createHttpInstrumentation({ redactor, processor, trustsProxies }: HttpHooksOptions): HttpInstrumentation {
  // Trusting no proxy, the socket peer IS client.address: do not send it twice.
  const peerAddress = trustsProxies ? (req: IncomingMessage) => req.socket.remoteAddress : () => undefined;
  return new HttpInstrumentation({
    // Server spans start only for requests that are not noise; dropped requests
    // still get their request context from the emit patch (requestState.ts).
    ignoreIncomingRequestHook(req: IncomingMessage): boolean {
      try {
        return requestState(req)?.decision === 'drop';
      } catch (err) {
        reportOnce('ignore-hook', 'noise classification failed; the request is recorded', err);
        return false;
      }
    },
    startIncomingSpanHook(req: IncomingMessage): Attributes {
      try {
        const state = requestState(req);
        if (state === undefined) return {};
        // Overrides what instrumentation-http derived: it believes X-Forwarded-For
        // unconditionally and redacts only a short list of exact parameter names.
        // The undefined keys drop attributes that say nothing about the activity
        // (the client's ephemeral port, the HTTP version, the server's own port)
        // but cost CPU on every span: recorded, batched, serialized and sent.
        const attributes: Attributes = {
          [ATTR.clientAddress]: state.ctx.clientAddress ?? undefined,
          'network.peer.address': peerAddress(req),
          'network.peer.port': undefined,
          'network.protocol.version': undefined,
          'server.port': undefined,
          // For NoiseSampler, on this span's own attributes (never a value left for "the next span").
          [ATTR.noise]: state.decision === 'sample' ? 'sampled' : undefined,
        };
        if (state.query !== null) attributes[ATTR.urlQuery] = redactor.redactQuery(state.query);
        return attributes;
      } catch (err) {
        reportOnce('start-span-hook', 'request attributes failed', err);
        return {};
      }
    },
    requestHook(span: Span, request: unknown): void {
      // Server requests carry a state; outgoing ClientRequests do not.
      if (!span.isRecording()) return;
      const state = existingRequestState(request as object);
      if (state !== undefined) processor.attach(span, state);
    },
    // Our own list is applied in startIncomingSpanHook; skip the second pass.
    redactedQueryParamsServer: [],
    // Client spans: let our processor redact url.full with the configured list.
    requireParentforOutgoingSpans: true,
    headersToSpanAttributes: { client: { requestHeaders: [], responseHeaders: [] }, server: { requestHeaders: [], responseHeaders: [] } },
  });
}
