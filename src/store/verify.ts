/**
 * Verification of every hash chain: walks each stream in seq order (a page at
 * a time, memory bounded) inside one snapshot, checks continuity from seq 1
 * (bridging runs removed by retention), recomputes each hash, and compares the
 * chain's end with the head stored in audit_streams, which detects a cut tail.
 */
import type { ClientBase } from 'pg';
import { toStoreError } from './errors';
import { canonicalJson, chainHash, PiiHasher } from './canonicalEncoding';
import type { ChainRow } from './canonicalEncoding';
import { checkName, DEFAULT_SCHEMA, quoteIdent } from './identifiers';

/** What broke a chain first. */
export type ChainProblemKind = 'hash-mismatch' | 'prev-hash-mismatch' | 'gap' | 'duplicate-seq' | 'head-mismatch' | 'missing-head' | 'retention-mismatch' | 'pii-mismatch';

/** The first broken link of one stream. */
export interface ChainProblem {
  kind: ChainProblemKind;
  /** Seq of the event named, if any. */
  seq: number | null;
  /** The event where the break shows (for a gap: the event after it; for a cut tail: the last intact one). */
  eventId: string | null;
  /** One sentence for people. */
  message: string;
}

/** The result for one stream. */
export interface StreamVerdict {
  streamId: string;
  /** Rows of this stream checked. */
  rows: number;
  /** Head seq stored in audit_streams (null when the stream has no head row). */
  headSeq: number | null;
  problem: ChainProblem | null;
}

/** The result of `verifyChain()`. */
export interface VerifyResult {
  ok: boolean;
  rowsChecked: number;
  streams: StreamVerdict[];
}

/** Progress of a verification, reported after each page. */
export interface VerifyProgress {
  streamId: string;
  rowsChecked: number;
  /** Estimate from table statistics (0 when unknown). */
  estimatedRows: number;
}

/** Options of `verifyChain()`. */
export interface VerifyOptions {
  /** Schema of the audit tables (default `cvd_activity`). */
  schema?: string;
  /** Called after every page of rows. */
  onProgress?: (progress: VerifyProgress) => void;
  /** With the HMAC key, personal data not erased is checked against each row's pii_hmac too. */
  piiKey?: Buffer;
  /** Rows per page (default 5000). */
  pageSize?: number;
}

interface Run { fromSeq: number; toSeq: number; fromPrevHash: string | null; toHash: string }

/** Verifies every stream's hash chain; never throws for a broken chain, only for database errors. */
export async function verifyChain(client: ClientBase, options: VerifyOptions = {}): Promise<VerifyResult> {
  const schema = checkName('schema', options.schema ?? DEFAULT_SCHEMA);
  const s = quoteIdent(schema);
  try {
    // One snapshot for the whole walk: rows and heads committed meanwhile are not seen.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      const result = await walk(client, s, options);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  } catch (err) {
    throw toStoreError(err, `verifying the audit trail in schema ${schema}`);
  }
}

