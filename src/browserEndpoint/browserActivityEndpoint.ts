/**
 * The endpoint `cvd-activity/browser` posts to, as a middleware the app mounts
 * on its own origin AFTER its authentication: the user is whoever the app
 * named with setUser() for this request, the client address is the one the
 * trustProxy rules give. Every batch is checked (size, rate per client,
 * schema, counts) before anything is kept; the answer (204 or a 4xx naming the
 * problem) goes out before the rows are written, and no failure of ours ever
 * reaches the app: internal errors are reported through diag and answered 503.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import { currentRequestContext } from '../audit/context';
import { pgEnvironmentConfigured } from '../config/database';
import { loadConfig } from '../config/loadConfig';
import type { CvdActivityConfig, TrustProxy } from '../config/types';
import { ClientAddress } from '../instrumentation/ClientAddress';
import { reportOnce } from '../instrumentation/reportOnce';
import { BrowserEventWriter } from '../store/BrowserEventWriter';
import type { BrowserWriterStats } from '../store/BrowserEventWriter';
import { RateLimiter } from './RateLimiter';
import type { RateLimiterOptions } from './RateLimiter';
import type { WireBatch } from '../browser/types';
import { toRows } from './toRows';
import { clientEnvironment } from './userAgent';
import { LIMITS, WIRE_SCHEMA } from './wireSchema';

/** Options of `browserActivityEndpoint()`; database settings default to the cvd-activity configuration. */
export interface BrowserEndpointOptions {
  /** postgres:// URL (default: the configured database). */
  databaseUrl?: string;
  /** Schema of the tables (default: the configured schema). */
  schema?: string;
  /** Largest body accepted (bytes, default 64 KiB). */
  maxBodyBytes?: number;
  /** Requests per client address. */
  rateLimit?: RateLimiterOptions;
  /** Days browser events are kept (default 90). */
  retentionDays?: number;
  /** Which proxies may name the client when cvd-activity's request context has no address (default: the configured trustProxy). */
  trustProxy?: TrustProxy;
}

/** Counters of one endpoint. */
export interface BrowserEndpointStats extends BrowserWriterStats {
  accepted: number;
  rejected: Record<string, number>;
}

/** The middleware: `(req, res)` for node:http, `(req, res, next)` for Express/Connect. */
export interface BrowserEndpoint {
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void;
  readonly stats: BrowserEndpointStats;
  /** Resolves when everything accepted so far is stored. */
  flush(): Promise<void>;
  /** Flushes and releases the database connections. */
  close(): Promise<void>;
}

/** A refusal: HTTP status, a stable code, a message naming what is wrong. */
class Refusal {
  constructor(readonly status: number, readonly code: string, readonly message: string) {}
}

const ajv = new Ajv({ allErrors: false, strict: true, discriminator: true });
const validateBatch = ajv.compile<WireBatch>(WIRE_SCHEMA);

function describe(error: ErrorObject | undefined): string {
  if (!error) return 'does not match the wire format';
  const where = error.instancePath || '(the body)';
  const extra = error.keyword === 'additionalProperties' ? ` (${(error.params as { additionalProperty: string }).additionalProperty})` : '';
  return `${where} ${error.message ?? 'is invalid'}${extra}`;
}

async function readBody(req: IncomingMessage, max: number): Promise<string> {
  // Body parsers mounted before us (express.json / express.text) leave it parsed.
  const parsed = (req as { body?: unknown }).body;
  const text = typeof parsed === 'string' ? parsed
    : parsed !== undefined && parsed !== null && typeof parsed === 'object' && !Buffer.isBuffer(parsed) ? JSON.stringify(parsed) : undefined;
  if (text !== undefined) {
    if (Buffer.byteLength(text) > max) throw new Refusal(413, 'BODY_TOO_LARGE', `body over ${max} bytes`);
    return text;
  }
  if (Number(req.headers['content-length'] ?? 0) > max) throw new Refusal(413, 'BODY_TOO_LARGE', `body over ${max} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new Refusal(413, 'BODY_TOO_LARGE', `body over ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBatch(text: string): WireBatch {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Refusal(400, 'INVALID_JSON', 'body is not valid JSON');
  }
  if (!validateBatch(body)) throw new Refusal(400, 'INVALID_BATCH', describe(validateBatch.errors?.[0]));
  const events = body.pages.reduce((n, p) => n + p.events.length, 0);
  if (events > LIMITS.events) throw new Refusal(413, 'TOO_MANY_EVENTS', `${events} events in one batch; at most ${LIMITS.events}`);
  return body;
}

function reply(res: ServerResponse, status: number, body?: { error: string; message: string }, close = false, retryLater = false): void {
  if (res.headersSent) return;
  const text = body ? JSON.stringify(body) : '';
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    // After refusing a body we did not read to its end, the connection cannot carry another request.
    ...(close ? { connection: 'close' } : {}),
    ...(retryLater ? { 'retry-after': '60' } : {}),
  });
  res.end(text);
}

