/**
 * Public types of audit events. An `AuditEvent` is what `audit.record()` hands
 * to the `AuditSink` after validation, redaction and enrichment: plain JSON
 * (it is spooled to disk as one JSON line), self-contained and immutable.
 */

/** Security level of an action, as in the review's audit table. */
export type AuditSeverity = 'low' | 'medium' | 'high' | 'critical';

/** Whether the operation the event describes succeeded. */
export type AuditOutcome = 'success' | 'failure';

/** Who did it. `system` for jobs (`actor: { id: 'system:dex-import' }`), `anonymous` when nobody is known. */
export interface AuditActor {
  id: string | null;
  roles: string[];
  sessionId: string | null;
  type: 'user' | 'system' | 'anonymous';
}

/**
 * Personal data of an event, kept apart from the chained row so it can be
 * anonymized or erased later: the client's address, its user agent, and
 * detail fields the catalog marks personal (user names, e-mail addresses),
 * which are moved out of `details` into `fields`.
 */
export interface AuditPersonalData {
  clientAddress: string | null;
  userAgent: string | null;
  fields: Record<string, string>;
}

/** One accepted audit event, as stored. */
export interface AuditEvent {
  /** Format version of this record. */
  v: 1;
  /** UUIDv7: unique, time-ordered; the idempotency key of the store. */
  eventId: string;
  /** When it happened (ISO 8601, ms precision, UTC). */
  occurredAt: string;
  action: string;
  category: string;
  severity: AuditSeverity;
  outcome: AuditOutcome;
  /** Why it failed, for failures. */
  reason: string | null;
  actor: AuditActor;
  resourceType: string | null;
  resourceId: string | null;
  /** JSON-safe, redacted, size-capped details (personal fields moved to `personal.fields`). */
  details: Record<string, unknown>;
  oldValue: unknown;
  newValue: unknown;
  affectedRecords: number | null;
  personal: AuditPersonalData;
  /** W3C trace id / span id of the active context, if any. */
  traceId: string | null;
  spanId: string | null;
  serviceName: string;
  /** False when the action is unknown or details broke the schema (lenient mode). */
  schemaValid: boolean;
  /** ajv errors, `"<json path> <message>"`, when `schemaValid` is false. */
  schemaErrors: string[];
}

/** Receives every accepted event. `enqueue` is synchronous and must not throw for I/O reasons it can report via diag. */
export interface AuditSink {
  enqueue(event: AuditEvent): void;
  /** Resolves when everything enqueued so far is durably stored. */
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}
