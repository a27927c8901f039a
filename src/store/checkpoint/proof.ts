/**
 * Inclusion proofs for one event: `makeProof` reads the event and its stream's
 * chain hashes (database), `verifyProof` checks a proof with nothing but the
 * public key. A proof holds the event's stored content, its place in the
 * chain, the RFC 9162 inclusion path from its chain hash to the stream's
 * Merkle root, and the signed checkpoint that holds that root.
 */
import type { ClientBase } from 'pg';
import { chainHash } from '../canonicalEncoding';
import type { ChainRow } from '../canonicalEncoding';
import { checkName, DEFAULT_SCHEMA, quoteIdent } from '../identifiers';
import { ROW_AS_TEXT, toChainRow } from '../verify';
import { parseCheckpoint } from './checkpointText';
import type { Checkpoint } from './checkpointText';
import { inclusionPath, leafHash, verifyInclusion } from './merkle';
import { openNote, parseNote } from './signedNote';
import { inSnapshot } from '../snapshot';
import type { NoteVerifier } from './signedNote';

/** Format tag of a proof file. */
export const PROOF_FORMAT = 'cvd-activity-proof/1';

/** A proof file (JSON). */
export interface InclusionProof {
  format: typeof PROOF_FORMAT;
  streamId: string;
  seq: number;
  /** Chain hash of the row before (null at seq 1): part of what the event's hash commits to. */
  prevHash: string | null;
  /** The event as stored and hashed (canonical values, see docs/audit-trail.md). */
  event: ChainRow;
  /** Leaves of the stream's tree = the stream's seq in the checkpoint. */
  treeSize: number;
  /** Sibling hashes (base64), deepest first. */
  path: string[];
  /** The signed checkpoint, whole. */
  checkpoint: string;
}

/** A proof cannot be made, or does not verify; the message says why. */
export class ProofError extends Error {
  override name = 'ProofError';
}

/** Builds the proof that event `eventId` is covered by `checkpointNote`. */
export async function makeProof(client: ClientBase, o: { schema?: string; eventId: string; checkpointNote: string }): Promise<InclusionProof> {
  const schema = checkName('schema', o.schema ?? DEFAULT_SCHEMA);
  const s = quoteIdent(schema);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(o.eventId)) throw new ProofError(`${JSON.stringify(o.eventId)} is not an event id (a UUID)`);
  const checkpoint = parseCheckpoint(parseNote(o.checkpointNote).text);
  return inSnapshot(client, `making a proof for event ${o.eventId}`,
    () => build(client, s, o.eventId.toLowerCase(), checkpoint, o.checkpointNote), [ProofError]);
}

async function build(client: ClientBase, s: string, eventId: string, checkpoint: Checkpoint, note: string): Promise<InclusionProof> {
  const { rows } = await client.query(`SELECT ${ROW_AS_TEXT}, l.stream_id FROM ${s}.audit_log l WHERE l.event_id = $1`, [eventId]);
  if (rows.length === 0) throw new ProofError(`event ${eventId} is not in the audit trail`);
  const r = rows[0];
  const seq = Number(r.seq);
  const entry = checkpoint.streams.find((x) => x.streamId === r.stream_id);
  if (!entry || entry.seq < seq) {
    throw new ProofError(`event ${eventId} (stream ${r.stream_id}, seq ${seq}) is newer than checkpoint ${checkpoint.sequence}: take a checkpoint (cvd-activity audit checkpoint) and prove against it`);
  }
  const event = toChainRow(r);
  if (chainHash({ streamId: r.stream_id, seq, prevHash: r.prev_hash }, event) !== r.hash) {
    throw new ProofError(`event ${eventId} no longer matches its hash: the trail was altered (run cvd-activity audit verify)`);
  }
  const leaves: Buffer[] = [];
  for (let after = 0; after < entry.seq;) {
    const page = await client.query(`SELECT l.seq::text AS seq, l.hash FROM ${s}.audit_log l WHERE stream_id = $1 AND seq > $2 AND seq <= $3
      ORDER BY l.seq LIMIT 50000`, [r.stream_id, after, entry.seq]);
    for (const p of page.rows) {
      if (Number(p.seq) !== leaves.length + 1) throw new ProofError(`stream ${r.stream_id}: events from seq ${leaves.length + 1} are missing (removed by retention?): no proof can be made from this database`);
      leaves.push(leafHash(Buffer.from(p.hash, 'hex')));
    }
    if (page.rows.length === 0) break;
    after = Number(page.rows[page.rows.length - 1].seq);
  }
  if (leaves.length !== entry.seq) throw new ProofError(`stream ${r.stream_id}: only ${leaves.length} of the ${entry.seq} events the checkpoint covers are stored`);
  const path = inclusionPath(leaves, seq - 1);
  if (!verifyInclusion({ leaf: leaves[seq - 1]!, index: seq - 1, treeSize: entry.seq, path, root: entry.merkleRoot })) {
    throw new ProofError(`stream ${r.stream_id} no longer matches checkpoint ${checkpoint.sequence}: the trail was altered (run cvd-activity audit verify --checkpoints)`);
  }
  return {
    format: PROOF_FORMAT, streamId: r.stream_id, seq, prevHash: r.prev_hash, event, treeSize: entry.seq,
    path: path.map((h) => h.toString('base64')), checkpoint: note,
  };
}

/** What a valid proof shows. */
export interface ProvenEvent {
  proof: InclusionProof;
  checkpoint: Checkpoint;
  /** Chain hash of the event (hex). */
  hash: string;
}

/** Verifies a proof file's text with the public key only; throws ProofError saying what failed. */
export function verifyProof(text: string, verifier: NoteVerifier): ProvenEvent {
  let proof: InclusionProof;
  try {
    proof = JSON.parse(text) as InclusionProof;
  } catch (err) {
    throw new ProofError(`the proof is not valid JSON: ${(err as Error).message}`);
  }
  if (proof?.format !== PROOF_FORMAT || typeof proof.checkpoint !== 'string' || !Array.isArray(proof.path) || typeof proof.event !== 'object' || proof.event === null) {
    throw new ProofError(`not a ${PROOF_FORMAT} proof`);
  }
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(openNote(proof.checkpoint, verifier));
  } catch (err) {
    throw new ProofError(`the proof's checkpoint: ${(err as Error).message}`);
  }
  const entry = checkpoint.streams.find((x) => x.streamId === proof.streamId);
  if (!entry) throw new ProofError(`checkpoint ${checkpoint.sequence} has no stream ${JSON.stringify(proof.streamId)}`);
  if (entry.seq !== proof.treeSize) throw new ProofError(`the proof's tree size ${proof.treeSize} is not the checkpoint's seq ${entry.seq} of stream ${proof.streamId}`);
  let hash: string;
  try {
    hash = chainHash({ streamId: proof.streamId, seq: proof.seq, prevHash: proof.prevHash }, proof.event);
  } catch (err) {
    throw new ProofError(`the proof's event cannot be hashed: ${(err as Error).message}`);
  }
  const path = proof.path.map((p) => Buffer.from(String(p), 'base64'));
  if (path.some((p) => p.length !== 32) || !verifyInclusion({ leaf: leafHash(Buffer.from(hash, 'hex')), index: proof.seq - 1, treeSize: proof.treeSize, path, root: entry.merkleRoot })) {
    throw new ProofError(`event ${proof.event.eventId} at seq ${proof.seq} of stream ${proof.streamId} is NOT covered by checkpoint ${checkpoint.sequence}: the event or the proof was changed`);
  }
  return { proof, checkpoint, hash };
}
