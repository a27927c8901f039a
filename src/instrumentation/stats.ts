/**
 * Process-wide counters of what happened to incoming requests and their spans,
 * for `getActivityStats()` (the demo's summary, health endpoints). Plain
 * integer increments on the hot path; nothing is allocated per request.
 */
import type { ExportResult } from '@opentelemetry/core';
import { ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

/** What happened to the requests this process served since start(). */
export interface ActivityCounters {
  /** Incoming requests seen, noise included. */
  requests: number;
  /** Requests that got no span because a noise rule dropped them. */
  spansDropped: number;
  /** Server spans not recorded because the sampled-route ratio left them out. */
  spansSampledOut: number;
  /** Spans the exporter reported as delivered. */
  spansExported: number;
  /** Spans the exporter failed to deliver. */
  spansFailed: number;
}

/** The live counters (mutated in place by the instrumentation). */
export const activityCounters: ActivityCounters = {
  requests: 0,
  spansDropped: 0,
  spansSampledOut: 0,
  spansExported: 0,
  spansFailed: 0,
};

/** Wraps an exporter so delivered and failed spans are counted. */
export class CountingSpanExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) activityCounters.spansExported += spans.length;
      else activityCounters.spansFailed += spans.length;
      resultCallback(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
