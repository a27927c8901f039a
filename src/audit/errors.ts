/**
 * Errors `audit` throws at its caller. Each has a stable `code` so apps and
 * tests can tell them apart without parsing messages.
 */

/** One broken rule: where (JSON path inside the call), which rule, and ajv's message. */
export interface AuditFieldError {
  /** JSON pointer into the record() fields, e.g. `/details/new_price`. */
  path: string;
  /** The JSON Schema keyword broken (`required`, `type`, `additionalProperties`, …). */
  rule: string;
  message: string;
}

/** Unknown action or fields that break the action's schema (strict mode). */
export class AuditValidationError extends Error {
  /** `ERR_AUDIT_UNKNOWN_ACTION` or `ERR_AUDIT_INVALID_EVENT`. */
  readonly code: 'ERR_AUDIT_UNKNOWN_ACTION' | 'ERR_AUDIT_INVALID_EVENT';
  readonly action: string;
  readonly errors: readonly AuditFieldError[];

  constructor(code: AuditValidationError['code'], action: string, errors: readonly AuditFieldError[]) {
    super(`audit.record('${action}'): ${errors.map(formatFieldError).join('; ')}`);
    this.name = 'AuditValidationError';
    this.code = code;
    this.action = action;
    this.errors = errors;
  }
}

/** A bad `audit.defineAction()` definition, or a name already taken. */
export class AuditDefinitionError extends Error {
  /** `ERR_AUDIT_DUPLICATE_ACTION` or `ERR_AUDIT_INVALID_DEFINITION`. */
  readonly code: 'ERR_AUDIT_DUPLICATE_ACTION' | 'ERR_AUDIT_INVALID_DEFINITION';

  constructor(code: AuditDefinitionError['code'], message: string) {
    super(message);
    this.name = 'AuditDefinitionError';
    this.code = code;
  }
}

/** `record()` after the recorder was shut down. */
export class AuditShutdownError extends Error {
  readonly code = 'ERR_AUDIT_SHUTDOWN';

  constructor(action: string) {
    super(`audit.record('${action}'): cannot record after shutdown`);
    this.name = 'AuditShutdownError';
  }
}

/**
 * `record()` with no recorder installed: neither the register flag nor start()
 * ran in this process, so the event could not be put on disk. An id is only
 * ever returned for an event that is; this one was not recorded.
 */
export class AuditNotStartedError extends Error {
  readonly code = 'ERR_AUDIT_NOT_STARTED';

  constructor(action: string) {
    super(
      `audit.record('${action}'): cvd-activity is not started, so the event was not recorded; ` +
      'run the app with `node --require cvd-activity/register` (ESM: `--import`) or call start() before recording',
    );
    this.name = 'AuditNotStartedError';
  }
}

/** `"<path> <message> (<rule>)"`, the form kept in `schemaErrors`. */
export function formatFieldError(e: AuditFieldError): string {
  return `${e.path || '/'} ${e.message} (${e.rule})`;
}
