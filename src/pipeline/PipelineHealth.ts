/**
 * The pipeline's failure and commit bookkeeping: what status() reports, when
 * a failure is reported loudly (the first of a run, then at most every 30 s,
 * so an outage does not flood the app's log) and how long to back off
 * (exponential, full jitter: processes that failed together do not retry together).
 */
import { diag } from '@opentelemetry/api';
import type { PipelineStatus, SpoolStatus } from './types';

const FAILURE_REPORT_INTERVAL_MS = 30_000;

/** Counters and last outcomes of one pipeline. */
export class PipelineHealth {
  /** Failed attempts since the last commit. */
  failures = 0;
  lastError: string | null = null;
  lastErrorAt: string | null = null;
  lastCommitAt: string | null = null;
  batchesCommitted = 0;
  duplicatesSkipped = 0;
  /** Events the database refused for their content, kept in its quarantine. */
  eventsQuarantined = 0;
  private lastFailureReport = 0;

  constructor(private readonly retry: { baseDelayMs: number; maxDelayMs: number }) {}

  /** Counts a committed batch; says so once when it ends a run of failures. */
  committed(): void {
    this.batchesCommitted += 1;
    this.lastCommitAt = new Date().toISOString();
    if (this.failures > 0) {
      diag.info(`cvd-activity: Postgres takes audit events again after ${this.failures} failed attempt(s); the backlog drains in order`);
      this.failures = 0;
    }
  }

  /** The counters status() reports. */
  counters(): Omit<PipelineStatus, 'streamId' | 'database' | 'shutDown' | 'spool'> {
    return {
      consecutiveFailures: this.failures, lastError: this.lastError, lastErrorAt: this.lastErrorAt, lastCommitAt: this.lastCommitAt,
      batchesCommitted: this.batchesCommitted, duplicatesSkipped: this.duplicatesSkipped, eventsQuarantined: this.eventsQuarantined,
    };
  }

  /** Counts and reports an event kept in the quarantine instead of the trail. */
  quarantined(event: { eventId: string; action: string }, refusal: Error): void {
    this.eventsQuarantined += 1;
    diag.error(
      `cvd-activity: Postgres refused audit event ${event.eventId} (${event.action}) for its content: ${refusal.message}. ` +
        'It is kept in the table audit_quarantine (see `cvd-activity audit verify`); the other events are stored.',
    );
  }

  /**
   * Counts a failed attempt (a batch of `batchLength` events, 0: reading the
   * spool), reports it, and returns how long to wait before the next attempt (ms).
   */
  failed(err: unknown, batchLength: number, spool: () => SpoolStatus): number {
    this.failures += 1;
    this.lastError = (err as Error)?.message ?? String(err);
    this.lastErrorAt = new Date().toISOString();
    const now = Date.now();
    if (this.failures === 1 || now - this.lastFailureReport >= FAILURE_REPORT_INTERVAL_MS) {
      const s = spool();
      diag.error(
        `cvd-activity: ${batchLength > 0 ? `writing ${batchLength} audit event(s) to Postgres` : 'reading the audit spool'} failed (attempt ${this.failures}): ${this.lastError}. ` +
          `They are safe in the spool (${s.usedBytes} bytes in ${s.dir}); retrying with backoff.`,
      );
      this.lastFailureReport = now;
    } else {
      diag.debug(`cvd-activity: audit batch attempt ${this.failures} failed: ${this.lastError}`);
    }
    const cap = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** Math.min(this.failures - 1, 30));
    return Math.random() * cap;
  }
}
