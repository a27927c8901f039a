/**
 * Reads every stream's head in one snapshot and computes what the next
 * checkpoint commits to. Each stream's Merkle tree is extended from the
 * frontier the previous checkpoint left (given back by the caller, checked
 * against that checkpoint's signed root), so a checkpoint reads only the rows
 * added since; without a frontier it reads the stream from seq 1.
 */
import type { ClientBase } from 'pg';
import { checkName, DEFAULT_SCHEMA, quoteIdent } from '../identifiers';
import type { Checkpoint, CheckpointStream } from './checkpointText';
import { MerkleFrontier } from './merkle';
import { inSnapshot } from '../snapshot';
import { removedByRetention, retentionRuns } from './retentionRuns';

/** Options of `takeCheckpoint()`. */
export interface TakeCheckpointOptions {
  schema?: string;
  /** The checkpoint this one follows (already verified), and the SHA-256 of its file. */
  previous?: { checkpoint: Checkpoint; fileHash: Buffer } | null;
  /** Frontiers saved after the previous checkpoint; any that does not match its signed root is ignored. */
  frontiers?: ReadonlyMap<string, MerkleFrontier>;
  origin: string;
  /** Rows read per query (default 10000). */
  pageSize?: number;
}

/** The rows a checkpoint added to each stream, for the leaves file. */
export interface NewLeaves {
  streamId: string;
  /** Seq of the first hash. */
  fromSeq: number;
  hashes: Buffer[];
}

/** What `takeCheckpoint()` found. */
export type TakeCheckpointResult =
  | { changed: false; checkpoint: Checkpoint }
  | { changed: true; checkpoint: Checkpoint; leaves: NewLeaves[]; frontiers: Map<string, MerkleFrontier> };

/** Thrown when the trail no longer extends the previous checkpoint: signing over it would hide the change. */
export class CheckpointRefusedError extends Error {
  override name = 'CheckpointRefusedError';
}

interface Head { streamId: string; seq: number; hash: string | null }

/** Computes the next checkpoint in one REPEATABLE READ snapshot; `changed: false` when every head is where the previous one saw it. */
export async function takeCheckpoint(client: ClientBase, options: TakeCheckpointOptions): Promise<TakeCheckpointResult> {
  const schema = checkName('schema', options.schema ?? DEFAULT_SCHEMA);
  const s = quoteIdent(schema);
  return inSnapshot(client, `taking a checkpoint of schema ${schema}`, () => compute(client, s, options), [CheckpointRefusedError]);
}

async function compute(client: ClientBase, s: string, options: TakeCheckpointOptions): Promise<TakeCheckpointResult> {
  const { rows } = await client.query(`SELECT stream_id, head_seq::text AS head_seq, head_hash, now() AS now FROM ${s}.audit_streams
    WHERE head_seq > 0 ORDER BY stream_id`);
  const heads: Head[] = rows.map((r) => ({ streamId: r.stream_id, seq: Number(r.head_seq), hash: r.head_hash }));
  const time = rows[0] ? new Date(rows[0].now).toISOString() : new Date().toISOString();
  const prev = options.previous?.checkpoint ?? null;
  const before = new Map((prev?.streams ?? []).map((p) => [p.streamId, p]));
  if (prev && heads.length === before.size && heads.every((h) => before.get(h.streamId)?.seq === h.seq && before.get(h.streamId)?.headHash === h.hash)) {
    return { changed: false, checkpoint: prev };
  }
  await checkExtendsPrevious(client, s, heads, before);
  const streams: CheckpointStream[] = [];
  const leaves: NewLeaves[] = [];
  const frontiers = new Map<string, MerkleFrontier>();
  for (const head of heads) {
    const p = before.get(head.streamId);
    const saved = options.frontiers?.get(head.streamId);
    const frontier = saved && p && saved.treeSize === p.seq && saved.root().equals(p.merkleRoot)
      ? new MerkleFrontier(saved.treeSize, [...saved.subtrees]) : new MerkleFrontier();
    const added = await extend(client, s, head, frontier, options.pageSize ?? 10_000);
    if (added.hashes.length > 0) leaves.push(added);
    frontiers.set(head.streamId, frontier);
    streams.push({ streamId: head.streamId, seq: head.seq, headHash: head.hash!, merkleRoot: frontier.root() });
  }
  const checkpoint: Checkpoint = {
    origin: options.origin, sequence: (prev?.sequence ?? 0) + 1, time, previous: options.previous?.fileHash ?? null, streams,
  };
  return { changed: true, checkpoint, leaves, frontiers };
}

/** Refuses when a stream of the previous checkpoint is gone, shorter, or has another hash at its checkpointed seq. */
async function checkExtendsPrevious(client: ClientBase, s: string, heads: Head[], before: ReadonlyMap<string, CheckpointStream>): Promise<void> {
  const now = new Map(heads.map((h) => [h.streamId, h]));
  for (const p of before.values()) {
    const head = now.get(p.streamId);
    if (!head || head.seq < p.seq) {
      throw new CheckpointRefusedError(`stream ${p.streamId} was at seq ${p.seq} in the previous checkpoint but ${head ? `its head is now seq ${head.seq}` : 'it has no head now'}: run \`cvd-activity audit verify --checkpoints\``);
    }
    const { rows } = await client.query(`SELECT hash FROM ${s}.audit_log WHERE stream_id = $1 AND seq = $2`, [p.streamId, p.seq]);
    if (rows.length === 0 && removedByRetention(await retentionRuns(client, s, p.streamId), p.seq, p.headHash)) continue;
    if (rows[0]?.hash !== p.headHash) {
      throw new CheckpointRefusedError(`stream ${p.streamId}: the event at seq ${p.seq} no longer has the hash the previous checkpoint signed: run \`cvd-activity audit verify --checkpoints\``);
    }
  }
}

/** Appends the stream's rows after the frontier up to its head; the rows must be seq-contiguous and end at the head's hash. */
async function extend(client: ClientBase, s: string, head: Head, frontier: MerkleFrontier, pageSize: number): Promise<NewLeaves> {
  const added: NewLeaves = { streamId: head.streamId, fromSeq: frontier.treeSize + 1, hashes: [] };
  let last: string | null = null;
  while (frontier.treeSize < head.seq) {
    const { rows } = await client.query(`SELECT l.seq::text AS seq, l.hash FROM ${s}.audit_log l WHERE stream_id = $1 AND seq > $2 AND seq <= $3
      ORDER BY l.seq LIMIT $4`, [head.streamId, frontier.treeSize, head.seq, pageSize]);
    if (rows.length === 0 || Number(rows[0].seq) !== frontier.treeSize + 1) {
      throw new CheckpointRefusedError(`stream ${head.streamId}: events from seq ${frontier.treeSize + 1} are not in audit_log (removed by retention, or deleted); a checkpoint needs every row of a stream once: run \`cvd-activity audit verify\``);
    }
    for (const r of rows) {
      if (Number(r.seq) !== frontier.treeSize + 1) break; // the next page reports the gap
      const hash = Buffer.from(r.hash, 'hex');
      frontier.append(hash);
      added.hashes.push(hash);
      last = r.hash;
    }
  }
  if (last !== null && last !== head.hash) {
    throw new CheckpointRefusedError(`stream ${head.streamId}: the event at its head seq ${head.seq} does not have the head's hash: run \`cvd-activity audit verify\``);
  }
  return added;
}
