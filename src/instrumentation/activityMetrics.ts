/**
 * The activity counters (stats.ts) as OpenTelemetry OBSERVABLE counters: the
 * meter reads the plain integers once per export interval, so a request costs
 * nothing more than the increments it already does. This is how requests the
 * noise rules dropped or sampled out — which by design export no span, and so
 * never reach span metrics — still show up on the dashboards.
 */
import type { Meter } from '@opentelemetry/api';
import { activityCounters } from './stats';

/** Metric and attribute names, as exported over OTLP (Prometheus: `cvd_activity_http_requests_total{cvd_activity_fate=…}`). */
export const ACTIVITY_METRICS = {
  requests: 'cvd_activity.http.requests',
  spans: 'cvd_activity.spans',
  fate: 'cvd_activity.fate',
  outcome: 'cvd_activity.export.outcome',
} as const;

/** What happened to a request: recorded as a span, dropped as noise, or left out by the sampled-path ratio. */
export type RequestFate = 'kept' | 'dropped' | 'sampled_out';

/** Registers the observable counters on `meter`; the callback runs only at collection time. */
export function observeActivityCounters(meter: Meter): void {
  const requests = meter.createObservableCounter(ACTIVITY_METRICS.requests, {
    description: 'Incoming HTTP requests by what happened to their span: kept, dropped as noise, or sampled out',
    unit: '{request}',
  });
  const spans = meter.createObservableCounter(ACTIVITY_METRICS.spans, {
    description: 'Spans handed to the OTLP exporter, by outcome: delivered or failed',
    unit: '{span}',
  });
  meter.addBatchObservableCallback((result) => {
    const c = activityCounters;
    // `requests` is counted when a request arrives and sampled_out when its span
    // starts, both within the same synchronous 'request' emit, so a collection
    // (a timer) never sees one without the other and `kept` only grows.
    const kept = Math.max(0, c.requests - c.spansDropped - c.spansSampledOut);
    result.observe(requests, kept, { [ACTIVITY_METRICS.fate]: 'kept' });
    result.observe(requests, c.spansDropped, { [ACTIVITY_METRICS.fate]: 'dropped' });
    result.observe(requests, c.spansSampledOut, { [ACTIVITY_METRICS.fate]: 'sampled_out' });
    result.observe(spans, c.spansExported, { [ACTIVITY_METRICS.outcome]: 'delivered' });
    result.observe(spans, c.spansFailed, { [ACTIVITY_METRICS.outcome]: 'failed' });
  }, [requests, spans]);
}
