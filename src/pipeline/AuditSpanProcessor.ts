/**
 * Ties the audit pipeline to the OpenTelemetry SDK lifecycle: NodeSDK's
 * `forceFlush()` and `shutdown()` call every span processor's, so registering
 * this one makes them cover audit writes too. It ignores spans: audit events
 * never depend on spans, sampling or the Collector.
 */
import { diag } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { AuditSink } from '../audit/types';

/** A SpanProcessor whose only job is to flush and shut down an AuditSink with the SDK. */
export class AuditSpanProcessor implements SpanProcessor {
  constructor(private readonly sink: AuditSink) {}

  /** Spans are not audit events: nothing to do. */
  onStart(_span: Span, _parentContext: Context): void {}

  /** Spans are not audit events: nothing to do. */
  onEnd(_span: ReadableSpan): void {}

  /** Flushes the audit pipeline; a failure (Postgres down past the deadline) goes to diag, never into the app. */
  async forceFlush(): Promise<void> {
    try {
      await this.sink.forceFlush();
    } catch (err) {
      diag.error(`cvd-activity: audit flush incomplete: ${(err as Error).message}`);
    }
  }

  /** Shuts the audit pipeline down (idempotent); what is not committed stays spooled for the next start. */
  async shutdown(): Promise<void> {
    try {
      await this.sink.shutdown();
    } catch (err) {
      diag.error(`cvd-activity: audit pipeline shutdown failed: ${(err as Error).message}`);
    }
  }
}
