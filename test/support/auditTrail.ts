/**
 * Reading back what the real store wrote, for pipeline and chaos tests:
 * stored event ids per stream in chain order, duplicate counts, and a chain
 * check (sequence continuity, previous-hash links, head row) that is
 * independent of the store's own verify.
 */
import pg from 'pg';
import { createPgAuditWriter } from '../../src/store/PgAuditWriter';
import { verifyChain } from '../../src/store/verify';
import type { AuditWriterFactory } from '../../src/pipeline/AuditPipeline';
import { TEST_PII_KEY } from './auditRecords';

/** A writer factory on the real store writer. */
export function storeWriterFactory(url: string, schema: string): AuditWriterFactory {
  return ({ streamId }) => createPgAuditWriter({ connectionString: url, schema, streamId, piiKey: TEST_PII_KEY });
}

/** What audit_log holds: rows in (stream, seq) order, duplicates, and chain breaks found (ours and the store's verify). */
export interface TrailSnapshot {
  byStream: Map<string, string[]>;
  allIds: string[];
  duplicateIds: number;
  chainProblems: string[];
}

/** Reads audit_log and checks each stream's chain links against its head. */
export async function readTrail(url: string, schema: string): Promise<TrailSnapshot> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const s = `"${schema}"`;
    const { rows } = await client.query<{ event_id: string; stream_id: string; seq: string; prev_hash: string | null; hash: string }>(
      `SELECT event_id::text, stream_id, seq, prev_hash, hash FROM ${s}.audit_log ORDER BY stream_id, seq`,
    );
    const dup = await client.query<{ n: string }>(
      `SELECT count(*) - count(DISTINCT event_id) AS n FROM ${s}.audit_log`,
    );
    const heads = await client.query<{ stream_id: string; head_seq: string; head_hash: string | null }>(
      `SELECT stream_id, head_seq, head_hash FROM ${s}.audit_streams`,
    );
    const byStream = new Map<string, string[]>();
    const chainProblems: string[] = [];
    const last = new Map<string, { seq: number; hash: string }>();
    for (const r of rows) {
      const prev = last.get(r.stream_id);
      const seq = Number(r.seq);
      if (seq !== (prev?.seq ?? 0) + 1) chainProblems.push(`${r.stream_id}: seq ${seq} after ${prev?.seq ?? 0}`);
      if (r.prev_hash !== (prev?.hash ?? null)) chainProblems.push(`${r.stream_id}: seq ${seq} prev_hash does not link`);
      last.set(r.stream_id, { seq, hash: r.hash });
      if (!byStream.has(r.stream_id)) byStream.set(r.stream_id, []);
      byStream.get(r.stream_id)!.push(r.event_id);
    }
    for (const h of heads.rows) {
      const tail = last.get(h.stream_id);
      if (Number(h.head_seq) !== (tail?.seq ?? 0) || h.head_hash !== (tail?.hash ?? null)) {
        chainProblems.push(`${h.stream_id}: head (${h.head_seq}) does not match the last row (${tail?.seq ?? 0})`);
      }
    }
    // The store's verify recomputes every hash and the personal-data HMACs.
    const verdict = await verifyChain(client, { schema, piiKey: TEST_PII_KEY });
    for (const v of verdict.streams) if (v.problem) chainProblems.push(`verify ${v.streamId}: ${v.problem.message}`);
    if (!verdict.ok && chainProblems.length === 0) chainProblems.push('verify: not ok');
    if (verdict.streams.length !== byStream.size) chainProblems.push(`verify saw ${verdict.streams.length} streams, audit_log holds ${byStream.size}`);
    return { byStream, allIds: rows.map((r) => r.event_id), duplicateIds: Number(dup.rows[0]!.n), chainProblems };
  } finally {
    await client.end();
  }
}
