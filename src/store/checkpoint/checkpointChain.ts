/**
 * The offline half of `audit verify --checkpoints`: every checkpoint's
 * signature, the chain between checkpoints (sequence and previous-file hash),
 * streams that never move back, and the leaves files rebuilt into the signed
 * Merkle roots. Needs no database.
 */
import { checkpointFileHash, parseCheckpoint } from './checkpointText';
import type { Checkpoint, CheckpointStream } from './checkpointText';
import { parseLeaves } from './leavesText';
import { MerkleFrontier } from './merkle';
import { openNote } from './signedNote';
import type { NoteVerifier } from './signedNote';

/** What can be wrong with the checkpoints or the trail they cover. */
export type CheckpointProblemKind =
  | 'bad-signature' | 'malformed' | 'checkpoint-missing' | 'checkpoint-order' | 'leaves-mismatch'
  | 'history-rewritten' | 'events-deleted' | 'tail-truncated' | 'stream-vanished';

/** One finding, naming the checkpoint file and, where known, the stream and event. */
export interface CheckpointProblem {
  kind: CheckpointProblemKind;
  checkpoint: string;
  streamId: string | null;
  seq: number | null;
  eventId: string | null;
  message: string;
}

/** A checkpoint file as read from the directory, in file-name order. */
export interface CheckpointFile {
  name: string;
  note: string;
  /** The leaves file beside it, or null when missing. */
  leaves: string | null;
}

/** A checkpoint that passed its signature check. */
export interface TrustedCheckpoint {
  name: string;
  checkpoint: Checkpoint;
}

/** Per stream: the chain hashes seq 1..n that signed roots vouch for. */
export type TrustedLeaves = Map<string, Buffer[]>;

/** Result of the offline checks. */
export interface CheckpointChainResult {
  checkpoints: TrustedCheckpoint[];
  leaves: TrustedLeaves;
  problems: CheckpointProblem[];
}

const problem = (kind: CheckpointProblemKind, checkpoint: string, message: string, at: Partial<CheckpointProblem> = {}): CheckpointProblem =>
  ({ kind, checkpoint, streamId: null, seq: null, eventId: null, ...at, message: `${checkpoint}: ${message}` });

/** Checks signatures, the chain and the leaves files of `files` (in order). */
export function checkCheckpointChain(files: readonly CheckpointFile[], verifier: NoteVerifier): CheckpointChainResult {
  const problems: CheckpointProblem[] = [];
  const checkpoints: TrustedCheckpoint[] = [];
  const rebuilt = new Map<string, { frontier: MerkleFrontier; leaves: Buffer[]; trusted: boolean }>();
  let prev: { name: string; checkpoint: Checkpoint; fileHash: Buffer } | null = null;
  for (const file of files) {
    let text: string;
    let c: Checkpoint;
    try {
      text = openNote(file.note, verifier);
    } catch (err) {
      problems.push(problem('bad-signature', file.name, (err as Error).message));
      continue;
    }
    try {
      c = parseCheckpoint(text);
    } catch (err) {
      problems.push(problem('malformed', file.name, (err as Error).message));
      continue;
    }
    problems.push(...chainProblems(file.name, c, prev));
    prev = { name: file.name, checkpoint: c, fileHash: checkpointFileHash(file.note) };
    checkpoints.push({ name: file.name, checkpoint: c });
    problems.push(...rebuildLeaves(file, c, rebuilt));
  }
  const leaves: TrustedLeaves = new Map();
  for (const [id, r] of rebuilt) if (r.trusted) leaves.set(id, r.leaves);
  return { checkpoints, leaves, problems };
}

