/**
 * The pipeline's factory for the composition root: one spool, one writer
 * stream and one SpanProcessor per process.
 */
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { AuditSink } from '../audit/types';
import type { CvdActivityConfig } from '../config/types';
import { AuditPipeline } from './AuditPipeline';
import type { AuditWriterFactory, PipelineStatus } from './types';
import { AuditSpanProcessor } from './AuditSpanProcessor';
import { Spool } from './Spool';

/** Dependencies and tuning of createAuditPipeline(). */
export interface CreateAuditPipelineOptions {
  /** Builds the Postgres writer for this process's stream; null when no database is configured. */
  writerFactory: AuditWriterFactory | null;
  /** Events held in memory at most (default max(10000, 4 × batchSize)); the rest wait on disk. */
  maxInMemory?: number;
  /** Spool segment size before rotation (bytes, default 4 MiB). */
  segmentMaxBytes?: number;
  /** Default deadline of forceFlush() (ms, default 30000). */
  flushTimeoutMs?: number;
}

/** What the composition root wires: the sink for audit.record(), the processor for NodeSDK, a status probe. */
export interface AuditPipelineHandle {
  /** The AuditSink for record(); its forceFlush also takes a deadline in ms. */
  sink: AuditSink & { forceFlush(timeoutMs?: number): Promise<void> };
  spanProcessor: SpanProcessor;
  status(): PipelineStatus;
}

/** Opens the spool (recovering segments of stopped processes) and starts the pipeline; throws SpoolOpenError when the spool folder is unusable. */
export function createAuditPipeline(config: CvdActivityConfig, options: CreateAuditPipelineOptions): AuditPipelineHandle {
  const p = config.pipeline;
  const spool = new Spool({
    dir: p.spoolDir,
    maxBytes: p.spoolMaxBytes,
    fsync: p.spoolFsync,
    maxInMemory: options.maxInMemory ?? Math.max(10_000, 4 * p.batchSize),
    ...(options.segmentMaxBytes !== undefined ? { segmentMaxBytes: options.segmentMaxBytes } : {}),
  });
  const pipeline = new AuditPipeline({
    spool,
    writerFactory: options.writerFactory,
    streamId: spool.instance.replace(/_/g, ':'),
    batchSize: p.batchSize,
    batchDelayMs: p.batchDelayMs,
    retryMaxDelayMs: p.retryMaxDelayMs,
    spoolFsync: p.spoolFsync,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    ...(options.flushTimeoutMs !== undefined ? { flushTimeoutMs: options.flushTimeoutMs } : {}),
  });
  return {
    sink: pipeline,
    spanProcessor: new AuditSpanProcessor(pipeline),
    status: () => pipeline.status(),
  };
}
