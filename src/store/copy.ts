/** Encoding of rows in COPY's text format (tab-separated, `\N` for NULL, backslash escapes). */

const SPECIAL = /[\\\n\r\t]/g;
const HAS_SPECIAL = /[\\\n\r\t]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One field: NULL, or the value with COPY's escapes. */
export function copyField(value: string | number | boolean | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 't' : 'f';
  return HAS_SPECIAL.test(value) ? value.replace(SPECIAL, (c) => ESCAPES[c]!) : value;
}

/** A text[] literal (every element quoted), escaped for COPY. */
export function copyTextArray(values: readonly string[]): string {
  if (values.length === 0) return '{}';
  return copyField(`{${values.map((v) => `"${v.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`);
}
