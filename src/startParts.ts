/**
 * The extension point of `start()`: parts of the product that hook into the
 * SDK's lifecycle. The composition root fills this in; start() wires whatever
 * it returns between our enrichment processor and the exporter.
 *
 * The audit pipeline plugs in here: its SpanProcessor goes into
 * `spanProcessors` (the SDK then calls its forceFlush/shutdown on flush, exit
 * signals and handle.shutdown()), and installing the audit recorder's sink
 * goes into `build` itself, before the app handles its first request.
 */
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { CvdActivityConfig } from './config/types';

/** Something with buffered work that must be flushed and shut down with the SDK (flushed after the span processors). */
export interface LifecycleParticipant {
  /** Shown in diag messages when it fails. */
  name: string;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** What the composition root adds to start(). */
export interface StartParts {
  /** Span processors run after enrichment (attributes are final in onEnd) and before the OTLP exporter. */
  spanProcessors: SpanProcessor[];
  /** Non-span work flushed by handle.forceFlush(), exit signals and beforeExit, and shut down by handle.shutdown(). */
  participants: LifecycleParticipant[];
}

/** Builds the extra parts for a validated config. Throwing here is reported in one stderr line; tracing still starts. */
export type StartPartsBuilder = (config: CvdActivityConfig) => StartParts;

/**
 * The parts every start() adds. Composition root: this is the one function to
 * extend when the audit pipeline lands, e.g.
 *   const pipeline = new AuditPipeline(config);          // pipeline/: a SpanProcessor + AuditSink
 *   installAuditSink(pipeline, config);                   // audit/: record() now enqueues into it
 *   return { spanProcessors: [pipeline], participants: [] };
 */
export const buildStartParts: StartPartsBuilder = () => ({ spanProcessors: [], participants: [] });