async function walk(client: ClientBase, s: string, options: VerifyOptions): Promise<VerifyResult> {
  const heads = new Map<string, { seq: number; hash: string | null }>();
  for (const r of (await client.query(`SELECT stream_id, head_seq::text AS head_seq, head_hash FROM ${s}.audit_streams`)).rows) {
    heads.set(r.stream_id, { seq: Number(r.head_seq), hash: r.head_hash });
  }
  const runs = new Map<string, Run[]>();
  // ORDER BY the table's columns (r.): the output column from_seq is text, and '10' sorts before '2'.
  for (const r of (await client.query(`SELECT r.stream_id, r.from_seq::text AS from_seq, r.to_seq::text AS to_seq, r.from_prev_hash, r.to_hash
    FROM ${s}.audit_retention r ORDER BY r.stream_id, r.from_seq`)).rows) {
    const list = runs.get(r.stream_id) ?? [];
    list.push({ fromSeq: Number(r.from_seq), toSeq: Number(r.to_seq), fromPrevHash: r.from_prev_hash, toHash: r.to_hash });
    runs.set(r.stream_id, list);
  }
  // Streams with rows, found by a loose index scan over (stream_id, seq).
  const { rows: present } = await client.query<{ stream_id: string }>(`WITH RECURSIVE st AS (
      (SELECT stream_id FROM ${s}.audit_log ORDER BY stream_id LIMIT 1)
      UNION ALL
      SELECT (SELECT l.stream_id FROM ${s}.audit_log l WHERE l.stream_id > st.stream_id ORDER BY l.stream_id LIMIT 1)
      FROM st WHERE st.stream_id IS NOT NULL)
    SELECT stream_id FROM st WHERE stream_id IS NOT NULL`);
  const ids = [...new Set([...heads.keys(), ...present.map((r) => r.stream_id)])].sort();
  const estimate = await client.query<{ n: string | null }>(
    `SELECT sum(greatest(c.reltuples, 0))::bigint::text AS n FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
      WHERE i.inhparent = to_regclass($1)`, [`${s}.audit_log`]);
  const progress = { rowsChecked: 0, estimatedRows: Number(estimate.rows[0]?.n ?? 0) };
  const streams: StreamVerdict[] = [];
  for (const streamId of ids) {
    streams.push(await verifyStream(client, s, streamId, heads.get(streamId), runs.get(streamId) ?? [], options, progress));
  }
  return { ok: streams.every((v) => v.problem === null), rowsChecked: progress.rowsChecked, streams };
}

async function verifyStream(
  client: ClientBase, s: string, streamId: string, head: { seq: number; hash: string | null } | undefined,
  runs: Run[], options: VerifyOptions, progress: { rowsChecked: number; estimatedRows: number },
): Promise<StreamVerdict> {
  const pageSize = options.pageSize ?? 5000;
  const pii = options.piiKey ? new PiiHasher(options.piiKey) : null;
  const personal = pii
    ? ', p.client_address, p.user_agent, p.fields::text AS fields, p.erased_at::text AS erased_at, (p.event_id IS NOT NULL)::text AS has_personal'
    : '';
  const join = pii ? ` LEFT JOIN ${s}.audit_personal p ON p.event_id = l.event_id` : '';
  const verdict: StreamVerdict = { streamId, rows: 0, headSeq: head ? head.seq : null, problem: null };
  let expected = 1;
  let prev: string | null = null;
  let lastEvent: string | null = null;
  let ri = 0;
  const fail = (kind: ChainProblemKind, seq: number | null, eventId: string | null, message: string): StreamVerdict => {
    verdict.problem = { kind, seq, eventId, message: `stream ${streamId}: ${message}` };
    return verdict;
  };
  // Links removed by retention: accepted when they start where the chain is and chain to it.
  const bridge = (): boolean => {
    while (ri < runs.length && runs[ri]!.fromSeq === expected) {
      const run = runs[ri]!;
      if (run.fromPrevHash !== prev) return false;
      expected = run.toSeq + 1;
      prev = run.toHash;
      ri += 1;
    }
    return true;
  };
  let after = 0;
  for (;;) {
    const { rows } = await client.query(
      `SELECT ${ROW_AS_TEXT}${personal} FROM ${s}.audit_log l${join}
        WHERE l.stream_id = $1 AND l.seq > $2 ORDER BY l.seq LIMIT $3`, [streamId, after, pageSize]);
    for (const r of rows) {
      const seq = Number(r.seq);
      if (!bridge()) return fail('retention-mismatch', seq, r.event_id, `the retention record at seq ${expected} does not chain to the events before it`);
      if (seq > expected) {
        return fail('gap', seq, r.event_id, `events seq ${expected}..${seq - 1} are missing before event ${r.event_id} (seq ${seq})`);
      }
      if (seq < expected) return fail('duplicate-seq', seq, r.event_id, `event ${r.event_id} repeats seq ${seq}`);
      if (r.prev_hash !== prev) {
        return fail('prev-hash-mismatch', seq, r.event_id, `event ${r.event_id} (seq ${seq}) does not link to the event before it`);
      }
      if (chainHash({ streamId, seq, prevHash: prev }, toChainRow(r)) !== r.hash) {
        return fail('hash-mismatch', seq, r.event_id, `event ${r.event_id} (seq ${seq}) was altered: its hash does not match its content`);
      }
      if (pii && r.has_personal === 'true' && r.erased_at === null && r.pii_hmac !== null
        && pii.hmac(r.event_id, r.client_address, r.user_agent, canonicalJson(JSON.parse(r.fields))) !== r.pii_hmac) {
        return fail('pii-mismatch', seq, r.event_id, `the personal data of event ${r.event_id} (seq ${seq}) was altered`);
      }
      prev = r.hash;
      lastEvent = r.event_id;
      expected = seq + 1;
      verdict.rows += 1;
    }
    progress.rowsChecked += rows.length;
    options.onProgress?.({ streamId, ...progress });
    if (rows.length < pageSize) break;
    after = Number(rows[rows.length - 1].seq);
  }
  if (!bridge()) return fail('retention-mismatch', null, null, `the retention record at seq ${expected} does not chain to the events before it`);
  const end = expected - 1;
  if (!head) return fail('missing-head', end, lastEvent, `the chain has ${end} events but no head in audit_streams`);
  if (head.seq !== end || head.hash !== prev) {
    const tail = head.seq > end
      ? `events seq ${end + 1}..${head.seq} are missing at the end (the tail was cut)`
      : `the chain goes on past its stored head (seq ${head.seq})`;
    return fail('head-mismatch', end || null, lastEvent,
      `the chain ends at seq ${end}${lastEvent ? ` (event ${lastEvent})` : ''} but the stored head is seq ${head.seq}: ${tail}`);
  }
  return verdict;
}

