/**
 * Types of the Postgres store. `store/` imports nothing internal (it must load
 * without OpenTelemetry, for a fast CLI), so it states the shape of the events
 * it stores itself; `AuditEvent` from `audit/types.ts` is assignable to
 * `AuditRecord` and pipeline/ checks that at compile time.
 */
import type { StoreError } from './errors';

export interface AuditRecord {
  v: 1;
  eventId: string;
  occurredAt: string;
  action: string;
  category: string;
  severity: string;
  outcome: string;
  reason: string | null;
  actor: { id: string | null; roles: string[]; sessionId: string | null; type: string };
  resourceType: string | null;
  resourceId: string | null;
  details: Record<string, unknown>;
  oldValue: unknown;
  newValue: unknown;
  affectedRecords: number | null;
  personal: { clientAddress: string | null; userAgent: string | null; fields: Record<string, string> };
  traceId: string | null;
  spanId: string | null;
  serviceName: string;
  schemaValid: boolean;
  schemaErrors: string[];
}

/** What one committed batch did. */
export interface BatchResult {
  /** Rows inserted (and chained) by this transaction. */
  inserted: number;
  /** Events skipped because their event id was already stored (replay). */
  duplicates: number;
}

/** Writes batches of events to `audit_log`, one transaction each, on one hash-chain stream. */
export interface AuditWriter {
  /** Stream this writer chains onto (one per writing process). */
  readonly streamId: string;
  /** Atomically stores the events not already stored, in order. Throws on failure; nothing is then committed. */
  writeBatch(records: readonly AuditRecord[]): Promise<BatchResult>;
  /**
   * Optional: does the per-event JavaScript work (canonical JSON, HMAC) of a
   * batch ahead of time, e.g. for the next batch while this one is in the
   * database; `writeBatch` then reuses it. Records must not change afterwards.
   */
  prepare?(records: readonly AuditRecord[]): void;
  /**
   * Optional: true when `writeBatch` may be called again before the previous
   * call settled, because the writer commits batches in call order and fails a
   * batch whose predecessor failed. The pipeline then keeps two batches in
   * flight; otherwise it calls writeBatch strictly one at a time.
   */
  readonly overlapsBatches?: boolean;
  /**
   * Optional: keeps one event the database refused for its content (a
   * non-retriable StoreError) apart from the chain, so the stream flows on.
   * Without it such an event is retried until someone fixes the database.
   */
  quarantine?(record: AuditRecord, error: StoreError): Promise<void>;
  close(): Promise<void>;
}

/** Options of `createPgAuditWriter()`. */
export interface PgAuditWriterOptions {
  /** A pool to take connections from; the writer never ends it. */
  pool?: import('pg').Pool;
  /** Or a postgres:// URL: the writer opens (and on close() ends) a small pool of its own. Without either, PG* variables apply. */
  connectionString?: string;
  /** Schema of the audit tables (default `cvd_activity`). */
  schema?: string;
  /** This writer's hash-chain stream; writers sharing a stream id are serialized by its head lock. */
  streamId: string;
  /** Key of the HMAC over personal data that the chain includes (keep it secret and stable; see docs/audit-trail.md). */
  piiKey: Buffer;
  /** Recorded on the stream row (default os.hostname()). */
  host?: string;
  /** Recorded on the stream row (default process.pid). */
  pid?: number;
  /** Runs each database interaction; the pipeline passes `(work) => context.with(suppressTracing(context.active()), work)` so the writer's traffic creates no spans. */
  runQuietly?: <T>(work: () => Promise<T>) => Promise<T>;
  /** Errors of idle pooled connections (server restarts); never thrown. Default: ignored. */
  onBackgroundError?: (error: Error) => void;
}
