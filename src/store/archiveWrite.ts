/**
 * Cold storage (docs/data-lifecycle.md, "Archive"): moves one monthly
 * partition out of audit_log into `<dir>/<schema>.<partition>.ndjson.gz`
 * (one chained row per line, personal data excluded) and its manifest
 * `<…>.manifest.json`. Crash-safe ordering, all inside one transaction that
 * holds the partition against writers:
 *   1. rows -> temp file, fsync, rename, fsync dir; the same for the manifest;
 *   2. list the file (with its SHA-256) in audit_archive, record the chain
 *      links it holds in audit_retention (labelled with the file), keep the
 *      personal data in audit_personal with what erasure needs, DROP;
 *   3. COMMIT.
 * Killed before 3: the partition is still there, whole, and the next run
 * writes the same file again (readers only trust files audit_archive lists).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { ClientBase } from 'pg';
import { quoteIdent } from './identifiers';
import { recordAndDropPartitions } from './retention';
import { readRecords } from './archiveRead';
import { ROW_AS_TEXT } from './verify';

/** Version tag of the file format, in every manifest. */
export const ARCHIVE_FORMAT = 'cvd-activity-archive/1';

/** One run of consecutive seqs of one stream held by an archive file (as in audit_retention). */
export interface ArchiveRun { streamId: string; fromSeq: number; toSeq: number; firstPrevHash: string | null; lastHash: string; rows: number }

/** The manifest beside each archive file. */
export interface ArchiveManifest {
  format: string;
  schema: string;
  partition: string;
  class: string;
  month: string;
  file: string;
  rows: number;
  bytes: number;
  sha256: string;
  firstCreatedAt: string | null;
  lastCreatedAt: string | null;
  streams: ArchiveRun[];
}

/** The partition to archive. */
export interface ArchiveTarget { partition: string; class: string; month: string }

const PAGE = 5000;

/** File names of a partition's archive. */
export function archiveFileNames(schema: string, partition: string, generation = 1): { file: string; manifest: string } {
  const base = `${schema}.${partition}${generation > 1 ? `.${generation}` : ''}`;
  return { file: `${base}.ndjson.gz`, manifest: `${base}.manifest.json` };
}

/**
 * Inside the caller's transaction, holding the partitions lock: writes the
 * partition's archive, lists it, records its links and drops the partition.
 * Returns the events moved.
 */