function createWriter(options: BrowserEndpointOptions, config: CvdActivityConfig | null): BrowserEventWriter {
  const onError = (err: Error): void => reportOnce(`browser-writer:${err.message}`, 'browser events not stored', err);
  if (options.databaseUrl !== undefined) {
    return new BrowserEventWriter({ connectionString: options.databaseUrl, schema: options.schema, retentionDays: options.retentionDays, onError });
  }
  if (!config) throw new Error('the cvd-activity configuration is invalid and no databaseUrl was given');
  if (config.database.url === null && !pgEnvironmentConfigured()) {
    throw new Error('no database is configured (CVD_ACTIVITY_DATABASE_URL, DATABASE_URL or PG*)');
  }
  return new BrowserEventWriter({
    connectionString: config.database.url ?? undefined,
    schema: options.schema ?? config.database.schema,
    autoMigrate: config.database.autoMigrate,
    retentionDays: options.retentionDays,
    onError,
  });
}

/** The cvd-activity configuration, or null (reported once) when it is invalid. */
function configuration(): CvdActivityConfig | null {
  try {
    return loadConfig();
  } catch (err) {
    reportOnce('browser-endpoint-config', 'the browser activity endpoint cannot read the configuration', err);
    return null;
  }
}

/** Builds the endpoint. Never throws: a configuration it cannot use makes it answer 503 and report once through diag. */
export function browserActivityEndpoint(options: BrowserEndpointOptions = {}): BrowserEndpoint {
  const maxBody = options.maxBodyBytes ?? 64 * 1024;
  const limiter = new RateLimiter(options.rateLimit);
  const config = configuration();
  const clientAddress = new ClientAddress(options.trustProxy ?? config?.trustProxy ?? false, config?.proxyHeader);
  let writer: BrowserEventWriter | null = null;
  try {
    writer = createWriter(options, config);
  } catch (err) {
    reportOnce('browser-endpoint-writer', 'the browser activity endpoint cannot store anything; it answers 503', err);
  }
  const counters = { accepted: 0, rejected: {} as Record<string, number> };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const received = new Date();
    const ctx = currentRequestContext();
    // Resolved by the instrumentation under trustProxy when cvd-activity is started; else by the same rules here.
    const address = ctx?.clientAddress ?? clientAddress.resolve(req);
    if (req.method !== 'POST') throw new Refusal(405, 'METHOD_NOT_ALLOWED', 'send browser events with POST');
    if (!limiter.allow(address ?? 'unknown')) throw new Refusal(429, 'RATE_LIMITED', 'too many batches from this client');
    if (!writer) throw new Refusal(503, 'UNAVAILABLE', 'browser activity is not being stored');
    const batch = parseBatch(await readBody(req, maxBody));
    const rows = toRows(batch, {
      userId: ctx?.user?.id ?? null,
      sessionId: ctx?.user?.sessionId ?? null,
      clientAddress: address,
      environment: clientEnvironment(ctx?.userAgent ?? req.headers['user-agent']),
    }, received);
    // The database is behind: say so (503) rather than take events that would be dropped.
    if (!writer.enqueue(rows)) throw new Refusal(503, 'BUSY', 'browser events are not being taken now; try later');
    counters.accepted += rows.length;
    reply(res, 204);
  }

  const endpoint = ((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof Refusal) {
        counters.rejected[err.code] = (counters.rejected[err.code] ?? 0) + 1;
        return reply(res, err.status, { error: err.code, message: err.message }, err.status === 413, err.status === 429 || err.status === 503);
      }
      reportOnce(`browser-endpoint:${(err as Error)?.message}`, 'browser activity endpoint failed', err);
      reply(res, 503, { error: 'UNAVAILABLE', message: 'browser events could not be taken' });
    });
  }) as BrowserEndpoint;
  Object.defineProperty(endpoint, 'stats', { get: (): BrowserEndpointStats => ({ ...counters, ...(writer?.stats ?? { written: 0, droppedQueueFull: 0, droppedWriteFailed: 0 }) }) });
  endpoint.flush = () => writer?.flush() ?? Promise.resolve();
  endpoint.close = () => writer?.close() ?? Promise.resolve();
  return endpoint;
}
