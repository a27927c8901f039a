/**
 * End to end with the REAL instrumentation: an app in a child process under
 * `node --require dist/register.js` exports its spans and its activity
 * metrics over OTLP/HTTP (protobuf, the default) to the real Collector running
 * collector-config/otelcol.yaml, which tail-samples into a second Collector
 * (the stand-in for Tempo, file exporter) and exposes span metrics and the
 * app's counters for Prometheus. Only env vars differ from compose.
 */
import { expect } from 'chai';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startChildApp, type ChildApp } from '../support/childApp';
import {
  pollUntil, readSinkSpans, requireCollector, startSamplingPipeline, sumSamples, tempDir,
  type RunningCollector, type SinkSpan,
} from '../support/collector';
import { readSpoolStatus } from '../../src/pipeline/spoolStatus';
import { APP_SECRETS, driveApp, type AppRequestKind, type SentRequest } from './appTraffic';
import { binomialBounds, byTrace, rawSink } from './traffic';

const ROUTINE = 500;
const IMPORTANT = 12; // per class: audit, error, slow, denied
const NOISE = 40;
const POLLING = 40; // the default sampled path, recorded at 10 %
const SHARE = 0.10; // the config's default TAIL_SAMPLING_ROUTINE_PERCENTAGE
const SLOW_THRESHOLD_MS = 300;
const MUST_KEEP: AppRequestKind[] = ['audit', 'error', 'slow', 'denied'];

/** Spans of the trace that are missing or extra, and whether it hangs together (one root, known parents). */
function wholeness(req: SentRequest, spans: SinkSpan[] | undefined): string | null {
  const list = spans ?? [];
  if (list.length !== req.spans) return `${req.method} ${req.path} (${req.traceId}): ${list.length} of ${req.spans} spans`;
  const ids = new Set(list.map((s) => s.spanId));
  const roots = list.filter((s) => s.parentSpanId === '');
  const orphans = list.filter((s) => s.parentSpanId !== '' && !ids.has(s.parentSpanId));
  if (roots.length !== 1 || orphans.length > 0) return `${req.path} (${req.traceId}): ${roots.length} roots, ${orphans.length} orphans`;
  return null;
}

