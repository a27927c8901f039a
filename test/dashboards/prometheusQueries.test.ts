// The API dashboard's PromQL on a real Prometheus: an instrumented app (child
// process under --require dist/register.js) sends spans and its request
// counters to the real Collector (collector-config/otelcol.yaml, span_metrics);
// Prometheus (built by `npm run prometheus:build`) scrapes the Collector's
// metrics endpoint as collector-config/prometheus.yml does, on loopback, every
// second; every PromQL expression in dashboards/ must then return series with
// the labels it groups by. (The alert rules are SQL on the audit trail:
// test/alerts/rules.test.ts runs them on PostgreSQL.)
import { expect } from 'chai';
import { join } from 'node:path';
import { startChildApp, type ChildApp } from '../support/childApp';
import { freePort, pollUntil, repoRoot, requireCollector, startCollector, tempDir, type RunningCollector } from '../support/collector';
import { requirePrometheus, startPrometheus, testConfig, type PromSeries, type RunningPrometheus } from '../support/prometheus';
import { dashboards, queries } from './grafanaFiles';

const SERVICE = `cvd-prometheus-test-${process.pid}`;
const ROUTES = ['/api/devices/:id', '/api/devices/:id/lock', '/api/orders/:id', '/api/login'];

/**
 * The expression Prometheus runs for a Grafana query: variables as a user
 * with everything selected has them, and a variable's label_values(selector,
 * label) as the series query Grafana sends for it.
 */
function expand(expr: string): string {
  const variables = expr.replaceAll('$service', SERVICE).replaceAll('$route', '.+').replaceAll('$__rate_interval', '30s').replaceAll('$__range', '5m');
  const labelValues = /^\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/.exec(variables);
  return labelValues ? `group by (${labelValues[2]}) (${labelValues[1]})` : variables;
}

/** The labels a query groups its result by (`by (a, b)`), `le` aside (histogram_quantile consumes it). */
function groupedBy(expr: string): string[] {
  return [...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim())).filter((l) => l && l !== 'le');
}

describe('dashboards: every PromQL expression on a real Prometheus scraping the real Collector', function () {
  this.timeout(240_000);
  let collector: RunningCollector | undefined;
  let prometheus: RunningPrometheus | undefined;
  let app: ChildApp | undefined;
  let traffic: NodeJS.Timeout | undefined;
  const spool = tempDir('cvd-prometheus-spool-');
  const promql = [...dashboards()].flatMap(([file, d]) => queries(file, d)).filter((q) => q.datasourceUid === 'prometheus');

  before(async function () {
    const otelcol = requireCollector(this);
    const promBin = requirePrometheus(this);
    const [grpc, http, metrics, ownMetrics, deadTempo] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    collector = await startCollector({
      bin: otelcol, name: 'otelcol (prometheus test)', config: join(repoRoot, 'collector-config/otelcol.yaml'),
      env: {
        OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`, OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
        SPAN_METRICS_PROMETHEUS_ENDPOINT: `127.0.0.1:${metrics}`, SPAN_METRICS_FLUSH_INTERVAL: '1s',
        OTELCOL_METRICS_PORT: String(ownMetrics), TAIL_SAMPLING_DECISION_WAIT: '1s',
        TEMPO_ENDPOINT: `127.0.0.1:${deadTempo}`, // no Tempo: the metrics side is under test
      },
    });
    prometheus = await startPrometheus(promBin, testConfig({ 'span-metrics': `127.0.0.1:${metrics}`, otelcol: `127.0.0.1:${ownMetrics}` }, 1));
    app = await startChildApp('route-app.js', 'require', {
      OTEL_SERVICE_NAME: SERVICE, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${http}`, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: undefined,
      OTEL_METRIC_EXPORT_INTERVAL: '1000', OTEL_BSP_SCHEDULE_DELAY: '200', CVD_ACTIVITY_SPOOL_DIR: spool.path,
    });
    // Steady traffic until the queries are done: rate() needs samples that keep rising.
    const base = app.base;
    const send = (method: string, path: string) => fetch(`${base}${path}`, { method }).then((r) => r.arrayBuffer()).catch(() => undefined);
    let n = 0;
    traffic = setInterval(() => {
      n += 1;
      void send('GET', `/api/devices/${n}`);
      void send('POST', `/api/devices/${n}/lock`);
      void send('GET', `/api/orders/${n}`);
      void send('POST', '/api/login');
      void send('GET', '/healthz');
      void send('GET', '/api/admin/activity/alerts');
    }, 100);
  });

  after(async () => {
    if (traffic) clearInterval(traffic);
    await app?.stop();
    await prometheus?.stop();
    await collector?.stop();
    spool.remove();
  });

  it('finds the dashboards\' PromQL (panels and variables)', () => {
    expect(promql.length).to.be.at.least(8);
  });

  it('scrapes span metrics with route, method, status and service labels for every route', async () => {
    const series = await pollUntil('span metrics of every route in Prometheus', async () => {
      const found = await prometheus!.query(`traces_span_metrics_calls_total{service_name="${SERVICE}", span_kind="SPAN_KIND_SERVER"}`);
      return ROUTES.every((r) => found.some((s) => s.metric.http_route === r)) ? found : undefined;
    }, 120_000, 1000);
    for (const s of series) {
      for (const label of ['http_route', 'http_request_method', 'http_response_status_code', 'service_name']) {
        expect(s.metric[label], `${label} on ${JSON.stringify(s.metric)}`).to.be.a('string').and.not.equal('');
      }
    }
    const statusOf = (route: string) => series.find((s) => s.metric.http_route === route)?.metric.http_response_status_code;
    expect([statusOf('/api/devices/:id'), statusOf('/api/devices/:id/lock'), statusOf('/api/orders/:id'), statusOf('/api/login')]).to.deep.equal(['200', '409', '500', '401']);
  });

  it('answers every PromQL expression of the dashboards with series carrying the labels it groups by', async () => {
    for (const q of promql) {
      const expr = expand(q.target.expr);
      const labels = groupedBy(expr);
      const result: PromSeries[] = await pollUntil(`data for "${q.panel}": ${expr}`, async () => {
        const found = await prometheus!.query(expr);
        return found.length > 0 ? found : undefined;
      }, 120_000, 1000);
      for (const s of result) {
        for (const label of labels) expect(s.metric[label], `"${q.panel}": ${label} in ${JSON.stringify(s.metric)}`).to.be.a('string').and.not.equal('');
      }
    }
  });
});