/** A stored row, read back, in the shape that was hashed. */
// Every column read as text and decoded here, so type parsers an application
// may have installed on the shared pg module cannot change what is hashed.
const ISO_MS = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
export const ROW_AS_TEXT = `l.event_id::text AS event_id, to_char(l.created_at AT TIME ZONE 'UTC', ${ISO_MS}) AS created_at,
  to_char(l.recorded_at AT TIME ZONE 'UTC', ${ISO_MS}) AS recorded_at, l.action, l.category, l.severity, l.outcome, l.reason,
  l.actor_type, l.user_id, l.user_role, l.session_id, l.resource_type, l.resource_id, l.details::text AS details,
  l.old_value::text AS old_value, l.new_value::text AS new_value, l.affected_records::text AS affected_records,
  l.trace_id, l.span_id, l.service_name, l.schema_valid::text AS schema_valid, to_json(l.schema_errors)::text AS schema_errors,
  l.pii_hmac, l.seq::text AS seq, l.prev_hash, l.hash`;

const json = (text: string | null): string | null => (text === null ? null : canonicalJson(JSON.parse(text)));

export function toChainRow(r: Record<string, any>): ChainRow {
  return {
    eventId: r.event_id,
    createdAt: r.created_at, recordedAt: r.recorded_at,
    action: r.action, category: r.category, severity: r.severity, outcome: r.outcome, reason: r.reason,
    actorType: r.actor_type, userId: r.user_id, userRole: r.user_role, sessionId: r.session_id,
    resourceType: r.resource_type, resourceId: r.resource_id,
    details: json(r.details)!,
    oldValue: json(r.old_value),
    newValue: json(r.new_value),
    affectedRecords: r.affected_records === null ? null : Number(r.affected_records),
    traceId: r.trace_id, spanId: r.span_id, serviceName: r.service_name, schemaValid: r.schema_valid === 'true',
    schemaErrors: JSON.parse(r.schema_errors), piiHmac: r.pii_hmac,
  };
}
