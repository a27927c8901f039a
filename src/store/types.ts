/**
 * Types of the Postgres store. `store/` imports nothing internal (it must load
 * without OpenTelemetry, for a fast CLI), so it states the shape of the events
 * it stores itself; `AuditEvent` from `audit/types.ts` is assignable to
 * `AuditRecord` and pipeline/ checks that at compile time.
 */

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
  close(): Promise<void>;
}
