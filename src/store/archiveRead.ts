/**
 * Reading the archive written by archiveWrite.ts: `verifyArchive` re-checks,
 * for every file audit_archive lists, its SHA-256 (against the database's copy
 * and the manifest), every row's hash, and that its rows chain exactly through
 * the links audit_retention recorded for it, which verifyChain bridges in the
 * database: together the whole chain, archive and hot rows, is verified.
 * `queryArchive` reads archived rows for `audit query --archive`. Only files
 * audit_archive lists are read: a file left by a crashed run is ignored.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { ClientBase } from 'pg';
import { canonicalJson, chainHash } from './canonicalEncoding';
import type { ChainRow } from './canonicalEncoding';
import { checkName, DEFAULT_SCHEMA, quoteIdent } from './identifiers';
import type { ArchiveManifest, ArchiveRecord } from './archiveWrite';

/** An archive file listed in audit_archive (and not removed). */
export interface ArchiveFile { file: string; partition: string; month: string; class: string; events: number; sha256: string }

/** The verdict on one archive file. */
export interface ArchiveFileVerdict { file: string; rows: number; problem: string | null }

/** The result of `verifyArchive()`. */
export interface ArchiveVerifyResult { ok: boolean; rowsChecked: number; files: ArchiveFileVerdict[] }

interface Run { streamId: string; fromSeq: number; toSeq: number; fromPrevHash: string | null; toHash: string; events: number }

/** Files of the archive, as the database lists them, without those removed by retention. */
export async function listArchiveFiles(client: ClientBase, schema = DEFAULT_SCHEMA): Promise<ArchiveFile[]> {
  const s = quoteIdent(checkName('schema', schema));
  const { rows } = await client.query(`SELECT a.file, a.partition_name, a.month, a.class, a.events::int AS events, a.sha256 FROM ${s}.audit_archive a
    WHERE NOT EXISTS (SELECT FROM ${s}.audit_archive_removed r WHERE r.file = a.file) ORDER BY a.month, a.file`);
  return rows.map((r) => ({ file: r.file, partition: r.partition_name, month: r.month, class: r.class, events: r.events, sha256: r.sha256 }));
}

/** Verifies every archive file in `dir` against the database; never throws for a bad file, only for database errors. */
export async function verifyArchive(client: ClientBase, options: { schema?: string; dir: string }): Promise<ArchiveVerifyResult> {
  const schema = checkName('schema', options.schema ?? DEFAULT_SCHEMA);
  const files = await listArchiveFiles(client, schema);
  const { rows } = await client.query(`SELECT partition_name, stream_id, from_seq::text, to_seq::text, from_prev_hash, to_hash, events::text
    FROM ${quoteIdent(schema)}.audit_retention r WHERE r.partition_name = ANY($1) ORDER BY r.stream_id, r.from_seq`, [files.map((f) => f.file)]);
  const verdicts: ArchiveFileVerdict[] = [];
  for (const f of files) {
    const runs: Run[] = rows.filter((r) => r.partition_name === f.file).map((r) => ({
      streamId: r.stream_id, fromSeq: Number(r.from_seq), toSeq: Number(r.to_seq), fromPrevHash: r.from_prev_hash, toHash: r.to_hash, events: Number(r.events),
    }));
    let problem: string | null;
    let checked = 0;
    try {
      problem = await checkIntegrity(options.dir, f, runs);
      if (problem === null) ({ problem, checked } = await checkRows(join(options.dir, f.file), runs));
      if (problem === null && checked !== f.events) problem = `holds ${checked} rows, the database says ${f.events}`;
    } catch (err) {
      problem = `unreadable: ${(err as Error).message}`;
    }
    verdicts.push({ file: f.file, rows: checked, problem: problem && `archive file ${f.file}: ${problem}` });
  }
  return { ok: verdicts.every((v) => v.problem === null), rowsChecked: verdicts.reduce((n, v) => n + v.rows, 0), files: verdicts };
}

