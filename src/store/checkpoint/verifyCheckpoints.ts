/**
 * `audit verify --checkpoints`: the checkpoints' own checks (checkpointChain),
 * then, in one snapshot, that today's rows still hold what the checkpoints
 * signed. Where a leaves file vouches for every hash of a stream, the first
 * row whose hash differs is named: that is the rewritten event, even when
 * every later hash and the head were recomputed. Without leaves, each
 * checkpointed head row is compared.
 */
import type { ClientBase } from 'pg';
import { checkName, DEFAULT_SCHEMA, quoteIdent } from '../identifiers';
import { checkCheckpointChain, coveredStreams } from './checkpointChain';
import type { CheckpointFile, CheckpointProblem, TrustedCheckpoint } from './checkpointChain';
import type { CheckpointStream } from './checkpointText';
import type { NoteVerifier } from './signedNote';
import { inSnapshot } from '../snapshot';
import { bridgeRetention, removedByRetention, retentionRuns } from './retentionRuns';
import type { RetentionRun } from './retentionRuns';

/** Options of `verifyCheckpoints()`. */
export interface VerifyCheckpointsOptions {
  schema?: string;
  /** The checkpoint files, in order (file name order). */
  files: readonly CheckpointFile[];
  verifier: NoteVerifier;
  /** Rows per page (default 10000). */
  pageSize?: number;
}

/** Result of `verifyCheckpoints()`. */
export interface VerifyCheckpointsResult {
  ok: boolean;
  checkpoints: number;
  /** Sequence of the newest valid checkpoint (0 if none). */
  latestSequence: number;
  /** Events compared hash by hash against leaves files. */
  eventsCompared: number;
  problems: CheckpointProblem[];
  /**
   * Checkpointed events that are gone because retention recorded dropping
   * them (audit_retention chains to the signed hashes). Listed, not failed:
   * whoever can bypass the triggers could also forge such a record, so
   * compare these with the retention policy.
   */
  retained: string[];
}

type Covered = ReturnType<typeof coveredStreams> extends Map<string, infer V> ? V : never;

/** Verifies the checkpoints and the trail against them; throws only for database errors. */
export async function verifyCheckpoints(client: ClientBase, options: VerifyCheckpointsOptions): Promise<VerifyCheckpointsResult> {
  const schema = checkName('schema', options.schema ?? DEFAULT_SCHEMA);
  const s = quoteIdent(schema);
  const chain = checkCheckpointChain(options.files, options.verifier);
  const problems = [...chain.problems];
  let eventsCompared = 0;
  const retained: string[] = [];
  await inSnapshot(client, `verifying schema ${schema} against checkpoints`, async () => {
    const heads = new Map((await client.query(`SELECT stream_id, head_seq::text AS head_seq FROM ${s}.audit_streams`)).rows
      .map((r) => [r.stream_id as string, Number(r.head_seq)]));
    for (const [streamId, covered] of coveredStreams(chain.checkpoints)) {
      const leaves = chain.leaves.get(streamId);
      const check: StreamCheck = {
        client, s, streamId, covered, head: heads.get(streamId) ?? null, pageSize: options.pageSize ?? 10_000,
        runs: await retentionRuns(client, s, streamId),
        retained: (run) => retained.push(`stream ${streamId}: events seq ${run.fromSeq}..${run.toSeq} removed by retention (partition ${run.partition}, ${run.droppedAt})`),
      };
      const found = leaves ? await compareLeaves(check, leaves) : await compareHeads(check, chain.checkpoints);
      if (leaves) eventsCompared += found.compared;
      if (found.problem) problems.push(found.problem);
    }
    problems.push(...(await missingLatest(client, s, chain.checkpoints, options.verifier)));
  });
  const latest = chain.checkpoints[chain.checkpoints.length - 1];
  return { ok: problems.length === 0, checkpoints: chain.checkpoints.length, latestSequence: latest?.checkpoint.sequence ?? 0, eventsCompared, problems, retained };
}

interface StreamCheck {
  client: ClientBase; s: string; streamId: string; covered: Covered; head: number | null; pageSize: number;
  runs: RetentionRun[];
  retained: (run: RetentionRun) => void;
}

const at = (c: StreamCheck, kind: CheckpointProblem['kind'], checkpoint: string, seq: number | null, eventId: string | null, message: string): CheckpointProblem =>
  ({ kind, checkpoint, streamId: c.streamId, seq, eventId, message: `${checkpoint}: stream ${c.streamId}: ${message}` });

