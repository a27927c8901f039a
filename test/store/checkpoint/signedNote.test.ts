import { expect } from 'chai';
import { generateSignerKey, openNote, parseSignerKey, parseVerifierKey, signNote } from '../../../src/store/checkpoint/signedNote';

describe('C2SP signed notes (Ed25519)', () => {
  const signer = parseSignerKey(generateSignerKey('example.test/audit'));
  const verifier = parseVerifierKey(signer.publicKey);

  it('signs in the signed-note layout and opens with the public key', () => {
    const note = signNote('example.test/audit\n3\nq0Cw6yGl1zA=\n', signer);
    expect(note).to.match(/^example\.test\/audit\n3\nq0Cw6yGl1zA=\n\n\u2014 example\.test\/audit [A-Za-z0-9+/]{91}=\n$/);
    expect(openNote(note, verifier)).to.equal('example.test/audit\n3\nq0Cw6yGl1zA=\n');
    expect(signer.publicKey).to.match(/^example\.test\/audit\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
  });

  it('refuses a changed text, a key with the same name, and a damaged key', () => {
    const note = signNote('origin\n1\nroot\n', signer);
    expect(() => openNote(note.replace('1\n', '2\n'), verifier)).to.throw(/does not verify/);
    const other = parseSignerKey(generateSignerKey('example.test/audit'));
    expect(() => openNote(signNote('origin\n1\nroot\n', other), verifier)).to.throw(/not signed by key example\.test\/audit\+/);
    const damaged = signer.publicKey.replace(/\+(.)/, (_m, c: string) => `+${c === '0' ? '1' : '0'}`);
    expect(() => parseVerifierKey(damaged)).to.throw(/does not match its key/);
  });
});
