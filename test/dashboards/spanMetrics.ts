/**
 * What the Collector's span_metrics connector exposes to Prometheus, as
 * documented (shared/REFERENCE.md, collector-config/otelcol.yaml: namespace
 * traces.span.metrics, histogram unit ms, dimensions http.route,
 * http.request.method, http.response.status_code). When the real Collector is
 * built, collectorMetrics.test.ts scrapes it and checks this list.
 */
export const SPAN_METRICS = new Set([
  'traces_span_metrics_calls_total',
  'traces_span_metrics_duration_milliseconds_bucket',
  'traces_span_metrics_duration_milliseconds_sum',
  'traces_span_metrics_duration_milliseconds_count',
]);

/** Labels on those series: built-in dimensions, configured dimensions, histogram `le`, and the scrape's job/instance. */
export const SPAN_METRIC_LABELS = new Set([
  'service_name', 'span_name', 'span_kind', 'status_code',
  'http_route', 'http_request_method', 'http_response_status_code',
  'le', 'job', 'instance',
]);

/**
 * Metrics the app itself exports over OTLP (src/instrumentation/activityMetrics.ts),
 * passed by the Collector's metrics/app pipeline to the same Prometheus
 * endpoint, with their labels (`service_name` is added by the Collector).
 */
export const APP_METRICS = new Map([
  ['cvd_activity_http_requests_total', new Set(['service_name', 'cvd_activity_fate', 'job', 'instance'])],
]);
