/**
 * Per-request state, kept on the request object itself (a symbol property) so
 * that every hook — ours and instrumentation-http's, whichever order they were
 * installed in — finds the same one without a lookup table.
 *
 * Two process-wide patches feed it, installed once by `installRequestPatches`:
 *  - http(s).Server#emit('request'): opens the request context (audit/context)
 *    for EVERY request, including dropped and sampled-out ones, so audit events
 *    always see the actor and client address;
 *  - ServerResponse#write/#end: counts the body bytes actually written
 *    (chunked or not), which instrumentation-http does not record.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { newRequestContext, runWithRequestContext } from '../audit/context';
import type { RequestContext } from '../audit/context';
import type { ClientAddress } from './ClientAddress';
import type { NoiseDecision } from './NoiseRule';
import type { NoiseRules } from './NoiseRules';
import { reportOnce } from './reportOnce';
import { activityCounters } from './stats';

/** What we know about one incoming request. */
export interface RequestState {
  ctx: RequestContext;
  req: IncomingMessage;
  res: ServerResponse | null;
  /** Path without the query string. */
  path: string;
  /** Raw query string without `?`, or null. */
  query: string | null;
  decision: NoiseDecision;
  /** Body bytes passed to write()/end(). */
  bodyBytes: number;
  /** Content-Type / Content-Disposition passed straight to writeHead(), which getHeader() cannot see. */
  contentType: string | null;
  contentDisposition: string | null;
  /**
   * The route template the framework matched (routes/), always a string copied
   * from the framework: holding its request objects until the span ends costs
   * far more than the copy. Undefined or '': none known, and http.route stays unset.
   */
  route: string | undefined;
  /** Express: the path templates of the routers this request is inside, outermost first. */
  mounts: string[] | null;
}

const kState = Symbol('cvd-activity.request');
type Carrier = { [kState]?: RequestState };

/** What the patches need, set by the active start(); null means the patches pass through. */
interface Wiring {
  clientAddress: ClientAddress;
  noise: NoiseRules;
}
let wiring: Wiring | null = null;

/** The request's state, created on first use by whichever hook sees the request first. */
export function requestState(req: IncomingMessage): RequestState | undefined {
  const carrier = req as IncomingMessage & Carrier;
  const existing = carrier[kState];
  if (existing !== undefined || wiring === null) return existing;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const ua = req.headers['user-agent'];
  const state: RequestState = {
    ctx: newRequestContext(wiring.clientAddress.resolve(req), ua ?? null),
    req,
    res: null,
    path,
    query: q < 0 ? null : url.slice(q + 1),
    decision: wiring.noise.classify(req.method ?? 'GET', path, req.headers),
    bodyBytes: 0,
    contentType: null,
    contentDisposition: null,
    route: undefined,
    mounts: null,
  };
  carrier[kState] = state;
  activityCounters.requests++;
  if (state.decision === 'drop') activityCounters.spansDropped++;
  return state;
}

/** The state of a request if one was created; never creates one (safe on ClientRequests). */
export function existingRequestState(req: object): RequestState | undefined {
  return (req as Carrier)[kState];
}

/** The state of the request a response answers, if we saw it. */
export function responseState(res: ServerResponse): RequestState | undefined {
  return (res as ServerResponse & Carrier)[kState];
}

function chunkBytes(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}

type Emit = (this: http.Server, event: string | symbol, ...args: unknown[]) => boolean;

/** Whether a request body will arrive (possibly after the handler returned). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * Body chunks are emitted by the HTTP parser, outside the handler's async
 * context, so 'data'/'end' listeners (body parsers, and every handler that runs
 * after them) would see no request context. Running the request's emit inside
 * the context fixes that for every listener, at one closure per request.
 */
function bindEmitter(req: IncomingMessage, ctx: RequestContext): void {
  const emit = req.emit;
  req.emit = function boundEmit(this: IncomingMessage): boolean {
    // eslint-disable-next-line prefer-rest-params
    const args = arguments as unknown as Parameters<typeof emit>;
    return runWithRequestContext(ctx, () => emit.apply(this, args));
  } as typeof req.emit;
}

