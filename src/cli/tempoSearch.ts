/**
 * One user's spans from Grafana Tempo, for `gdpr export --tempo-url`: a
 * TraceQL search by `user.id` over Tempo's HTTP search API
 * (`GET /api/search?q=…&start=…&end=…`), once per tenant (`X-Scope-OrgID`)
 * when Tempo runs multi-tenant. Only what the search returns is exported: the
 * matching spans with the attributes selected below.
 */

/** A span as exported. */
export interface ExportedSpan {
  /** Tempo tenant it was found in (null: single-tenant Tempo). */
  tenant: string | null;
  traceId: string;
  spanId: string;
  name: string | null;
  rootServiceName: string | null;
  startTime: string | null;
  durationNanos: number | null;
  attributes: Record<string, unknown>;
}

/** Options of `searchUserSpans()`. */
export interface TempoSearchOptions {
  /** Base URL of Tempo's HTTP API (e.g. http://tempo:3200). */
  url: string;
  userId: string;
  /** Tenants to search; empty: one search without X-Scope-OrgID. */
  tenants: readonly string[];
  /** Time range searched (Tempo searches only recent data without one). */
  since: Date;
  until: Date;
  /** Most traces per tenant (default 10000). */
  limit?: number;
  /** Per request (default 30 s). */
  timeoutMs?: number;
}

/** Attributes worth returning to the person: what the spans say about their activity. */
const SELECTED = ['span.activity.type', 'span.http.route', 'span.url.path', 'span.http.request.method',
  'span.http.response.status_code', 'span.client.address', 'span.user_agent.original', 'span.user.roles', 'span.session.id'];

/** The TraceQL query for one user's spans (the id quoted as a TraceQL string). */
export function userSpansQuery(userId: string): string {
  const quoted = `"${userId.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return `{ span.user.id = ${quoted} } | select(${SELECTED.join(', ')})`;
}

/** Every span Tempo's search finds for the user, per tenant; throws a clear Error when Tempo refuses or is unreachable. */
export async function searchUserSpans(options: TempoSearchOptions): Promise<ExportedSpan[]> {
  const tenants = options.tenants.length > 0 ? options.tenants : [null];
  const spans: ExportedSpan[] = [];
  for (const tenant of tenants) spans.push(...(await searchTenant(options, tenant)));
  return spans;
}

async function searchTenant(options: TempoSearchOptions, tenant: string | null): Promise<ExportedSpan[]> {
  const url = new URL('/api/search', options.url);
  url.searchParams.set('q', userSpansQuery(options.userId));
  url.searchParams.set('start', String(Math.floor(options.since.getTime() / 1000)));
  url.searchParams.set('end', String(Math.ceil(options.until.getTime() / 1000)));
  url.searchParams.set('limit', String(options.limit ?? 10_000));
  url.searchParams.set('spss', '1000'); // spans per span set: Tempo returns 3 by default
  const where = `Tempo at ${url.origin}${tenant ? ` (tenant ${tenant})` : ''}`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: 'application/json', ...(tenant ? { 'X-Scope-OrgID': tenant } : {}) },
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
  } catch (err) {
    throw new Error(`cannot reach ${where}: ${(err as Error).cause ? String((err as Error).cause) : (err as Error).message}`);
  }
  const body = await response.text();
  if (!response.ok) throw new Error(`${where} answered ${response.status}: ${body.slice(0, 300).trim()}`);
  let parsed: TempoSearchResponse;
  try {
    parsed = JSON.parse(body) as TempoSearchResponse;
  } catch {
    throw new Error(`${where} did not answer with JSON (is ${options.url} Tempo's HTTP API, port 3200?)`);
  }
  return spansOf(parsed, tenant);
}

interface TempoAttribute { key: string; value: Record<string, unknown> }
interface TempoSpan { spanID: string; name?: string; startTimeUnixNano?: string; durationNanos?: string; attributes?: TempoAttribute[] }
interface TempoSpanSet { spans?: TempoSpan[] }
interface TempoTrace { traceID: string; rootServiceName?: string; spanSet?: TempoSpanSet; spanSets?: TempoSpanSet[] }
interface TempoSearchResponse { traces?: TempoTrace[] }

/** The spans of a search response, each once (a span can sit in `spanSet` and in `spanSets`). */
function spansOf(response: TempoSearchResponse, tenant: string | null): ExportedSpan[] {
  const out: ExportedSpan[] = [];
  const seen = new Set<string>();
  for (const trace of response.traces ?? []) {
    const sets = [...(trace.spanSets ?? []), ...(trace.spanSet ? [trace.spanSet] : [])];
    for (const span of sets.flatMap((s) => s.spans ?? [])) {
      const key = `${trace.traceID}/${span.spanID}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({
        tenant,
        traceId: trace.traceID,
        spanId: span.spanID,
        name: span.name ?? null,
        rootServiceName: trace.rootServiceName ?? null,
        startTime: span.startTimeUnixNano ? new Date(Number(BigInt(span.startTimeUnixNano) / 1_000_000n)).toISOString() : null,
        durationNanos: span.durationNanos ? Number(span.durationNanos) : null,
        attributes: Object.fromEntries((span.attributes ?? []).map((a) => [a.key, attributeValue(a.value)])),
      });
    }
  }
  return out;
}

/** An OTLP AnyValue as plain JSON (`{ stringValue: "x" }` → "x"). */
function attributeValue(v: Record<string, unknown>): unknown {
  const [kind, value] = Object.entries(v ?? {})[0] ?? [];
  if (kind === 'intValue') return Number(value);
  if (kind === 'arrayValue') return ((value as { values?: Record<string, unknown>[] }).values ?? []).map(attributeValue);
  return value ?? null;
}