/** Compares every row seq 1..n with the leaves the signed roots vouch for. */
async function compareLeaves(c: StreamCheck, leaves: Buffer[]): Promise<{ compared: number; problem: CheckpointProblem | null }> {
  const n = c.covered.last.seq;
  // Rows removed by retention pass when its record chains to the signed leaves on both ends (and are listed).
  const bridge = (seq: number) => bridgeRetention(c.runs, seq, (k) => leaves[k - 1]?.toString('hex'), c.retained);
  let expected = bridge(1);
  let lastEvent: string | null = null;
  while (expected <= n) {
    const { rows } = await c.client.query(`SELECT l.seq::text AS seq, l.hash, l.event_id::text AS event_id FROM ${c.s}.audit_log l
      WHERE stream_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY l.seq LIMIT $4`, [c.streamId, expected, n, c.pageSize]);
    if (rows.length === 0) {
      const next = bridge(expected);
      if (next > expected) {
        expected = next;
        continue;
      }
      return { compared: expected - 1, problem: gone(c, expected, lastEvent) };
    }
    for (const r of rows) {
      const seq = Number(r.seq);
      if (seq > expected) expected = bridge(expected);
      if (seq > expected) {
        return { compared: expected - 1, problem: at(c, 'events-deleted', c.covered.firstCovering(expected), expected, r.event_id,
          `events seq ${expected}..${seq - 1}, covered by the checkpoint, were deleted (before event ${r.event_id}, seq ${seq})`) };
      }
      if (seq < expected) continue; // a duplicated seq: audit verify reports it
      if (r.hash !== leaves[seq - 1]!.toString('hex')) {
        return { compared: expected - 1, problem: at(c, 'history-rewritten', c.covered.firstCovering(seq), seq, r.event_id,
          `event ${r.event_id} (seq ${seq}) was rewritten after the checkpoint signed it (hash then ${leaves[seq - 1]!.toString('hex').slice(0, 16)}…, now ${String(r.hash).slice(0, 16)}…)`) };
      }
      lastEvent = r.event_id;
      expected = seq + 1;
    }
  }
  return { compared: n, problem: null };
}

/** Rows from `from` on are missing: the stream vanished, or its tail was cut. */
function gone(c: StreamCheck, from: number, lastEvent: string | null): CheckpointProblem {
  const n = c.covered.last.seq;
  if (from === 1 && c.head === null) {
    return at(c, 'stream-vanished', c.covered.lastIn, null, null, `the stream vanished: the checkpoint signed ${n} events (head ${c.covered.last.headHash.slice(0, 16)}…), the database has no rows and no head for it`);
  }
  const head = c.head === null ? 'no head' : c.head < n ? `its head rewound to seq ${c.head}` : `its head still at seq ${c.head}`;
  return at(c, 'tail-truncated', c.covered.firstCovering(from), from, lastEvent,
    `events seq ${from}..${n}, covered by the checkpoint, are gone: the tail was cut after ${lastEvent ? `event ${lastEvent} (seq ${from - 1})` : 'the start'}, ${head}`);
}

/** Without trusted leaves: each checkpoint's head row of the stream must still have the signed hash. */
async function compareHeads(c: StreamCheck, checkpoints: readonly TrustedCheckpoint[]): Promise<{ compared: number; problem: CheckpointProblem | null }> {
  let before: CheckpointStream | null = null;
  for (const { name, checkpoint } of checkpoints) {
    const s = checkpoint.streams.find((x) => x.streamId === c.streamId);
    if (!s) continue;
    const { rows } = await c.client.query(`SELECT hash, event_id::text AS event_id FROM ${c.s}.audit_log WHERE stream_id = $1 AND seq = $2`, [c.streamId, s.seq]);
    if (rows.length === 0) {
      const run = removedByRetention(c.runs, s.seq, s.headHash);
      if (run) {
        c.retained(run);
        before = s;
        continue;
      }
      const any = await c.client.query(`SELECT 1 FROM ${c.s}.audit_log WHERE stream_id = $1 LIMIT 1`, [c.streamId]);
      return { compared: 0, problem: gone(c, any.rows.length === 0 ? 1 : (c.head ?? 0) + 1, null) };
    }
    if (rows[0].hash !== s.headHash) {
      const range = before ? `seq ${before.seq + 1}..${s.seq}` : `seq 1..${s.seq}`;
      return { compared: 0, problem: at(c, 'history-rewritten', name, s.seq, rows[0].event_id,
        `an event of ${range} was rewritten after the checkpoint (the event at seq ${s.seq}, ${rows[0].event_id}, no longer has the signed hash; no leaves file narrows it down)`) };
    }
    before = s;
  }
  return { compared: 0, problem: null };
}

/** A checkpoint the trail records (AUDIT_CHECKPOINT, same origin and key) but the directory lacks: the newest file(s) were deleted. */
async function missingLatest(client: ClientBase, s: string, checkpoints: readonly TrustedCheckpoint[], verifier: NoteVerifier): Promise<CheckpointProblem[]> {
  const latest = checkpoints[checkpoints.length - 1];
  if (!latest) return [];
  const { rows } = await client.query(`SELECT event_id::text AS event_id, (details->>'sequence')::bigint AS sequence FROM ${s}.audit_log
    WHERE action = 'AUDIT_CHECKPOINT' AND details->>'origin' = $1 AND details->>'key' = $2 AND (details->>'sequence')::bigint > $3
    ORDER BY (details->>'sequence')::bigint DESC LIMIT 1`, [latest.checkpoint.origin, `${verifier.name}+${verifier.keyId.toString('hex')}`, latest.checkpoint.sequence]);
  if (rows.length === 0) return [];
  const n = Number(rows[0].sequence);
  return [{ kind: 'checkpoint-missing', checkpoint: latest.name, streamId: null, seq: null, eventId: rows[0].event_id,
    message: `${latest.name}: the trail records checkpoint ${n} (event ${rows[0].event_id}) but the newest checkpoint here is ${latest.checkpoint.sequence}: checkpoint files were deleted (or the last write failed)` }];
}
