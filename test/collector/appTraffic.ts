/**
 * Drives the real instrumented app (fixtures/api-app.js, run under
 * `--require dist/register.js`) with a mix of requests and records, per
 * request, the trace it made (from the `x-trace-id` answer header), whether it
 * was recorded, how many spans it must have, and the round trip seen by the
 * client. The app's spans are the ones the instrumentation produced; nothing
 * here creates a span.
 */

/** Kinds of request the sampling policies and noise rules tell apart. */
export type AppRequestKind = 'audit' | 'error' | 'slow' | 'denied' | 'routine' | 'noise' | 'polling';

/** One request sent and what came back. */
export interface SentRequest {
  kind: AppRequestKind;
  method: string;
  path: string;
  status: number;
  /** Trace id of the request's server span; '' when no span was started (noise). */
  traceId: string;
  /** Whether the server span was recorded (false: dropped or sampled out). */
  recorded: boolean;
  /** Spans the trace must hold when kept whole: server [+ client + downstream server]. */
  spans: number;
  /** Outgoing calls the request made (each a CLIENT span and a downstream SERVER span). */
  outgoing: number;
  /** Client-side round trip (ms): an upper bound of the server span's duration. */
  roundTripMs: number;
}

/** Secrets sent with the requests; none may reach the backend. */
export const APP_SECRETS = {
  bearer: 'Bearer SECRET-BEARER-e2e-41d9',
  queryToken: 'SECRET-QUERY-TOKEN-e2e-77aa',
  email: 'alice.secret@example.com',
};

interface Planned { kind: AppRequestKind; method: string; path: string; headers: Record<string, string>; spans: number; outgoing: number }

const SECRET_HEADERS = { authorization: APP_SECRETS.bearer, 'x-user': APP_SECRETS.email };

function plan(kind: AppRequestKind, i: number): Planned {
  switch (kind) {
    case 'audit':
      return { kind, method: 'PUT', path: `/api/prices/${i}?access_token=${APP_SECRETS.queryToken}`, headers: SECRET_HEADERS, spans: 3, outgoing: 1 };
    case 'error':
      return { kind, method: 'GET', path: `/api/orders/${i}`, headers: i % 2 === 0 ? SECRET_HEADERS : {}, spans: 3, outgoing: 1 };
    case 'slow':
      return { kind, method: 'GET', path: '/api/reports', headers: {}, spans: 1, outgoing: 0 };
    case 'denied':
      return i % 2 === 0
        ? { kind, method: 'POST', path: '/api/login', headers: SECRET_HEADERS, spans: 1, outgoing: 0 }
        : { kind, method: 'GET', path: '/api/admin/users', headers: SECRET_HEADERS, spans: 1, outgoing: 0 };
    case 'routine': {
      const call = i % 3 === 0;
      const token = i % 5 === 0 ? `&access_token=${APP_SECRETS.queryToken}` : '';
      return { kind, method: 'GET', path: `/api/orders?page=${i}${call ? '&call=1' : ''}${token}`, headers: i % 4 === 0 ? SECRET_HEADERS : {}, spans: call ? 3 : 1, outgoing: call ? 1 : 0 };
    }
    case 'noise':
      return { kind, method: 'GET', path: ['/health', '/static/app.css', '/favicon.ico', '/assets/logo.png'][i % 4]!, headers: {}, spans: 0, outgoing: 0 };
    case 'polling':
      return { kind, method: 'GET', path: '/api/admin/activity/alerts', headers: {}, spans: 1, outgoing: 0 };
  }
}

async function send(base: string, p: Planned): Promise<SentRequest> {
  const started = performance.now();
  const res = await fetch(`${base}${p.path}`, { method: p.method, headers: p.headers });
  await res.arrayBuffer();
  const roundTripMs = performance.now() - started;
  const recorded = res.headers.get('x-recorded') === '1';
  return {
    kind: p.kind, method: p.method, path: p.path, status: res.status, traceId: res.headers.get('x-trace-id') ?? '',
    recorded, spans: p.spans, outgoing: recorded ? p.outgoing : 0, roundTripMs,
  };
}

/** Sends `counts` requests of each kind, interleaved, `concurrency` at a time. */
export async function driveApp(base: string, counts: Record<AppRequestKind, number>, concurrency = 8): Promise<SentRequest[]> {
  const queue: Planned[] = [];
  for (const kind of Object.keys(counts) as AppRequestKind[]) {
    for (let i = 0; i < counts[kind]; i++) queue.push(plan(kind, i));
  }
  // Spread the important requests among the routine ones (deterministic order).
  queue.sort((a, b) => (hash(a.kind + a.path) % 1009) - (hash(b.kind + b.path) % 1009));
  const sent: SentRequest[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < queue.length) sent.push(await send(base, queue[next++]!));
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return sent;
}

function hash(text: string): number {
  let h = 7;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) >>> 0;
  return h;
}
