/**
 * A batch span processor that encodes each span (OTLP protobuf) as it ends,
 * instead of keeping the span object until its batch is exported like the
 * SDK's BatchSpanProcessor. Same batching rules (512 spans or 5 s, at most
 * 2048 spans waiting, the rest dropped and counted), same wire bytes, but a
 * waiting span costs ~400 bytes outside the JS heap instead of a graph of
 * objects that every young-generation GC copies while it waits: at a few
 * thousand requests per second that copying was a large part of the GC time
 * tracing added. The export itself runs with tracing suppressed.
 */
import { context, diag, TraceFlags } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { EncodedSpanBatch, EncodedSpanExporter } from './OtlpProtobufSpanExporter';
import { reportOnce } from './reportOnce';
import { SpanBatchEncoder } from './spanSerializer';
import { activityCounters } from './stats';

/** Batching limits (the SDK BatchSpanProcessor's defaults). */
export interface EncodingLimits {
  /** Spans per export request. */
  maxExportBatchSize: number;
  /** Spans encoded or in flight at most; beyond, spans are dropped (and counted as failed). */
  maxQueueSize: number;
  /** Longest a span waits for its batch to fill. */
  scheduledDelayMillis: number;
}

const DEFAULT_LIMITS: EncodingLimits = { maxExportBatchSize: 512, maxQueueSize: 2048, scheduledDelayMillis: 5000 };

/** Encodes sampled spans as they end and exports them in batches through `exporter`. */
export class EncodingSpanProcessor implements SpanProcessor {
  private readonly limits: EncodingLimits;
  private encoder = new SpanBatchEncoder();
  private inFlightSpans = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;

  constructor(private readonly exporter: EncodedSpanExporter, limits: Partial<EncodingLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.stopping !== null || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.encoder.count + this.inFlightSpans >= this.limits.maxQueueSize) {
      activityCounters.spansFailed++;
      reportOnce('span-queue-full', `span queue full (${this.limits.maxQueueSize} spans waiting for the collector); spans are dropped until it drains`, new Error('queue full'));
      return;
    }
    try {
      this.encoder.add(span);
    } catch (err) {
      activityCounters.spansFailed++;
      reportOnce('span-encoding', 'a span could not be encoded and was dropped', err);
      return;
    }
    if (this.encoder.count >= this.limits.maxExportBatchSize) this.exportBatch();
    else if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.exportBatch();
      }, this.limits.scheduledDelayMillis);
      this.timer.unref();
    }
  }

  /** Sends what is encoded and waits for every export in flight. */
  async forceFlush(): Promise<void> {
    this.exportBatch();
    await Promise.all([...this.inFlight]);
  }

  /** Flushes, then shuts the exporter down; idempotent. */
  shutdown(): Promise<void> {
    this.stopping ??= this.forceFlush().then(() => this.exporter.shutdown());
    return this.stopping;
  }

  private exportBatch(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.encoder.count === 0) return;
    const batch: EncodedSpanBatch = { length: this.encoder.count, bytes: this.encoder.finish() };
    this.inFlightSpans += batch.length;
    const done = new Promise<void>((resolve) => {
      // The exporter's own HTTP request must not be traced.
      const settle = (result: ExportResult): void => {
        this.inFlightSpans -= batch.length;
        if (result.code === ExportResultCode.SUCCESS) activityCounters.spansExported += batch.length;
        else {
          activityCounters.spansFailed += batch.length;
          diag.error(`cvd-activity: export of ${batch.length} spans failed`, result.error);
        }
        resolve();
      };
      try {
        context.with(suppressTracing(context.active()), () => this.exporter.export(batch, settle));
      } catch (err) {
        settle({ code: ExportResultCode.FAILED, error: err as Error });
      }
    });
    this.inFlight.add(done);
    void done.then(() => this.inFlight.delete(done));
  }
}
