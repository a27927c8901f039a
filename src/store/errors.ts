/**
 * Typed errors of the store. Server errors keep their SQLSTATE in `sqlState`;
 * each class has a stable `code`, and `retriable` tells the pipeline whether
 * trying the same batch again later can succeed (keep it spooled) or not.
 */

/** Base class of every error the store throws. */
export class StoreError extends Error {
  /** Stable machine-readable code. */
  readonly code: string = 'CVD_STORE_ERROR';
  /** True when the same operation may succeed later (server down, lock timeout, not migrated yet). */
  readonly retriable: boolean = true;
  /** SQLSTATE of the server error, when there was one. */
  readonly sqlState: string | undefined;

  constructor(message: string, options: { cause?: unknown; sqlState?: string } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.sqlState = options.sqlState;
  }
}

/** PostgreSQL cannot be reached, or the connection broke, or the server is shutting down or overloaded. */
export class StoreUnavailableError extends StoreError {
  override readonly code = 'CVD_STORE_UNAVAILABLE';
}

/** The schema or one of its tables/functions does not exist: `cvd-activity migrate` has not run. */
export class StoreSchemaMissingError extends StoreError {
  override readonly code = 'CVD_STORE_SCHEMA_MISSING';
}

/** The database user lacks a privilege it needs (see the roles in docs/audit-trail.md). */
export class StorePermissionError extends StoreError {
  override readonly code = 'CVD_STORE_PERMISSION_DENIED';
}

/** The server rejected the data itself; the same batch will fail again. */
export class StoreDataError extends StoreError {
  override readonly code = 'CVD_STORE_DATA';
  override readonly retriable = false;
}

/** Something tried to change or remove audit rows (SQLSTATE CVA01 from the append-only triggers). */
export class AppendOnlyViolationError extends StoreError {
  override readonly code = 'CVD_AUDIT_APPEND_ONLY';
  override readonly retriable = false;
}

/** SQLSTATE raised by the append-only triggers. */
export const APPEND_ONLY_SQLSTATE = 'CVA01';

const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '53400', '40001', '40P01', '55P03', '57014', '58000', '58030', 'XX000']);
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED',
]);
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|not queryable|Connection ended|the database system is (starting up|shutting down)|Query read timeout/i;

/** Maps any error from pg (or ours) to a StoreError subclass, keeping the original as `cause`. */
export function toStoreError(err: unknown, doing: string): StoreError {
  if (err instanceof StoreError) return err;
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' && e.message ? e.message : String(err);
  const text = `${doing}: ${message}`;
  const sqlState = code && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  if (sqlState === APPEND_ONLY_SQLSTATE) return new AppendOnlyViolationError(message, { cause: err, sqlState });
  if (sqlState === '3F000' || sqlState === '42P01' || sqlState === '42883') return new StoreSchemaMissingError(text, { cause: err, sqlState });
  if (sqlState === '42501') return new StorePermissionError(text, { cause: err, sqlState });
  if (sqlState?.startsWith('08') || (sqlState && UNAVAILABLE_SQLSTATES.has(sqlState))) {
    return new StoreUnavailableError(text, { cause: err, sqlState });
  }
  // 22 data exception, 23 constraint violation, 54000 a value too large for an index: the content, not the server.
  if (sqlState?.startsWith('22') || sqlState?.startsWith('23') || sqlState === '54000') return new StoreDataError(text, { cause: err, sqlState });
  if ((code && UNAVAILABLE_NODE_CODES.has(code)) || UNAVAILABLE_MESSAGES.test(message)) {
    return new StoreUnavailableError(text, { cause: err });
  }
  return new StoreError(text, { cause: err, ...(sqlState ? { sqlState } : {}) });
}
