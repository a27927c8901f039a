/**
 * Merkle trees as RFC 9162 (Certificate Transparency 2.0, section 2.1) defines
 * them: leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right),
 * the tree over n leaves split at the largest power of two below n. Used for a
 * stream's rows (the data of leaf seq-1 is the row's 32-byte chain hash) and
 * for the streams of a checkpoint.
 */
import { createHash } from 'node:crypto';

/** SHA-256(0x00 || data): the hash of one leaf. */
export function leafHash(data: Buffer): Buffer {
  return createHash('sha256').update(LEAF).update(data).digest();
}

/** SHA-256(0x01 || left || right): the hash of an inner node. */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE).update(left).update(right).digest();
}

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);
/** MTH({}) = SHA-256 of the empty string. */
export const EMPTY_ROOT = createHash('sha256').digest();

/**
 * The right edge of a tree (its "compact range" from 0): the roots of the
 * perfect subtrees that make up `size` leaves, largest first, one per 1-bit of
 * size. Enough to append leaves and compute the root without the leaves, so a
 * checkpoint costs the rows added since the last one, not the whole stream.
 */
export class MerkleFrontier {
  constructor(private size = 0, private readonly hashes: Buffer[] = []) {}

  /** Leaves appended so far. */
  get treeSize(): number {
    return this.size;
  }

  /** The subtree roots, for saving (restore with `new MerkleFrontier(size, hashes)`). */
  get subtrees(): readonly Buffer[] {
    return this.hashes;
  }

  /** Appends one leaf given its data (a chain hash). */
  append(data: Buffer): void {
    let h = leafHash(data);
    // Like binary addition: each trailing 1-bit of size is a subtree of equal height to merge with.
    for (let s = this.size; s & 1; s = Math.floor(s / 2)) h = nodeHash(this.hashes.pop()!, h);
    this.hashes.push(h);
    this.size += 1;
  }

  /** MTH of the leaves appended so far. */
  root(): Buffer {
    if (this.hashes.length === 0) return EMPTY_ROOT;
    let h = this.hashes[this.hashes.length - 1]!;
    for (let i = this.hashes.length - 2; i >= 0; i--) h = nodeHash(this.hashes[i]!, h);
    return h;
  }
}

/** MTH over leaf data (RFC 9162 2.1.1). */
export function merkleRoot(leaves: readonly Buffer[]): Buffer {
  const f = new MerkleFrontier();
  for (const leaf of leaves) f.append(leaf);
  return f.root();
}

/** Largest power of two smaller than n (n >= 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The inclusion proof PATH(m, D[n]) of leaf `index` (RFC 9162 2.1.3.1), over
 * the leaves' hashes (leafHash of each leaf's data), computed bottom-up.
 */
export function inclusionPath(leafHashes: readonly Buffer[], index: number): Buffer[] {
  if (index < 0 || index >= leafHashes.length) throw new RangeError(`leaf ${index} is not in a tree of ${leafHashes.length}`);
  const path: Buffer[] = [];
  let lo = 0;
  let hi = leafHashes.length;
  const stack: Array<[number, number]> = [];
  // Descend to the leaf, remembering the sibling ranges; their roots are the path, deepest first.
  while (hi - lo > 1) {
    const k = split(hi - lo);
    if (index < lo + k) {
      stack.push([lo + k, hi]);
      hi = lo + k;
    } else {
      stack.push([lo, lo + k]);
      lo += k;
    }
  }
  for (let i = stack.length - 1; i >= 0; i--) path.push(subtreeRoot(leafHashes, stack[i]![0], stack[i]![1]));
  return path;
}

function subtreeRoot(leafHashes: readonly Buffer[], lo: number, hi: number): Buffer {
  if (hi - lo === 1) return leafHashes[lo]!;
  const k = split(hi - lo);
  return nodeHash(subtreeRoot(leafHashes, lo, lo + k), subtreeRoot(leafHashes, lo + k, hi));
}

/** Verifies an inclusion proof (RFC 9162 2.1.3.2): true when `path` leads from the leaf to `root`. */
export function verifyInclusion(o: { leaf: Buffer; index: number; treeSize: number; path: readonly Buffer[]; root: Buffer }): boolean {
  if (!(o.index >= 0 && o.index < o.treeSize)) return false;
  let fn = o.index;
  let sn = o.treeSize - 1;
  let r = o.leaf;
  for (const p of o.path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(o.root);
}
