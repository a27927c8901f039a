/** Public types of the pipeline room: options and status snapshots of the spool and the pipeline. */
import type { AuditWriter, PgAuditWriterOptions } from '../store/types';

/** Options of a spool. */
export interface SpoolOptions {
  /** Folder shared by the app's processes on this host. */
  dir: string;
  /** Bytes of segments on disk above which `append()` refuses events with SpoolFullError. */
  maxBytes: number;
  /** 'always': fsync every append; 'batch': fsync when `sync()` is called (before each batch is sent); 'none': never. */
  fsync: 'none' | 'batch' | 'always';
  /** A segment is sealed once it holds this many bytes (default 4 MiB). */
  segmentMaxBytes?: number;
  /** ...or this many events (default 10000). */
  segmentMaxEvents?: number;
  /** Events held in memory at most; the rest wait on disk (default 10000). */
  maxInMemory?: number;
  /** Instance id (default `<host>_<pid>_<random>`). */
  instance?: string;
}

/** A snapshot of the spool, for status() and `spool status`. */
export interface SpoolStatus {
  instance: string;
  dir: string;
  segments: number;
  usedBytes: number;
  maxBytes: number;
  /** Events held in memory waiting for commit. */
  inMemory: number;
  /** True when more events wait on disk than are held in memory. */
  spilled: boolean;
  accepted: number;
  committed: number;
  recoveredSegments: number;
  skippedLines: number;
  refusedFull: number;
}

/**
 * Creates the Postgres writer of one stream; called again after it failed to
 * connect. Pass `runQuietly` and `onBackgroundError` on to the writer: they
 * keep its traffic out of traces and report its idle connections' errors.
 */
export type AuditWriterFactory = (options: WriterFactoryOptions) => Promise<AuditWriter> | AuditWriter;

/** What the pipeline gives the writer factory. */
export type WriterFactoryOptions = { streamId: string } & Required<Pick<PgAuditWriterOptions, 'runQuietly' | 'onBackgroundError'>>;

/** Options of an AuditPipeline. */
export interface AuditPipelineOptions {
  spool: import('./Spool').Spool;
  /** null: no database (events stay spooled for the next process that has one). */
  writerFactory: AuditWriterFactory | null;
  /** This process's hash-chain stream. */
  streamId: string;
  /** Events per writeBatch. */
  batchSize: number;
  /** Longest a partial batch waits (ms). */
  batchDelayMs: number;
  /** Cap of the retry backoff (ms). */
  retryMaxDelayMs: number;
  /** First retry backoff cap (ms, default 100); doubles per failure up to retryMaxDelayMs. */
  retryBaseDelayMs?: number;
  /** 'batch': fsync the spool before each batch is sent. */
  spoolFsync: 'none' | 'batch' | 'always';
  /** Default deadline of forceFlush() (ms, default 30000). */
  flushTimeoutMs?: number;
  /** Deadline of the flush inside shutdown() (ms, default 10000). */
  shutdownTimeoutMs?: number;
  /** A writeBatch still pending after this long is reported to diag (ms, default 60000); it is never abandoned. */
  stallReportMs?: number;
  /** How often to look for segments of processes on this host that died since start-up (ms, default 60000). */
  orphanScanMs?: number;
}

/** What the pipeline is doing, for status() and health checks. */
export interface PipelineStatus {
  streamId: string;
  database: 'none' | 'not-connected' | 'connected' | 'failing';
  consecutiveFailures: number;
  lastError: string | null;
  lastErrorAt: string | null;
  lastCommitAt: string | null;
  batchesCommitted: number;
  duplicatesSkipped: number;
  /** Events the database refused for their content, kept in its quarantine (audit_quarantine). */
  eventsQuarantined: number;
  shutDown: boolean;
  spool: SpoolStatus;
}

