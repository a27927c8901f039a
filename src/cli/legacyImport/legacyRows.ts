/**
 * Rows of a legacy export file (the old `audit_log` / `user_activity_log`
 * tables), one at a time with their line number and raw text: NDJSON (one
 * JSON object per line) or CSV with a header row (csv-parse: quoted fields
 * may span lines). A line that cannot be read is handed on as an error with
 * its line number, and reading goes on.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';

/** File formats `audit import` reads. */
export type LegacyFormat = 'ndjson' | 'csv';

/** One row read, or why the line could not be. */
export type LegacyItem =
  | { line: number; row: Record<string, unknown>; raw: string }
  | { line: number; error: string };

/** Reads `path` row by row, in file order. */
export function readLegacyRows(path: string, format: LegacyFormat): AsyncGenerator<LegacyItem> {
  return format === 'csv' ? csvRows(path) : ndjsonRows(path);
}

async function* ndjsonRows(path: string): AsyncGenerator<LegacyItem> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line += 1;
    const raw = line === 1 ? text.replace(/^\uFEFF/, '') : text;
    if (raw.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(raw);
    } catch (err) {
      yield { line, error: `not JSON (${(err as Error).message})` };
      continue;
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) yield { line, error: 'not a JSON object' };
    else yield { line, row: row as Record<string, unknown>, raw };
  }
}

async function* csvRows(path: string): AsyncGenerator<LegacyItem> {
  const skipped: LegacyItem[] = [];
  const parser = createReadStream(path).pipe(parse({
    columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
    bom: true,
    raw: true,
    info: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (err) => {
      if (err) skipped.push({ line: Number((err as { lines?: number }).lines ?? 0), error: err.message.replace(/^Invalid Record Length: /, 'wrong number of columns: ') });
      return undefined;
    },
  }));
  for await (const rec of parser as AsyncIterable<{ record: Record<string, string>; raw: string; info: { lines: number } }>) {
    yield* skipped.splice(0);
    // info.lines is the line the record ends on; a quoted field may have spanned several.
    const line = rec.info.lines - (rec.raw.replace(/\r?\n$/, '').match(/\n/g)?.length ?? 0);
    const row: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rec.record)) if (v !== '') row[k] = v;
    yield { line, row, raw: rec.raw.replace(/\r?\n$/, '') };
  }
  yield* skipped.splice(0);
}
