/** The *API activity* dashboard: RED metrics from the Collector's span_metrics connector (Prometheus) and traces (Tempo). */
import { Dashboard, PROMETHEUS, TEMPO, promql, queryVariable, traceql } from './grafana';

/** Prometheus names of the span_metrics connector's output (namespace traces.span.metrics, histogram unit ms). */
export const CALLS = 'traces_span_metrics_calls_total';
export const DURATION_BUCKET = 'traces_span_metrics_duration_milliseconds_bucket';
/**
 * The app's own counter of incoming requests by fate (kept | dropped |
 * sampled_out): OTel `cvd_activity.http.requests` from src/instrumentation/activityMetrics.ts,
 * passed through the Collector's metrics/app pipeline with a `service_name` label.
 */
export const APP_REQUESTS = 'cvd_activity_http_requests_total';

const SEL = 'service_name=~"$service", span_kind="SPAN_KIND_SERVER", http_route=~"$route"';
const RATE = (filter = '') => `rate(${CALLS}{${SEL}${filter}}[$__rate_interval])`;
const quantile = (q: number) =>
  `histogram_quantile(${q}, sum by (le, http_route) (rate(${DURATION_BUCKET}{${SEL}}[$__rate_interval])))`;

const variables = [
  queryVariable('service', 'Service', PROMETHEUS, `label_values(${CALLS}, service_name)`, '.*'),
  queryVariable('route', 'Route', PROMETHEUS, `label_values(${CALLS}{service_name=~"$service"}, http_route)`, '.*'),
];

/** Builds the dashboard JSON. */
export function apiActivityDashboard(): Record<string, unknown> {
  const d = new Dashboard(
    'cvd-api-activity',
    'cvd-activity · API activity',
    'How the API is used and how it behaves: request rate, errors and latency per route from span metrics (every request, before sampling), and the traces behind slow or failed requests.',
    variables,
  );
  d.row('Rate and errors');
  d.panel({
    title: 'Request rate by route',
    type: 'timeseries',
    unit: 'reqps',
    description: 'How many requests per second each route serves (server spans, counted before tail sampling, so this is all traffic the app kept).',
    targets: [promql(`sum by (http_route) (${RATE()})`, '{{http_route}}')],
  });
  d.panel({
    title: 'Error rate by route',
    type: 'timeseries',
    unit: 'percentunit',
    description: 'Share of each route\'s requests that failed on the server (span status ERROR = HTTP 5xx; 4xx are the client\'s and shown in the next panel).',
    targets: [promql(`sum by (http_route) (${RATE(', status_code="STATUS_CODE_ERROR"')}) / sum by (http_route) (${RATE()})`, '{{http_route}}')],
  });
  d.panel({
    title: 'Responses by status code',
    type: 'timeseries',
    unit: 'reqps',
    description: 'Requests per second by HTTP status code: 401/403 waves are denied access, 404 waves are probing or broken links, 5xx are our failures.',
    targets: [promql(`sum by (http_response_status_code) (${RATE()})`, '{{http_response_status_code}}')],
    fieldConfig: { custom: { stacking: { mode: 'normal' }, fillOpacity: 30 } },
  });
  d.panel({
    title: 'Share of traffic dropped as noise',
    type: 'timeseries',
    unit: 'percentunit',
    description:
      'Share of incoming requests that the noise rules dropped (health checks, static files, service workers) or sampled out (polling paths). ' +
      `Those requests export no span, so span metrics cannot see them: the app counts every request itself (${APP_REQUESTS}, label cvd_activity_fate = kept, dropped or sampled_out) ` +
      'and exports the counts as OTLP metrics (OTEL_METRICS_EXPORTER=otlp, the default with OTLP traces).',
    targets: [
      promql(
        `sum by (cvd_activity_fate) (rate(${APP_REQUESTS}{service_name=~"$service", cvd_activity_fate!="kept"}[$__rate_interval])) / ignoring(cvd_activity_fate) group_left() ` +
          `sum(rate(${APP_REQUESTS}{service_name=~"$service"}[$__rate_interval]))`,
        '{{cvd_activity_fate}}',
      ),
    ],
    fieldConfig: { custom: { stacking: { mode: 'normal' }, fillOpacity: 30 } },
  });
  d.row('Latency');
  for (const [q, extra] of [
    [0.5, 'the typical request'],
    [0.95, 'what one request in twenty waits (where exemplars are enabled in the Collector and Prometheus, their dots open the trace of a slow request)'],
    [0.99, 'the tail, where timeouts and lock waits show'],
  ] as const) {
    d.panel({
      title: `p${Math.round(q * 100)} latency by route`,
      type: 'timeseries',
      unit: 'ms',
      w: 8,
      description: `How long requests take per route at the ${Math.round(q * 100)}th percentile: ${extra}.`,
      targets: [promql(quantile(q), '{{http_route}}', { exemplar: q === 0.95 })],
    });
  }
  d.row('Top routes');
  d.panel({
    title: 'Top routes by volume',
    type: 'bargauge',
    description: 'Which routes receive the most requests in the selected time range.',
    targets: [promql(`topk(10, sum by (http_route) (increase(${CALLS}{${SEL}}[$__range])))`, '{{http_route}}', { instant: true })],
    options: { orientation: 'horizontal', displayMode: 'gradient', reduceOptions: { calcs: ['lastNotNull'], values: false } },
  });
  d.panel({
    title: 'Top routes by bytes sent',
    type: 'timeseries',
    unit: 'decbytes',
    description:
      'Which routes send the most response bytes (span attribute http.response.body.size). Span metrics carry no body size, so this is a TraceQL ' +
      'metrics query over the traces Tempo STORES: tail sampling keeps every error, slow, denied and audited request but only ~10% of the rest, ' +
      'so absolute numbers are a lower bound and routine routes are under-counted about tenfold; use it to rank routes, not to bill bytes.',
    targets: [
      traceql(
        '{ resource.service.name =~ "$service" && kind = server && span.http.response.body.size > 0 } | sum_over_time(span.http.response.body.size) by (span.http.route) | topk(10)',
        { metrics: 'range' },
      ),
    ],
    datasource: TEMPO,
  });
  d.row('Traces behind the numbers');
  d.panel({
    title: 'Failed requests (traces)',
    type: 'table',
    description: 'The latest server requests that failed (span status error or HTTP 5xx); click a trace id to open the whole request in Tempo.',
    targets: [traceql('{ resource.service.name =~ "$service" && kind = server && status = error }', { limit: 50 })],
    datasource: TEMPO,
  });
  d.panel({
    title: 'Slow requests (traces, > 1 s)',
    type: 'table',
    description: 'The latest server requests slower than one second (all kept by tail sampling); click a trace id to see where the time went.',
    targets: [traceql('{ resource.service.name =~ "$service" && kind = server && duration > 1s }', { limit: 50 })],
    datasource: TEMPO,
  });
  d.panel({
    title: 'Denied requests (traces, 401/403)',
    type: 'table',
    w: 24,
    description: 'The latest requests refused for authentication or authorization, with the user and client address on their spans.',
    targets: [traceql('{ resource.service.name =~ "$service" && kind = server && (span.http.response.status_code = 401 || span.http.response.status_code = 403) }', { limit: 50 })],
    datasource: TEMPO,
  });
  return d.toJSON();
}
