import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { inclusionPath, leafHash, merkleRoot, MerkleFrontier, nodeHash, verifyInclusion } from '../../../src/store/checkpoint/merkle';

/** RFC 9162 2.1.1 MTH, written straight from the definition. */
function mth(d: Buffer[]): Buffer {
  if (d.length === 0) return createHash('sha256').digest();
  if (d.length === 1) return leafHash(d[0]!);
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return nodeHash(mth(d.slice(0, k)), mth(d.slice(k)));
}

const leaves = (n: number) => Array.from({ length: n }, (_, i) => createHash('sha256').update(`row ${i}`).digest());

describe('Merkle trees (RFC 9162)', () => {
  it('the frontier gives the RFC root for every size, also when restored from its saved subtrees', () => {
    const d = leaves(70);
    const f = new MerkleFrontier();
    for (let n = 0; n <= d.length; n++) {
      expect(f.root().equals(mth(d.slice(0, n))), `size ${n}`).to.equal(true);
      const restored = new MerkleFrontier(f.treeSize, [...f.subtrees]);
      if (n < d.length) {
        restored.append(d[n]!);
        f.append(d[n]!);
        expect(restored.root().equals(f.root())).to.equal(true);
      }
    }
    expect(merkleRoot(d).equals(mth(d))).to.equal(true);
  });

  it('every leaf of trees of 1..33 leaves has a path that verifies, of at most ceil(log2 n) hashes', () => {
    for (let n = 1; n <= 33; n++) {
      const d = leaves(n);
      const hashes = d.map(leafHash);
      const root = mth(d);
      for (let i = 0; i < n; i++) {
        const path = inclusionPath(hashes, i);
        expect(path.length).to.be.at.most(Math.ceil(Math.log2(n)));
        expect(verifyInclusion({ leaf: hashes[i]!, index: i, treeSize: n, path, root }), `n=${n} i=${i}`).to.equal(true);
      }
    }
  });

  it('a path fails for another leaf, another index, another size or a changed sibling', () => {
    const d = leaves(21);
    const hashes = d.map(leafHash);
    const root = mth(d);
    const path = inclusionPath(hashes, 13);
    const ok = { leaf: hashes[13]!, index: 13, treeSize: 21, path, root };
    expect(verifyInclusion(ok)).to.equal(true);
    expect(verifyInclusion({ ...ok, leaf: hashes[12]! })).to.equal(false);
    expect(verifyInclusion({ ...ok, index: 12 })).to.equal(false);
    expect(verifyInclusion({ ...ok, treeSize: 16 })).to.equal(false);
    const bent = path.map((p) => Buffer.from(p));
    bent[2]![0] ^= 1;
    expect(verifyInclusion({ ...ok, path: bent })).to.equal(false);
    expect(verifyInclusion({ ...ok, path: path.slice(0, -1) })).to.equal(false);
  });
});