describe('collector pipeline with the real instrumented app (register.js → otelcol.yaml)', function () {
  this.timeout(300_000);
  let collectors: RunningCollector[] = [];
  let app: ChildApp | undefined;
  let dir: ReturnType<typeof tempDir>;
  let sinkFile: string;
  let metricsEndpoint: string;
  let sent: SentRequest[];
  let received: Map<string, SinkSpan[]>;
  const service = `cvd-e2e-app-${process.pid}`;
  const of = (kind: AppRequestKind) => sent.filter((r) => r.kind === kind);

  before(async function () {
    const bin = requireCollector(this);
    dir = tempDir('cvd-otelcol-app-');
    let otlpHttp: string;
    ({ collectors, sinkFile, otlpHttp, metricsEndpoint } = await startSamplingPipeline(bin, dir.path, {
      TAIL_SAMPLING_LATENCY_THRESHOLD_MS: String(SLOW_THRESHOLD_MS),
    }));
    app = await startChildApp('../collector/fixtures/api-app.js', 'require', {
      OTEL_SERVICE_NAME: service,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://${otlpHttp}`,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: undefined, // the default: protobuf
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
      OTEL_LOG_LEVEL: 'error',
      // Audit events need no database here: they stay in this spool.
      CVD_ACTIVITY_SPOOL_DIR: join(dir.path, 'spool'),
      FIXTURE_SLOW_MS: String(SLOW_THRESHOLD_MS * 2 + 100),
    });
    sent = await driveApp(app.base, { audit: IMPORTANT, error: IMPORTANT, slow: IMPORTANT, denied: IMPORTANT, routine: ROUTINE, noise: NOISE, polling: POLLING });
    // SIGTERM: the register entry flushes spans and metrics, then the process exits.
    app.proc.kill('SIGTERM');
    const exit = await Promise.race([app.exited, new Promise((r) => setTimeout(() => r('timeout'), 30_000))]);
    expect(exit, `app exit after SIGTERM; stderr:\n${app.stderr()}`).to.deep.equal({ code: null, signal: 'SIGTERM' });
    received = byTrace(await waitForSink());
  });

  /** Until every must-keep trace is whole and the sink file stopped growing; then (or at the deadline) what arrived. */
  async function waitForSink(): Promise<SinkSpan[]> {
    const keep = sent.filter((r) => MUST_KEEP.includes(r.kind));
    let lastSize = -1;
    let stableSince = 0;
    return pollUntil('the sink to hold every must-keep trace whole and settle', () => {
      const size = existsSync(sinkFile) ? statSync(sinkFile).size : 0;
      if (size !== lastSize) {
        lastSize = size;
        stableSince = Date.now();
        return undefined;
      }
      const spans = readSinkSpans(sinkFile);
      const traces = byTrace(spans);
      const whole = keep.every((r) => wholeness(r, traces.get(r.traceId)) === null);
      return whole && Date.now() - stableSince > 3_000 ? spans : undefined;
    }, 120_000, 500).catch(() => readSinkSpans(sinkFile));
  }

  after(async () => {
    await app?.stop();
    for (const c of collectors.reverse()) await c.stop();
    dir?.remove();
  });

  it('answered every request as the app meant to', () => {
    const statuses = (kind: AppRequestKind) => [...new Set(of(kind).map((r) => r.status))].sort();
    expect(statuses('audit')).to.deep.equal([200]);
    expect(statuses('error')).to.deep.equal([500]);
    expect(statuses('denied')).to.deep.equal([401, 403]);
    expect(statuses('routine')).to.deep.equal([200]);
    expect(of('noise').every((r) => r.traceId === '' && !r.recorded), 'noise requests get no span').to.equal(true);
    expect(MUST_KEEP.flatMap(of).concat(of('routine')).every((r) => r.recorded && /^[0-9a-f]{32}$/.test(r.traceId))).to.equal(true);
    expect(new Set(sent.filter((r) => r.traceId !== '').map((r) => r.traceId)).size).to.equal(sent.filter((r) => r.traceId !== '').length);
  });

  for (const kind of MUST_KEEP) {
    it(`keeps every ${kind} trace, whole`, () => {
      expect(of(kind)).to.have.length(IMPORTANT);
      const broken = of(kind).map((r) => wholeness(r, received.get(r.traceId))).filter((x) => x !== null);
      expect(broken, `${kind} traces not whole`).to.deep.equal([]);
    });
  }

  it('keeps the audit event on the trace, and the outgoing call inside it', () => {
    for (const r of of('audit')) {
      const spans = received.get(r.traceId)!;
      const root = spans.find((s) => s.parentSpanId === '')!;
      expect(root.events.filter((e) => e.name === 'audit').map((e) => e.attributes['audit.action'])).to.deep.equal(['PRICE_CHANGE']);
      expect(spans.map((s) => s.attributes['url.path'] ?? s.attributes['url.full'])).to.include('/internal/stock');
    }
  });

  it('keeps routine traces at the configured share, each kept one whole', () => {
    // A routine request the client saw take longer than the slow threshold may
    // rightly be kept as slow on a loaded machine: count only the quick ones.
    const quick = of('routine').filter((r) => r.roundTripMs < SLOW_THRESHOLD_MS);
    expect(quick.length, 'quick routine requests').to.be.greaterThan(ROUTINE * 0.8);
    const kept = quick.filter((r) => received.has(r.traceId));
    const [low, high] = binomialBounds(quick.length, SHARE);
    expect(kept.length, `routine traces kept of ${quick.length} at ${SHARE * 100}%`).to.be.within(low, high);
    const partial = kept.map((r) => wholeness(r, received.get(r.traceId))).filter((x) => x !== null);
    expect(partial, 'routine traces kept only in part').to.deep.equal([]);
  });

  it('lets no secret through: Authorization header, query token, e-mail address', () => {
    const raw = rawSink([sinkFile]);
    for (const secret of Object.values(APP_SECRETS)) {
      expect(raw.includes(secret), `secret ${JSON.stringify(secret)} reached the backend`).to.equal(false);
    }
    expect(raw).not.to.match(/SECRET-|@example\.com/);
    // The spans that carried them did arrive, redacted rather than dropped.
    const root = received.get(of('audit')[0]!.traceId)!.find((s) => s.parentSpanId === '')!;
    expect(root.attributes['url.query']).to.equal('access_token=REDACTED');
    expect(root.attributes['user.id']).to.be.a('string').and.not.include('@');
  });

  it('counts every recorded request in span metrics, sampled or not', async () => {
    const recorded = sent.filter((r) => r.recorded);
    const servers = recorded.length + recorded.reduce((n, r) => n + r.outgoing, 0);
    const clients = recorded.reduce((n, r) => n + r.outgoing, 0);
    const labels = { service_name: service, span_kind: 'SPAN_KIND_SERVER' };
    const body = await scrapeUntil('span metrics to count every server span', (text) => sumSamples(text, 'traces_span_metrics_calls_total', labels) === servers);
    expect(sumSamples(body, 'traces_span_metrics_calls_total', { service_name: service, span_kind: 'SPAN_KIND_CLIENT' })).to.equal(clients);
    // A plain node:http app has no router, so no http.route: the status tells the denied ones apart.
    expect(sumSamples(body, 'traces_span_metrics_calls_total', { ...labels, http_request_method: 'POST', http_response_status_code: '401' }))
      .to.equal(of('denied').filter((r) => r.status === 401).length);
    expect(sumSamples(body, 'traces_span_metrics_calls_total', { ...labels, http_response_status_code: '500', status_code: 'STATUS_CODE_ERROR' }))
      .to.equal(IMPORTANT);
    // Far more requests are counted than traces kept: metrics come before sampling.
    expect(received.size).to.be.below(recorded.length / 2);
    expect(body).not.to.match(/SECRET-|@example\.com/);
  });

  it("exports the app's request counters: kept, dropped as noise, sampled out", async () => {
    const metric = 'cvd_activity_http_requests_total';
    const incoming = sent.length + sent.reduce((n, r) => n + r.outgoing, 0);
    const fate = (f: string) => ({ service_name: service, cvd_activity_fate: f });
    const body = await scrapeUntil(`${metric} to count all ${incoming} incoming requests`, (text) => sumSamples(text, metric, { service_name: service }) === incoming);
    const sampledOut = of('polling').filter((r) => !r.recorded).length;
    expect(sumSamples(body, metric, fate('dropped'))).to.equal(NOISE);
    expect(sumSamples(body, metric, fate('sampled_out'))).to.equal(sampledOut);
    // Kept requests are exactly the server spans span metrics counted.
    expect(sumSamples(body, metric, fate('kept'))).to.equal(sumSamples(body, 'traces_span_metrics_calls_total', { service_name: service, span_kind: 'SPAN_KIND_SERVER' }));
    expect(sampledOut, 'the sampled path left some requests out').to.be.greaterThan(0);
    // Spans delivered by the exporter: every server and client span, counted before the exit flush read the counters.
    const spans = sumSamples(body, 'traces_span_metrics_calls_total', { service_name: service });
    expect(sumSamples(body, 'cvd_activity_spans_total', { service_name: service, cvd_activity_export_outcome: 'delivered' })).to.equal(spans);
    expect(sumSamples(body, 'cvd_activity_spans_total', { service_name: service, cvd_activity_export_outcome: 'failed' })).to.equal(0);
    // instrumentation-http's own histograms stay off: no per-request metric cost.
    expect(body).not.to.match(/^http_(server|client)_/m);
  });

  it('spools every audit event for Postgres, whatever the sampling (no database here)', () => {
    const status = readSpoolStatus(join(dir.path, 'spool'));
    expect(status.totalEvents).to.equal(IMPORTANT);
  });

  /** Scrapes the Prometheus endpoint until `done(text)`; the failure names what was last seen. */
  async function scrapeUntil(what: string, done: (text: string) => boolean): Promise<string> {
    const scrape = async () => (await fetch(`http://${metricsEndpoint}/metrics`)).text();
    return pollUntil(what, async () => {
      const text = await scrape();
      return done(text) ? text : undefined;
    }, 60_000, 500).catch(async (error: unknown) => {
      const text = await scrape().catch(() => '');
      throw new Error(`${String(error)}\n${text.split('\n').filter((l) => l.includes(service)).slice(0, 30).join('\n')}`);
    });
  }
});
