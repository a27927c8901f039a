/**
 * The leaves file written beside each checkpoint: the chain hashes of the rows
 * that checkpoint added, one line per stream, `<first seq> <base64 of the
 * 32-byte hashes> <stream id as JSON>`. Not signed: verify trusts it only where
 * it rebuilds the signed Merkle roots, and then uses it to name the exact event
 * that was rewritten.
 */
import type { NewLeaves } from './takeCheckpoint';
import { NoteFormatError } from './signedNote';

/** The text of a leaves file. */
export function formatLeaves(leaves: readonly NewLeaves[]): string {
  return leaves.map((l) => `${l.fromSeq} ${Buffer.concat(l.hashes).toString('base64')} ${JSON.stringify(l.streamId)}\n`).join('');
}

/** Parses a leaves file; throws NoteFormatError naming the bad line. */
export function parseLeaves(text: string): NewLeaves[] {
  return text.split('\n').filter((line) => line !== '').map((line, i) => {
    const m = /^(\d+) ([A-Za-z0-9+/]*={0,2}) (".*")$/.exec(line);
    const bytes = m ? Buffer.from(m[2]!, 'base64') : null;
    if (!m || !bytes || bytes.length % 32 !== 0) throw new NoteFormatError(`leaves line ${i + 1}: expected "<first seq> <base64 hashes> <stream id as JSON>"`);
    const hashes: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 32) hashes.push(bytes.subarray(at, at + 32));
    return { streamId: String(JSON.parse(m[3]!)), fromSeq: Number(m[1]), hashes };
  });
}
