/**
 * Loud, rate-limited reports of audit events the spool refused (full, or a
 * disk error): the first refusal at once, then at most one report every 10 s
 * with the count since the last one, so a flood of refusals does not flood
 * the app's log. Each refused event also made record() throw.
 */
import { diag } from '@opentelemetry/api';
import { SpoolFullError } from './errors';
import type { SpoolWriteError } from './errors';

const REPORT_INTERVAL_MS = 10_000;

/** Counts and reports the refusals of one spool. */
export class RefusalReporter {
  /** Events refused because the spool was full, since it opened. */
  refusedFull = 0;
  private lastReport = 0;
  private sinceReport = 0;

  /** Counts the refusal `err` and reports it if a report is due; returns `err` (to throw). */
  refused<E extends SpoolFullError | SpoolWriteError>(err: E): E {
    if (err instanceof SpoolFullError) this.refusedFull += 1;
    this.sinceReport += 1;
    const now = Date.now();
    if (now - this.lastReport >= REPORT_INTERVAL_MS) {
      const full = err instanceof SpoolFullError;
      diag.error(
        `cvd-activity: ${full ? 'AUDIT SPOOL FULL' : 'AUDIT SPOOL WRITE FAILED'}: ${err.message}; ${this.sinceReport} audit event(s) refused ` +
          `(record() threw ${err.name}) since the last report. ` +
          (full
            ? 'Postgres is not taking the backlog: check the database, or raise pipeline.spoolMaxBytes.'
            : 'Check the disk of pipeline.spoolDir.'),
      );
      this.lastReport = now;
      this.sinceReport = 0;
    }
    return err;
  }
}
