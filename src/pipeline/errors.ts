/** Typed errors of the audit pipeline, each with a stable `code`. */

/** The spool reached `pipeline.spoolMaxBytes`: the event was NOT accepted (record() throws it). */
export class SpoolFullError extends Error {
  readonly code = 'CVD_AUDIT_SPOOL_FULL';
  constructor(
    readonly spoolDir: string,
    readonly usedBytes: number,
    readonly maxBytes: number,
  ) {
    super(
      `audit spool ${spoolDir} is full (${usedBytes} of pipeline.spoolMaxBytes=${maxBytes} bytes used, ` +
        'Postgres has not taken the backlog): the audit event was not accepted',
    );
    this.name = 'SpoolFullError';
  }
}

/** Appending to the spool failed (disk error): the event was NOT accepted. */
export class SpoolWriteError extends Error {
  readonly code = 'CVD_AUDIT_SPOOL_WRITE';
  constructor(path: string, cause: unknown) {
    super(`cannot append the audit event to spool segment ${path}: ${(cause as Error)?.message ?? cause}`, { cause });
    this.name = 'SpoolWriteError';
  }
}

/** The spool folder cannot be used at start-up. */
export class SpoolOpenError extends Error {
  readonly code = 'CVD_AUDIT_SPOOL_OPEN';
  constructor(dir: string, cause: unknown) {
    super(`cannot open the audit spool in pipeline.spoolDir=${dir}: ${(cause as Error)?.message ?? cause}`, { cause });
    this.name = 'SpoolOpenError';
  }
}

/** record() after the pipeline was shut down. */
export class PipelineShutdownError extends Error {
  readonly code = 'CVD_AUDIT_PIPELINE_SHUT_DOWN';
  constructor() {
    super('cannot record an audit event after the audit pipeline was shut down');
    this.name = 'PipelineShutdownError';
  }
}

/** forceFlush() ran out of time; the events stay in the spool and are written later. */
export class FlushTimeoutError extends Error {
  readonly code = 'CVD_AUDIT_FLUSH_TIMEOUT';
  constructor(timeoutMs: number, uncommitted: number, lastError: string | null) {
    super(
      `audit pipeline: ${uncommitted} event(s) not committed to Postgres within ${timeoutMs} ms` +
        `${lastError ? ` (last error: ${lastError})` : ''}; they stay in the spool and are written when Postgres accepts them`,
    );
    this.name = 'FlushTimeoutError';
  }
}
