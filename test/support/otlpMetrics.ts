/**
 * OTLP/JSON of cvd-activity's request counter as the SDK exports it (a
 * cumulative monotonic sum of `cvd_activity.http.requests` by
 * `cvd_activity.fate`), for Collector tests that need the metric without
 * running an app (the real app sends it in test/collector/app.test.ts).
 */
import { ACTIVITY_METRICS } from '../../src/instrumentation/activityMetrics';
import type { RequestFate } from '../../src/instrumentation/activityMetrics';

/** An export request body for one service with the given count per fate. */
export function requestCounterExport(service: string, counts: Record<RequestFate, number>): unknown {
  const now = String(BigInt(Date.now()) * 1_000_000n);
  return {
    resourceMetrics: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeMetrics: [{
        scope: { name: 'cvd-activity' },
        metrics: [{
          name: ACTIVITY_METRICS.requests,
          unit: '{request}',
          sum: {
            aggregationTemporality: 2, // cumulative, as the SDK's observable counters are
            isMonotonic: true,
            dataPoints: (Object.entries(counts) as [RequestFate, number][]).map(([fate, n]) => ({
              attributes: [{ key: ACTIVITY_METRICS.fate, value: { stringValue: fate } }],
              startTimeUnixNano: now, timeUnixNano: now, asInt: String(n),
            })),
          },
        }],
      }],
    }],
  };
}

/** POSTs `body` as OTLP/JSON to `<endpoint>/v1/metrics`; resolves with the HTTP status. */
export async function postMetrics(otlpHttp: string, body: unknown): Promise<number> {
  const res = await fetch(`http://${otlpHttp}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}