function wrapEmit(original: Emit): Emit {
  // `arguments` is forwarded as is: emit runs for every event of every server,
  // so the common path allocates nothing.
  return function emit(this: http.Server, event: string | symbol, req?: unknown, res?: unknown): boolean {
    // eslint-disable-next-line prefer-rest-params
    const args = arguments as unknown as unknown[];
    if (event !== 'request' || wiring === null) return original.apply(this, args as never);
    let state: RequestState | undefined;
    try {
      state = requestState(req as IncomingMessage);
      if (state !== undefined) {
        state.res = res as ServerResponse;
        (res as ServerResponse & Carrier)[kState] = state;
        if (hasBody(req as IncomingMessage)) bindEmitter(req as IncomingMessage, state.ctx);
      }
    } catch (err) {
      reportOnce('request-state', 'could not open the request context', err);
    }
    if (state === undefined) return original.apply(this, args as never);
    return runWithRequestContext(state.ctx, () => original.apply(this, args as never));
  };
}

/** Keeps Content-Type / Content-Disposition when `name` is one of them. */
function takeHeader(state: RequestState, name: unknown, value: unknown): void {
  if (typeof name !== 'string' || name.length < 12) return;
  const lower = name.toLowerCase();
  if (lower === 'content-type') state.contentType = String(value);
  else if (lower === 'content-disposition') state.contentDisposition = String(value);
}

/** Keeps the two headers activity.type needs from writeHead(status, [reason], headers); allocates nothing. */
function captureHeaders(state: RequestState, headers: unknown): void {
  if (Array.isArray(headers)) {
    // Either [[name, value], …] or the flat [name, value, name, value, …].
    if (Array.isArray(headers[0])) for (const pair of headers as unknown[][]) takeHeader(state, pair[0], pair[1]);
    else for (let i = 0; i + 1 < headers.length; i += 2) takeHeader(state, headers[i], headers[i + 1]);
  } else if (headers !== null && typeof headers === 'object') {
    for (const name in headers) takeHeader(state, name, (headers as Record<string, unknown>)[name]);
  }
}

let installed = false;

/** Installs the emit and write/end patches once per process; later calls only swap the wiring. */
export function installRequestPatches(next: Wiring | null): void {
  wiring = next;
  if (installed || next === null) return;
  installed = true;
  for (const Server of [http.Server, https.Server]) {
    const proto = Server.prototype as unknown as { emit: Emit };
    proto.emit = wrapEmit(proto.emit);
  }
  const proto = http.ServerResponse.prototype as unknown as Record<'write' | 'end', (...args: unknown[]) => unknown>;
  const write = proto.write;
  const end = proto.end;
  const writeHead = (http.ServerResponse.prototype as unknown as Record<'writeHead', (...args: unknown[]) => unknown>).writeHead;
  (http.ServerResponse.prototype as unknown as Record<'writeHead', unknown>).writeHead = function capturedWriteHead(
    this: ServerResponse & Carrier, _status: unknown, reason?: unknown, headers?: unknown,
  ) {
    const state = this[kState];
    if (state !== undefined) captureHeaders(state, typeof reason === 'string' ? headers : reason);
    // eslint-disable-next-line prefer-rest-params
    return writeHead.apply(this, arguments as unknown as unknown[]);
  };
  // `arguments` is passed through untouched so node sees exactly the caller's call shape.
  proto.write = function countedWrite(this: ServerResponse & Carrier, chunk: unknown, encoding?: unknown) {
    const state = this[kState];
    if (state !== undefined) state.bodyBytes += chunkBytes(chunk, encoding);
    // eslint-disable-next-line prefer-rest-params
    return write.apply(this, arguments as unknown as unknown[]);
  };
  proto.end = function countedEnd(this: ServerResponse & Carrier, chunk?: unknown, encoding?: unknown) {
    const state = this[kState];
    // end(cb) has no body; end() after end is a no-op in node and sends nothing.
    if (state !== undefined && typeof chunk !== 'function' && !this.writableEnded) state.bodyBytes += chunkBytes(chunk, encoding);
    // eslint-disable-next-line prefer-rest-params
    return end.apply(this, arguments as unknown as unknown[]);
  };
}
