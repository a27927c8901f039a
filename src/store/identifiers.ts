/** Safe SQL identifiers and literals for the few names (schema, roles) that cannot be query parameters. */

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Default schema of the audit tables. */
export const DEFAULT_SCHEMA = 'cvd_activity';

/** Throws a clear error unless `name` is a plain identifier (letters, digits, underscore; max 63). */
export function checkName(kind: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new TypeError(`${kind} must be a plain SQL identifier (letters, digits, _; at most 63 characters, not starting with a digit), got ${JSON.stringify(name)}`);
  }
  return name;
}

/** Double-quoted identifier, safe for any string. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Single-quoted literal, safe for any string (standard_conforming_strings is on since PostgreSQL 9.1). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