function chainProblems(name: string, c: Checkpoint, prev: { name: string; checkpoint: Checkpoint; fileHash: Buffer } | null): CheckpointProblem[] {
  const expected = (prev?.checkpoint.sequence ?? 0) + 1;
  if (c.sequence > expected) {
    return [problem('checkpoint-missing', name, `checkpoint${c.sequence - expected > 1 ? 's' : ''} ${expected}${c.sequence - expected > 1 ? `..${c.sequence - 1}` : ''} ${c.sequence - expected > 1 ? 'are' : 'is'} missing before this one (sequence ${c.sequence})`)];
  }
  if (c.sequence < expected) {
    return [problem('checkpoint-order', name, `sequence ${c.sequence} comes after ${prev!.name} (sequence ${prev!.checkpoint.sequence}): checkpoints were reordered or replaced`)];
  }
  const out: CheckpointProblem[] = [];
  if (prev ? !c.previous?.equals(prev.fileHash) : c.previous !== null) {
    out.push(problem('checkpoint-order', name, prev
      ? `its previous-checkpoint hash does not match ${prev.name}: that file was replaced or changed`
      : 'it names a previous checkpoint, but it is the first one here'));
  }
  const now = new Map(c.streams.map((s) => [s.streamId, s]));
  for (const p of prev?.checkpoint.streams ?? []) {
    const s = now.get(p.streamId);
    if (!s || s.seq < p.seq) {
      out.push(problem('checkpoint-order', name, `stream ${p.streamId} went back from seq ${p.seq} (${prev!.name}) to ${s ? `seq ${s.seq}` : 'nothing'}`, { streamId: p.streamId, seq: p.seq }));
    }
  }
  return out;
}

/** Appends the leaves file of checkpoint `c` and compares each stream's rebuilt root with the signed one. */
function rebuildLeaves(file: CheckpointFile, c: Checkpoint, rebuilt: Map<string, { frontier: MerkleFrontier; leaves: Buffer[]; trusted: boolean }>): CheckpointProblem[] {
  const problems: CheckpointProblem[] = [];
  let blocks: ReturnType<typeof parseLeaves> = [];
  try {
    blocks = file.leaves === null ? [] : parseLeaves(file.leaves);
  } catch (err) {
    problems.push(problem('leaves-mismatch', file.name, (err as Error).message));
  }
  const state = (id: string) => {
    let r = rebuilt.get(id);
    if (!r) rebuilt.set(id, (r = { frontier: new MerkleFrontier(), leaves: [], trusted: true }));
    return r;
  };
  for (const b of blocks) {
    const r = state(b.streamId);
    b.hashes.forEach((h, i) => {
      const seq = b.fromSeq + i;
      if (seq <= r.leaves.length) {
        if (!r.leaves[seq - 1]!.equals(h)) r.trusted = false;
      } else if (seq === r.leaves.length + 1) r.leaves.push(h);
      else r.trusted = false;
    });
  }
  for (const s of c.streams) {
    const r = state(s.streamId);
    if (!r.trusted) continue;
    if (r.leaves.length < s.seq) {
      r.trusted = false; // no leaves file: verify falls back to the signed heads
      continue;
    }
    while (r.frontier.treeSize < s.seq) r.frontier.append(r.leaves[r.frontier.treeSize]!);
    if (!r.frontier.root().equals(s.merkleRoot)) {
      r.trusted = false;
      problems.push(problem('leaves-mismatch', file.name, `the leaves of stream ${s.streamId} do not rebuild its signed Merkle root: the leaves file was changed`, { streamId: s.streamId }));
    }
  }
  return problems;
}

/** The last checkpointed state of every stream, and the first checkpoint that covered each seq. */
export function coveredStreams(checkpoints: readonly TrustedCheckpoint[]): Map<string, { last: CheckpointStream; lastIn: string; firstCovering: (seq: number) => string }> {
  const out = new Map<string, { last: CheckpointStream; lastIn: string; history: Array<{ seq: number; name: string }>; firstCovering: (seq: number) => string }>();
  for (const { name, checkpoint } of checkpoints) {
    for (const s of checkpoint.streams) {
      const entry = out.get(s.streamId);
      if (entry) {
        if (s.seq >= entry.last.seq) Object.assign(entry, { last: s, lastIn: name });
        entry.history.push({ seq: s.seq, name });
      } else {
        const history = [{ seq: s.seq, name }];
        out.set(s.streamId, { last: s, lastIn: name, history, firstCovering: (seq) => history.find((h) => h.seq >= seq)?.name ?? name });
      }
    }
  }
  return out;
}
