/**
 * Trace retention by tenant: the real Collector running
 * collector-config/otelcol.yaml sends each kept trace, whole, to one Tempo
 * tenant by its activity.type (X-Scope-OrgID user-activity for page views,
 * logins, logouts and downloads, api-calls for the rest). Tempo is stood in
 * for by a small HTTP/2 server speaking just enough gRPC to accept OTLP
 * exports and record each call's tenant header and payload.
 */
import { once } from 'node:events';
import { createServer } from 'node:http2';
import type { Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { freePort, pollUntil, repoRoot, requireCollector, startCollector } from '../support/collector';
import type { RunningCollector } from '../support/collector';

interface ExportCall { tenant: string | undefined; payload: Buffer }

/** Accepts `TraceService/Export` calls (gRPC over h2c), records them, answers OK with an empty response. */
async function fakeTempoGrpc(): Promise<{ server: Http2Server; endpoint: string; calls: ExportCall[] }> {
  const calls: ExportCall[] = [];
  const server = createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      // One length-prefixed gRPC message: flag (1 = compressed with grpc-encoding), length, bytes.
      const message = body.subarray(5, 5 + body.readUInt32BE(1));
      calls.push({ tenant: headers['x-scope-orgid'] as string | undefined, payload: body[0] === 1 ? gunzipSync(message) : message });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.alloc(5)); // an empty ExportTraceServiceResponse
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, endpoint: `127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

/** Span names by activity type: each a trace of its own; the api call and the page view have an untyped child. */
const TRACES: Array<{ activity: string; spans: string[] }> = [
  { activity: 'api_call', spans: ['span-api-root', 'span-api-child'] },
  { activity: 'page_view', spans: ['span-page-root', 'span-page-child'] },
  { activity: 'login', spans: ['span-login'] },
  { activity: 'logout', spans: ['span-logout'] },
  { activity: 'file_download', spans: ['span-download'] },
];

function otlpJson(): unknown {
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans = TRACES.flatMap((t, i) => {
    const traceId = `${String(i + 1).padStart(2, '0')}${'ab'.repeat(15)}`;
    return t.spans.map((name, j) => ({
      traceId,
      spanId: `${String(i + 1).padStart(2, '0')}${String(j).padStart(2, '0')}${'cd'.repeat(6)}`,
      ...(j > 0 ? { parentSpanId: `${String(i + 1).padStart(2, '0')}00${'cd'.repeat(6)}` } : {}),
      name,
      kind: j === 0 ? 2 : 3,
      startTimeUnixNano: String(now),
      endTimeUnixNano: String(now + 5_000_000n),
      attributes: j === 0 ? [{ key: 'activity.type', value: { stringValue: t.activity } }] : [],
    }));
  });
  return { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'tenant-test' } }] }, scopeSpans: [{ scope: { name: 'test' }, spans }] }] };
}

describe('trace retention tenants (otelcol.yaml, real Collector)', function () {
  this.timeout(120_000);
  let collector: RunningCollector | undefined;
  let tempo: Awaited<ReturnType<typeof fakeTempoGrpc>>;

  before(async function () {
    const bin = requireCollector(this);
    tempo = await fakeTempoGrpc();
    const otlpHttp = `127.0.0.1:${await freePort()}`;
    collector = await startCollector({
      bin, name: 'collector', config: join(repoRoot, 'collector-config/otelcol.yaml'),
      env: {
        OTLP_GRPC_ENDPOINT: `127.0.0.1:${await freePort()}`,
        OTLP_HTTP_ENDPOINT: otlpHttp,
        TEMPO_ENDPOINT: tempo.endpoint,
        SPAN_METRICS_PROMETHEUS_ENDPOINT: `127.0.0.1:${await freePort()}`,
        TAIL_SAMPLING_DECISION_WAIT: '1s',
        TAIL_SAMPLING_ROUTINE_PERCENTAGE: '100', // keep every trace: this test is about where they go
        TENANT_DECISION_WAIT: '1s',
      },
    });
    const res = await fetch(`http://${otlpHttp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(otlpJson()) });
    expect(res.status, await res.text()).to.equal(200);
  });

  after(async () => {
    await collector?.stop();
    tempo?.server.close();
  });

  it('sends page views, logins, logouts and downloads to user-activity and API calls to api-calls, each trace whole', async () => {
    const all = TRACES.flatMap((t) => t.spans);
    const tenantsOf = (name: string) => [...new Set(tempo.calls.filter((c) => c.payload.includes(name)).map((c) => c.tenant))];
    await pollUntil('every span at the Tempo stand-in', () => (all.every((n) => tenantsOf(n).length > 0) ? true : undefined), 60_000);
    const byTenant: Record<string, string[]> = {};
    for (const name of all) {
      const tenants = tenantsOf(name);
      expect(tenants, `${name} went to exactly one tenant`).to.have.length(1);
      (byTenant[String(tenants[0])] ??= []).push(name);
    }
    expect(byTenant).to.deep.equal({
      'api-calls': ['span-api-root', 'span-api-child'],
      'user-activity': ['span-page-root', 'span-page-child', 'span-login', 'span-logout', 'span-download'],
    });
  });
});
