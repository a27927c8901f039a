// The API dashboard's PromQL against what the real Collector exposes: start
// the built binary with collector-config/otelcol.yaml, send it server spans
// and the app's request counters (as cvd-activity exports them; the real app
// does so in test/collector/app.test.ts) over OTLP/HTTP, scrape its
// Prometheus endpoint, and require every metric, label and literal label
// value the dashboards use to be there.
import { expect } from 'chai';
import { join } from 'node:path';
import { collectorBinary, freePort, pollUntil, repoRoot, requireCollector, startCollector } from '../support/collector';
import type { RunningCollector } from '../support/collector';
import { promqlNames } from '../support/promql';
import { dashboards, queries } from './grafanaFiles';
import { postMetrics, requestCounterExport } from '../support/otlpMetrics';
import { APP_METRICS, SPAN_METRIC_LABELS, SPAN_METRICS } from './spanMetrics';

const SERVICE = 'dashboards-scrape-test';

/** OTLP/JSON for `n` server spans of one route with one status. */
function spans(route: string, status: number, n: number): unknown[] {
  const now = BigInt(Date.now()) * 1_000_000n;
  return Array.from({ length: n }, (_, i) => ({
    traceId: Buffer.from(`${route}-${status}-${i}`.padEnd(16, '.').slice(0, 16)).toString('hex'),
    spanId: Buffer.from(`s${i}${status}`.padEnd(8, '.').slice(0, 8)).toString('hex'),
    name: `GET ${route}`,
    kind: 2, // SERVER
    startTimeUnixNano: String(now - 30_000_000n),
    endTimeUnixNano: String(now),
    attributes: [
      { key: 'http.route', value: { stringValue: route } },
      { key: 'http.request.method', value: { stringValue: 'GET' } },
      { key: 'http.response.status_code', value: { intValue: String(status) } },
    ],
    status: status >= 500 ? { code: 2 } : {},
  }));
}

/** Metric name → label name → values seen, from a Prometheus text exposition. */
function exposition(text: string): Map<string, Map<string, Set<string>>> {
  const out = new Map<string, Map<string, Set<string>>>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s/.exec(line);
    if (!m) continue;
    const labels = out.get(m[1]!) ?? new Map<string, Set<string>>();
    out.set(m[1]!, labels);
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      const values = labels.get(l[1]!) ?? new Set<string>();
      values.add(l[2]!);
      labels.set(l[1]!, values);
    }
  }
  return out;
}

describe('dashboards: PromQL against metrics scraped from the real Collector', function () {
  this.timeout(120_000);
  let collector: RunningCollector | undefined;
  let scraped: Map<string, Map<string, Set<string>>>;

  before(async function () {
    const bin = requireCollector(this);
    const [grpc, http, metrics, deadTempo] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    collector = await startCollector({
      bin,
      name: 'otelcol (dashboards)',
      config: join(repoRoot, 'collector-config/otelcol.yaml'),
      env: {
        OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
        OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
        SPAN_METRICS_PROMETHEUS_ENDPOINT: `127.0.0.1:${metrics}`,
        SPAN_METRICS_FLUSH_INTERVAL: '1s',
        TAIL_SAMPLING_DECISION_WAIT: '1s',
        TEMPO_ENDPOINT: `127.0.0.1:${deadTempo}`, // no Tempo here: only the metrics side matters
      },
    });
    const body = {
      resourceSpans: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: SERVICE } }] },
        scopeSpans: [{ scope: { name: 'test' }, spans: [...spans('/api/devices', 200, 5), ...spans('/api/orders', 500, 2)] }],
      }],
    };
    const res = await fetch(`http://127.0.0.1:${http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).to.equal(200);
    expect(await postMetrics(`127.0.0.1:${http}`, requestCounterExport(SERVICE, { kept: 10, dropped: 20, sampled_out: 30 }))).to.equal(200);
    scraped = await pollUntil('span metrics of the sent spans', async () => {
      const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
      const e = exposition(text);
      const errors = e.get('traces_span_metrics_calls_total')?.get('status_code');
      const appMetrics = [...APP_METRICS.keys()].every((m) => e.has(m));
      return errors?.has('STATUS_CODE_ERROR') && e.has('traces_span_metrics_duration_milliseconds_bucket') && appMetrics ? e : undefined;
    }, 60_000, 500);
  });

  after(async () => {
    await collector?.stop();
  });

  it('emits every span metric the dashboards are written against', () => {
    for (const m of SPAN_METRICS) expect(scraped.has(m), `${m} scraped from ${collectorBinary()}`).to.equal(true);
    const labels = new Set([...scraped.get('traces_span_metrics_calls_total')!.keys()]);
    for (const l of SPAN_METRIC_LABELS) if (!['le', 'job', 'instance'].includes(l)) expect(labels.has(l), `label ${l}`).to.equal(true);
  });

  it("exposes the app's request counter under the name and labels the dashboards use", () => {
    for (const [m, labels] of APP_METRICS) {
      expect(scraped.has(m), `${m} scraped`).to.equal(true);
      // job and instance depend on the resource's service.* attributes and the scrape, not on us.
      for (const l of labels) if (!['job', 'instance'].includes(l)) expect(scraped.get(m)!.has(l), `${m} label ${l}`).to.equal(true);
    }
    expect([...scraped.get('cvd_activity_http_requests_total')!.get('cvd_activity_fate')!].sort()).to.deep.equal(['dropped', 'kept', 'sampled_out']);
    expect([...scraped.get('cvd_activity_http_requests_total')!.get('service_name')!]).to.deep.equal([SERVICE]);
  });

  it('has every metric, label and literal label value each PromQL query uses', () => {
    for (const [file, d] of dashboards()) {
      for (const q of queries(file, d).filter((x) => x.datasourceUid === 'prometheus')) {
        const { metrics, labels } = promqlNames(q.target.expr);
        const real = [...metrics];
        for (const m of real) expect(scraped.has(m), `${file}: "${q.panel}" uses ${m}`).to.equal(true);
        const have = new Set(['job', 'instance', ...real.flatMap((m) => [...scraped.get(m)!.keys()])]);
        for (const l of labels) expect(have.has(l), `${file}: "${q.panel}" uses label ${l}`).to.equal(true);
        for (const [, label, value] of q.target.expr.matchAll(/([a-z_]+)="([^"$]+)"/g)) {
          const seen = real.some((m) => scraped.get(m)!.get(label!)?.has(value!));
          expect(seen, `${file}: "${q.panel}" matches ${label}="${value}", a value the Collector never emits`).to.equal(true);
        }
      }
    }
  });
});
