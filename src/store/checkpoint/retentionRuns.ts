/**
 * Runs of chain links that retention removed (audit_retention), as the
 * checkpoint code sees them: rows a checkpoint covered may be gone legitimately
 * when a run records them and chains to what the checkpoint signed.
 */
import type { ClientBase } from 'pg';

/** One removed run of a stream: seqs from..to, the hash before it and its last hash. */
export interface RetentionRun { fromSeq: number; toSeq: number; fromPrevHash: string | null; toHash: string; partition: string; droppedAt: string }

/** The retention runs of one stream, by from_seq. */
export async function retentionRuns(client: ClientBase, s: string, streamId: string): Promise<RetentionRun[]> {
  const { rows } = await client.query(`SELECT from_seq::text AS from_seq, to_seq::text AS to_seq, from_prev_hash, to_hash, partition_name,
      to_char(dropped_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS dropped_at
    FROM ${s}.audit_retention WHERE stream_id = $1 ORDER BY from_seq`, [streamId]);
  return rows.map((r) => ({
    fromSeq: Number(r.from_seq), toSeq: Number(r.to_seq), fromPrevHash: r.from_prev_hash, toHash: r.to_hash, partition: r.partition_name, droppedAt: r.dropped_at,
  }));
}

/**
 * The seq after the retention runs that start at `seq` and chain to the
 * known hashes (`hashAt(n)`: hex chain hash of seq n, or undefined when not
 * known); `seq` itself when no run starts there or one does not chain.
 */
export function bridgeRetention(runs: readonly RetentionRun[], seq: number, hashAt: (n: number) => string | undefined, bridged?: (run: RetentionRun) => void): number {
  let at = seq;
  for (const run of runs) {
    if (run.fromSeq !== at) continue;
    const before = at === 1 ? null : hashAt(at - 1);
    const last = hashAt(run.toSeq);
    if (before !== run.fromPrevHash || (last !== undefined && last !== run.toHash)) return at;
    bridged?.(run);
    at = run.toSeq + 1;
  }
  return at;
}

/** True when retention recorded removing seq `seq`, and the run ends on `hash` if it ends there. */
export function removedByRetention(runs: readonly RetentionRun[], seq: number, hash: string): RetentionRun | undefined {
  return runs.find((run) => run.fromSeq <= seq && seq <= run.toSeq && (run.toSeq !== seq || run.toHash === hash));
}