/** The file's SHA-256 against the database and the manifest; the manifest's runs against audit_retention. */
async function checkIntegrity(dir: string, f: ArchiveFile, runs: Run[]): Promise<string | null> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(join(dir, f.file))) hash.update(chunk as Buffer);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `unreadable: ${(err as Error).message}`;
  }
  if (hash.digest('hex') !== f.sha256) return 'was altered: its SHA-256 differs from the one recorded when it was archived';
  let manifest: ArchiveManifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, f.file.replace(/\.ndjson\.gz$/, '.manifest.json')), 'utf8'));
  } catch (err) {
    return `its manifest is missing or unreadable (${(err as Error).message})`;
  }
  if (manifest.sha256 !== f.sha256 || manifest.rows !== f.events || manifest.file !== f.file) return 'its manifest does not match the file (SHA-256, rows or name)';
  const listed = manifest.streams.map((m) => [m.streamId, m.fromSeq, m.toSeq, m.firstPrevHash, m.lastHash, m.rows].join('|')).sort();
  const recorded = runs.map((r) => [r.streamId, r.fromSeq, r.toSeq, r.fromPrevHash, r.toHash, r.events].join('|')).sort();
  if (listed.join('\n') !== recorded.join('\n')) return 'its manifest\'s stream runs differ from the chain links recorded in audit_retention';
  return null;
}

/** Every row's hash, chained from each recorded run's first link to its last. */
async function checkRows(path: string, runs: Run[]): Promise<{ problem: string | null; checked: number }> {
  const byStart = new Map(runs.map((r) => [`${r.streamId}|${r.fromSeq}`, r]));
  let run: Run | undefined;
  let prev: string | null = null;
  let lastSeq = 0;
  let checked = 0;
  const endsEarly = (r: Run) => `stream ${r.streamId}: the run ${r.fromSeq}..${r.toSeq} ends before its recorded last link`;
  for await (const record of readRecords(path)) {
    const { stream_id: streamId, seq } = record;
    if (!run || run.streamId !== streamId || seq !== lastSeq + 1 || lastSeq === run.toSeq) {
      if (run && (lastSeq !== run.toSeq || prev !== run.toHash)) return { problem: endsEarly(run), checked };
      run = byStart.get(`${streamId}|${seq}`);
      if (!run) return { problem: `stream ${streamId}: seq ${seq} does not start a run recorded in audit_retention`, checked };
      byStart.delete(`${streamId}|${seq}`);
      prev = run.fromPrevHash;
    }
    if (record.prev_hash !== prev) return { problem: `stream ${streamId}: event ${record.event_id} (seq ${seq}) does not link to the event before it`, checked };
    if (chainHash({ streamId, seq, prevHash: prev }, toChainRow(record)) !== record.hash) {
      return { problem: `stream ${streamId}: event ${record.event_id} (seq ${seq}) was altered: its hash does not match its content`, checked };
    }
    prev = record.hash;
    lastSeq = seq;
    checked += 1;
  }
  if (run && (lastSeq !== run.toSeq || prev !== run.toHash)) return { problem: endsEarly(run), checked };
  if (byStart.size > 0) return { problem: `${byStart.size} run(s) recorded in audit_retention are not in the file`, checked };
  return { problem: null, checked };
}

/** The rows of one archive file, in file order. */
export async function* readRecords(path: string): AsyncGenerator<ArchiveRecord> {
  const lines = createInterface({ input: createReadStream(path).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of lines) if (line !== '') yield JSON.parse(line) as ArchiveRecord;
}

const jsonOrNull = (r: ArchiveRecord, key: string): string | null => (key in r ? canonicalJson(r[key]) : null);

/** An archived row in the shape that was hashed (as verify.ts reads a stored one). */
function toChainRow(r: ArchiveRecord): ChainRow {
  const v = r as Record<string, any>;
  return {
    eventId: r.event_id, createdAt: r.created_at, recordedAt: v.recorded_at,
    action: v.action, category: v.category, severity: v.severity, outcome: v.outcome, reason: v.reason,
    actorType: v.actor_type, userId: v.user_id, userRole: v.user_role, sessionId: v.session_id,
    resourceType: v.resource_type, resourceId: v.resource_id,
    details: canonicalJson(v.details), oldValue: jsonOrNull(r, 'old_value'), newValue: jsonOrNull(r, 'new_value'),
    affectedRecords: v.affected_records, traceId: v.trace_id, spanId: v.span_id, serviceName: v.service_name,
    schemaValid: v.schema_valid, schemaErrors: v.schema_errors, piiHmac: v.pii_hmac,
  };
}
