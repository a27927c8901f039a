/**
 * End to end through the real Collector running collector-config/otelcol.yaml
 * unchanged: traffic generator → OTLP/HTTP → Collector → OTLP/gRPC → a second
 * Collector (the stand-in for Tempo) writing JSON lines to a file. Only env
 * vars differ from the compose stack (loopback ports, short decision_wait).
 */
import { expect } from 'chai';
import {
  pollUntil, requireCollector, startSamplingPipeline, sumSamples, tempDir,
  type RunningCollector, type SinkSpan,
} from '../support/collector';
import type { TrafficManifest } from './fixtures/traffic';
import { binomialBounds, byTrace, missingSpans, rawSink, sendTraffic, waitForSink } from './traffic';

const ROUTINE = 800;
const IMPORTANT = 20; // per class: audit, error, slow, denied
const SHARE = 0.10; // the config's default TAIL_SAMPLING_ROUTINE_PERCENTAGE, deliberately not overridden

describe('collector pipeline (otelcol.yaml, real Collector)', function () {
  this.timeout(240_000);
  let collectors: RunningCollector[] = [];
  let dir: ReturnType<typeof tempDir>;
  let sinkFile: string;
  let metricsEndpoint: string;
  let manifest: TrafficManifest;
  let received: Map<string, SinkSpan[]>;

  before(async function () {
    const bin = requireCollector(this);
    dir = tempDir('cvd-otelcol-');
    let otlpHttp: string;
    ({ collectors, sinkFile, otlpHttp, metricsEndpoint } = await startSamplingPipeline(bin, dir.path));
    manifest = await sendTraffic({
      otlpHttp,
      service: `cvd-pipeline-${process.pid}`,
      counts: { audit: IMPORTANT, error: IMPORTANT, slow: IMPORTANT, denied: IMPORTANT, routine: ROUTINE },
    });
    received = byTrace(await waitForSink(manifest, [sinkFile]));
  });

  after(async () => {
    for (const c of collectors.reverse()) await c.stop();
    dir?.remove();
  });

  for (const kind of ['audit', 'error', 'slow', 'denied'] as const) {
    it(`keeps every ${kind} trace, whole`, () => {
      expect(manifest.traces[kind]).to.have.length(IMPORTANT);
      const incomplete = manifest.traces[kind]
        .map((id) => ({ id, missing: missingSpans(manifest, id, received.get(id)) }))
        .filter((t) => t.missing.length > 0);
      expect(incomplete, `${kind} traces missing spans`).to.deep.equal([]);
    });
  }

  it('keeps routine traces at the configured share, each kept one whole', () => {
    const kept = manifest.traces.routine.filter((id) => received.has(id));
    const [low, high] = binomialBounds(ROUTINE, SHARE);
    expect(kept.length, `routine traces kept of ${ROUTINE} at ${SHARE * 100}%`).to.be.within(low, high);
    const partial = kept.filter((id) => missingSpans(manifest, id, received.get(id)).length > 0);
    expect(partial, 'routine traces kept only in part').to.deep.equal([]);
  });

  it('forwards nothing that was not sent, and no span twice', () => {
    const sent = new Set(Object.keys(manifest.spans));
    expect([...received.keys()].filter((id) => !sent.has(id))).to.deep.equal([]);
    for (const [id, spans] of received) {
      expect(spans.length, `spans of ${id}`).to.equal(new Set(spans.map((s) => s.spanId)).size);
    }
  });

  it('lets no secret through: auth headers, query tokens and e-mail addresses', () => {
    const raw = rawSink([sinkFile]);
    for (const secret of manifest.secrets) {
      expect(raw.includes(secret), `secret ${JSON.stringify(secret)} reached the backend`).to.equal(false);
    }
    expect(raw).not.to.match(/SECRET-/);
    // …and the spans carrying them did arrive, redacted (not silently dropped).
    const audit = received.get(manifest.traces.audit[0]!)!;
    const server = audit.find((s) => s.attributes['http.route'] === '/api/prices/:id')!;
    expect(server.attributes['http.request.header.authorization']).to.equal('REDACTED');
    expect(server.attributes['http.request.header.cookie']).to.equal('REDACTED');
    expect(server.attributes['url.query']).to.equal('page=2&access_token=REDACTED');
    expect(server.attributes['url.full']).to.equal(`http://api.local${String(server.attributes['url.path'])}?page=2&access_token=REDACTED`);
    expect(server.attributes['http.target']).to.equal(`${String(server.attributes['url.path'])}?page=2&access_token=REDACTED`);
    expect(server.attributes['user.email']).to.be.a('string').and.not.include('@example.com');
    const event = server.events.find((e) => e.name === 'audit')!;
    expect(event.attributes['audit.action']).to.equal('PRICE_CHANGE');
    expect(event.attributes['audit.actor.email']).to.be.a('string').and.not.include('@');
  });

  it('counts every request in span metrics, sampled or not', async () => {
    const service = manifest.service;
    const sent = Object.keys(manifest.status).length;
    const denied401 = Object.values(manifest.status).filter((s) => s === 401).length;
    const labels = { service_name: service, span_kind: 'SPAN_KIND_SERVER' };
    const body = await pollUntil('span metrics to count every request', async () => {
      const text = await (await fetch(`http://${metricsEndpoint}/metrics`)).text();
      return sumSamples(text, 'traces_span_metrics_calls_total', labels) === sent ? text : undefined;
    }, 60_000, 500).catch(async (error: unknown) => {
      const text = await (await fetch(`http://${metricsEndpoint}/metrics`)).text();
      throw new Error(`${String(error)}; counted ${sumSamples(text, 'traces_span_metrics_calls_total', labels)} of ${sent}`);
    });
    expect(sent).to.equal(ROUTINE + 4 * IMPORTANT);
    // Far more requests are counted than traces kept: metrics come before sampling.
    expect(received.size).to.be.below(sent / 2);
    expect(sumSamples(body, 'traces_span_metrics_duration_milliseconds_count', labels)).to.equal(sent);
    expect(sumSamples(body, 'traces_span_metrics_calls_total', { ...labels, http_response_status_code: '401', http_route: '/api/login', http_request_method: 'POST' })).to.equal(denied401);
    expect(sumSamples(body, 'traces_span_metrics_calls_total', { ...labels, http_route: '/api/orders' })).to.equal(ROUTINE);
    const allSpans = Object.values(manifest.spans).reduce((n, ids) => n + ids.length, 0);
    expect(sumSamples(body, 'traces_span_metrics_calls_total', { service_name: service })).to.equal(allSpans);
    expect(body).not.to.match(/SECRET-|@example\.(com|org)/);
  });
});
