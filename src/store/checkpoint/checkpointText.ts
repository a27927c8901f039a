/**
 * The text of a checkpoint, in the c2sp.org/tlog-checkpoint layout: origin,
 * tree size, root hash (base64), then extension lines of our own (see
 * docs/checkpoints.md). The root is the RFC 9162 Merkle root over the
 * `stream …` lines, so it commits to every stream's head and Merkle root.
 */
import { createHash } from 'node:crypto';
import { merkleRoot } from './merkle';
import { NoteFormatError } from './signedNote';

/** One stream as a checkpoint saw it. */
export interface CheckpointStream {
  streamId: string;
  /** Head seq = the number of leaves of the stream's Merkle tree. */
  seq: number;
  /** Chain hash (hex) of the row at `seq`. */
  headHash: string;
  /** RFC 9162 root (32 bytes) over the chain hashes of seq 1..seq. */
  merkleRoot: Buffer;
}

/** What a checkpoint commits to. */
export interface Checkpoint {
  origin: string;
  /** 1 for the first checkpoint of a directory, then +1 each. */
  sequence: number;
  /** ISO 8601 UTC time of the snapshot. */
  time: string;
  /** SHA-256 of the whole previous checkpoint file (signatures included); null for the first. */
  previous: Buffer | null;
  /** Sorted by stream id. */
  streams: CheckpointStream[];
}

/** The tlog-checkpoint header marker of this format (first extension line). */
export const CHECKPOINT_FORMAT = 'cvd-activity-checkpoint/1';

/** Total events covered: the sum of the streams' head seqs (the checkpoint's "tree size"). */
export function checkpointSize(c: Checkpoint): number {
  return c.streams.reduce((n, s) => n + s.seq, 0);
}

function streamLine(s: CheckpointStream): string {
  return `stream ${s.seq} ${s.headHash} ${s.merkleRoot.toString('base64')} ${JSON.stringify(s.streamId)}`;
}

/** The root over the streams of a checkpoint. */
export function checkpointRoot(streams: readonly CheckpointStream[]): Buffer {
  return merkleRoot(streams.map((s) => Buffer.from(streamLine(s), 'utf8')));
}

/** The note text of a checkpoint (to be signed). */
export function formatCheckpoint(c: Checkpoint): string {
  const streams = [...c.streams].sort((a, b) => (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0));
  return [
    c.origin, String(checkpointSize(c)), checkpointRoot(streams).toString('base64'),
    CHECKPOINT_FORMAT, `sequence ${c.sequence}`, `time ${c.time}`,
    `previous ${c.previous ? c.previous.toString('base64') : 'none'}`,
    ...streams.map(streamLine),
  ].join('\n') + '\n';
}

/** SHA-256 of a checkpoint file's bytes: what the next checkpoint's `previous` names. */
export function checkpointFileHash(note: string): Buffer {
  return createHash('sha256').update(note, 'utf8').digest();
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Parses (already verified) note text; throws NoteFormatError naming the bad line. */
export function parseCheckpoint(text: string): Checkpoint {
  const lines = text.replace(/\n$/, '').split('\n');
  const bad = (i: number, why: string): never => {
    throw new NoteFormatError(`checkpoint line ${i + 1} ${JSON.stringify((lines[i] ?? '').slice(0, 80))}: ${why}`);
  };
  if (lines.length < 7) bad(lines.length, 'the checkpoint is cut short');
  if (lines[3] !== CHECKPOINT_FORMAT) bad(3, `expected ${CHECKPOINT_FORMAT}`);
  const field = (i: number, key: string): string => (lines[i]!.startsWith(`${key} `) ? lines[i]!.slice(key.length + 1) : bad(i, `expected "${key} …"`));
  const sequence = Number(field(4, 'sequence'));
  if (!Number.isSafeInteger(sequence) || sequence < 1) bad(4, 'not a positive whole number');
  const time = field(5, 'time');
  const prev = field(6, 'previous');
  const streams = lines.slice(7).map((line, j) => {
    const m = /^stream (\d+) ([0-9a-f]{64}) ([A-Za-z0-9+/]{43}=) (".*")$/.exec(line);
    if (!m || !HEX64.test(m[2]!)) return bad(7 + j, 'expected "stream <seq> <head hash> <merkle root> <stream id as JSON>"');
    let streamId: unknown;
    try {
      streamId = JSON.parse(m[4]!);
    } catch {
      return bad(7 + j, 'the stream id is not a JSON string');
    }
    return { streamId: String(streamId), seq: Number(m[1]), headHash: m[2]!, merkleRoot: Buffer.from(m[3]!, 'base64') };
  });
  const c: Checkpoint = { origin: lines[0]!, sequence, time, previous: prev === 'none' ? null : Buffer.from(prev, 'base64'), streams };
  if (String(checkpointSize(c)) !== lines[1]) bad(1, 'the size is not the sum of the streams\' seqs');
  if (checkpointRoot(streams).toString('base64') !== lines[2]) bad(2, 'the root does not match the stream lines');
  return c;
}
