/** Errors the CLI reports as one line on stderr, with a documented exit code. */

/** Exit codes of `cvd-activity` (README.md, "The `cvd-activity` command"; the top-level --help repeats them). */
export const EXIT = {
  /** Done; for checks: everything intact / no alert. */
  OK: 0,
  /** A check failed: the chain is broken, an alert fires. */
  FAILED: 1,
  /** Bad flags or values. */
  USAGE: 2,
  /** PostgreSQL unreachable, schema missing (run `cvd-activity migrate`), or permission denied. */
  DATABASE: 3,
  /** Anything unexpected (a bug: please report it with CVD_ACTIVITY_DEBUG=1 output). */
  INTERNAL: 4,
} as const;

/** An error with the exit code the CLI ends with. */
export class CliError extends Error {
  constructor(readonly exitCode: number, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** A usage error (exit 2) naming the flag, the value and what is allowed. */
export function usageError(flag: string, value: unknown, allowed: string): CliError {
  return new CliError(EXIT.USAGE, `${flag}: ${JSON.stringify(value)} is not valid; ${allowed}`);
}
