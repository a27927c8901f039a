/** The CLI's aligned text tables (audit query, alerts check, spool status), written once. */

/** One line per row, every column padded to its widest cell, columns two spaces apart, no trailing blanks. */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const columns = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, c) => Math.max(0, ...rows.map((r) => r[c]?.length ?? 0)));
  return rows.map((r) => r.map((value, c) => (c === r.length - 1 ? value : value.padEnd(widths[c]!))).join('  ').trimEnd());
}