export async function archiveAndDropPartition(
  client: ClientBase, options: { schema: string; dir: string; target: ArchiveTarget },
): Promise<number> {
  const { schema, dir, target } = options;
  const s = quoteIdent(schema);
  const part = `${s}.${quoteIdent(target.partition)}`;
  // SHARE: readers go on; a late writer of that month waits, fails once the
  // partition is gone, retries from its spool and lands in a new partition of
  // the month, which a later run archives into a second file.
  await client.query(`LOCK TABLE ${part} IN SHARE MODE`);
  await mkdir(dir, { recursive: true });
  const earlier = await client.query(`SELECT count(*)::int AS n FROM ${s}.audit_archive WHERE partition_name = $1`, [target.partition]);
  const names = archiveFileNames(schema, target.partition, earlier.rows[0].n + 1);
  const written = await writeRows(client, part, join(dir, names.file));
  const manifest: ArchiveManifest = { format: ARCHIVE_FORMAT, schema, ...target, file: names.file, ...written };
  await writeDurably(dir, names.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  await client.query(`INSERT INTO ${s}.audit_archive (file, partition_name, month, class, events, bytes, sha256) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [names.file, target.partition, target.month, target.class, written.rows, written.bytes, written.sha256]);
  await client.query(`UPDATE ${s}.audit_personal p SET archived_created_at = l.created_at,
      archived_subjects = ARRAY[l.user_id, CASE WHEN l.resource_type = 'user' THEN l.resource_id END, l.details ->> 'target_user_id']
    FROM ${part} l WHERE p.event_id = l.event_id`);
  const events = await recordAndDropPartitions(client, s, [target.partition], { label: names.file, keepPersonal: true });
  if (events !== written.rows) throw new Error(`archive of ${target.partition}: wrote ${written.rows} rows but ${events} left the table`);
  return events;
}

/** Streams the partition's rows, by stream and seq, into a gzip'd NDJSON file written durably; returns what the manifest says of it. */
async function writeRows(client: ClientBase, part: string, path: string) {
  const tmp = `${path}.tmp`;
  const hash = createHash('sha256');
  let bytes = 0;
  const counter = new Transform({ transform(chunk: Buffer, _enc, done) { hash.update(chunk); bytes += chunk.length; done(null, chunk); } });
  const gzip = createGzip({ level: 9 });
  const finished = pipeline(gzip, counter, createWriteStream(tmp));
  const runs: ArchiveRun[] = [];
  let rows = 0;
  let first: string | null = null;
  let last: string | null = null;
  let after: [string, number] = ['', 0];
  try {
    for (;;) {
      const page = await client.query(`SELECT ${ROW_AS_TEXT}, l.stream_id FROM ${part} l
        WHERE (l.stream_id, l.seq) > ($1, $2) ORDER BY l.stream_id, l.seq LIMIT ${PAGE}`, after);
      for (const r of page.rows) {
        const record = toArchiveRecord(r);
        if (!gzip.write(`${JSON.stringify(record)}\n`)) await new Promise((ok) => gzip.once('drain', ok));
        const run = runs[runs.length - 1];
        if (run && run.streamId === record.stream_id && run.toSeq + 1 === record.seq) {
          run.toSeq = record.seq; run.lastHash = record.hash; run.rows += 1;
        } else {
          runs.push({ streamId: record.stream_id, fromSeq: record.seq, toSeq: record.seq, firstPrevHash: record.prev_hash, lastHash: record.hash, rows: 1 });
        }
        if (first === null || record.created_at < first) first = record.created_at;
        if (last === null || record.created_at > last) last = record.created_at;
        rows += 1;
      }
      if (page.rows.length < PAGE) break;
      const end = page.rows[page.rows.length - 1];
      after = [end.stream_id, Number(end.seq)];
    }
  } catch (err) {
    // Leave no open stream behind: the temporary file is rewritten by the next run.
    gzip.destroy(err as Error);
    await finished.catch(() => {});
    throw err;
  }
  gzip.end();
  await finished;
  await fsyncFile(tmp);
  await rename(tmp, path);
  await fsyncFile(join(path, '..'));
  return { rows, bytes, sha256: hash.digest('hex'), firstCreatedAt: first, lastCreatedAt: last, streams: runs };
}

/** One archived row: the chained columns; SQL NULL json columns are left out (a JSON `null` value stays). */
export interface ArchiveRecord extends Record<string, unknown> {
  event_id: string; created_at: string; stream_id: string; seq: number; prev_hash: string | null; hash: string;
}

function toArchiveRecord(r: Record<string, any>): ArchiveRecord {
  const { details, old_value: oldValue, new_value: newValue, ...rest } = r;
  return {
    ...rest,
    details: JSON.parse(details),
    ...(oldValue === null ? {} : { old_value: JSON.parse(oldValue) }),
    ...(newValue === null ? {} : { new_value: JSON.parse(newValue) }),
    affected_records: r.affected_records === null ? null : Number(r.affected_records),
    schema_valid: r.schema_valid === 'true',
    schema_errors: JSON.parse(r.schema_errors),
    seq: Number(r.seq),
  } as unknown as ArchiveRecord;
}

async function writeDurably(dir: string, name: string, text: string): Promise<void> {
  const tmp = join(dir, `${name}.tmp`);
  await writeFile(tmp, text);
  await fsyncFile(tmp);
  await rename(tmp, join(dir, name));
  await fsyncFile(dir);
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Deletes an archive file whose class's retention has passed, with the
 * personal rows of its events, and lists it in audit_archive_removed. The file
 * goes first: killed in between, the next run finds it listed still and
 * finishes (a missing file is fine then).
 */
export async function removeArchiveFile(client: ClientBase, options: { schema: string; dir: string; file: string }): Promise<number> {
  const s = quoteIdent(options.schema);
  const path = join(options.dir, options.file);
  const ids: string[] = [];
  try {
    for await (const r of readRecords(path)) ids.push(r.event_id);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await client.query('BEGIN');
  try {
    const listed = await client.query(`INSERT INTO ${s}.audit_archive_removed (file) VALUES ($1) ON CONFLICT DO NOTHING`, [options.file]);
    if (ids.length > 0) await client.query(`DELETE FROM ${s}.audit_personal WHERE event_id = ANY($1::uuid[])`, [ids]);
    for (const name of [options.file, options.file.replace(/\.ndjson\.gz$/, '.manifest.json')]) {
      await unlink(join(options.dir, name)).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err; });
    }
    await client.query('COMMIT');
    return listed.rowCount === 0 ? 0 : ids.length;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
