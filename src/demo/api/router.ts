/**
 * A router small enough to read in one go: method + path pattern (`:name`
 * segments) → handler, JSON bodies in and out. The demo uses plain node:http
 * so it shows cvd-activity on the lowest common denominator of Node servers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** One request as handlers see it. */
export interface Request {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Parsed JSON body, or the raw text for non-JSON bodies. */
  body: unknown;
  raw: IncomingMessage;
}

/** What a handler returns: a status and a JSON value, or a ready-made body with headers. */
export type Reply =
  | { status?: number; json: unknown; headers?: Record<string, string> }
  | { status?: number; body: string | Buffer; headers: Record<string, string> };

export type Handler = (req: Request) => Reply | Promise<Reply>;

/** An error a handler throws to answer with a status, an app error code and a message. */
export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

interface RouteEntry {
  method: string;
  pattern: string;
  segments: string[];
  handler: Handler;
}

const MAX_BODY_BYTES = 2 * 1024 * 1024;

export class Router {
  private readonly routes: RouteEntry[] = [];

  /** Adds a route; `pattern` segments starting with `:` capture a parameter. */
  on(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method, pattern, segments: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  /** Finds the handler for `method` + `path` (with the pattern it matched), or undefined. */
  match(method: string, path: string): { handler: Handler; pattern: string; params: Record<string, string> } | undefined {
    const parts = path.split('/').filter(Boolean);
    for (const route of this.routes) {
      if (route.method !== method || route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const ok = route.segments.every((seg, i) => {
        if (seg.startsWith(':')) return (params[seg.slice(1)] = decodeURIComponent(parts[i])), true;
        return seg === parts[i];
      });
      if (ok) return { handler: route.handler, pattern: route.pattern, params };
    }
    return undefined;
  }
}

/** Reads the body (bounded) and parses it as JSON when the content type says so. */
export async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'BODY_TOO_LARGE', `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  if (!String(req.headers['content-type'] ?? '').includes('json')) return text;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'INVALID_JSON', 'request body is not valid JSON');
  }
}

/** Writes a handler's reply. */
export function send(res: ServerResponse, reply: Reply): void {
  if ('json' in reply) {
    const body = JSON.stringify(reply.json);
    res.writeHead(reply.status ?? 200, { ...reply.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  } else {
    res.writeHead(reply.status ?? 200, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
    res.end(reply.body);
  }
}
