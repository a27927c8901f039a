/**
 * A minimal OTLP/HTTP traces receiver for tests: a node http server on
 * 127.0.0.1:0 that keeps every request body raw (to prove no secret appears
 * anywhere in what was exported) and decodes OTLP/JSON spans.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One exported span, attributes flattened to plain values. */
export interface ReceivedSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  /** The parent's span id; '' for a root span. */
  parentSpanId: string;
  /** Name of the instrumentation scope (the tracer's name). */
  scope: string;
  statusCode: number;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  /** Span events (e.g. the `audit` mirror), attributes flattened. */
  events: { name: string; attributes: Record<string, unknown> }[];
}

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
}

function decodeValue(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(decodeValue);
  return undefined;
}

function decodeAttributes(list: { key: string; value: AnyValue }[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) out[key] = decodeValue(value);
  return out;
}

/** The receiver: start() it, point OTEL_EXPORTER_OTLP_TRACES_ENDPOINT at `url`, read `spans` and `raw`. */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly raw: Buffer[] = [];
  /** Content-Type of every export request. */
  readonly contentTypes: string[] = [];
  /** Path of every export request (/v1/traces, /v1/metrics). */
  readonly paths: string[] = [];
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        this.raw.push(body);
        this.paths.push(req.url ?? '');
        const type = String(req.headers['content-type']);
        this.contentTypes.push(type);
        if (type.includes('protobuf')) {
          // Kept raw only (protobuf strings are plain UTF-8, so secret searches still work); an empty body is a valid response.
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
          return;
        }
        try {
          this.decode(JSON.parse(body.toString('utf8')));
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } catch {
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/traces`;
    return this;
  }

  private decode(body: { resourceSpans?: unknown[] }): void {
    for (const rs of (body.resourceSpans ?? []) as { resource?: { attributes?: never }; scopeSpans?: { scope?: { name?: string }; spans?: never[] }[] }[]) {
      const resource = decodeAttributes(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of (ss.spans ?? []) as { name: string; kind: number; traceId: string; spanId: string; parentSpanId?: string; status?: { code?: number }; attributes?: never; events?: { name: string; attributes?: never }[] }[]) {
          this.spans.push({
            name: s.name, kind: s.kind, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', scope: ss.scope?.name ?? '', statusCode: s.status?.code ?? 0,
            attributes: decodeAttributes(s.attributes), resource,
            events: (s.events ?? []).map((e) => ({ name: e.name, attributes: decodeAttributes(e.attributes) })),
          });
        }
      }
    }
  }

  /** Every byte received, as one string, for "no secret anywhere" checks. */
  allBytes(): string {
    return Buffer.concat(this.raw).toString('utf8');
  }

  /** Server spans whose url.path is `path`. */
  serverSpans(path?: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.kind === 2 && (path === undefined || s.attributes['url.path'] === path));
  }

  /** Polls until `predicate` holds; throws with `what` after `timeoutMs`. */
  async waitFor(what: string, predicate: () => boolean, timeoutMs = 15000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${this.spans.length} spans`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  reset(): void {
    this.spans.length = 0;
    this.raw.length = 0;
    this.contentTypes.length = 0;
    this.paths.length = 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
