/**
 * C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys from node:crypto:
 * text ending in a newline, a blank line, then `— <key name> base64(key ID ||
 * signature)`. Keys are written in the encoding of Go's golang.org/x/mod/sumdb/note
 * (`<name>+<key ID hex>+<base64(0x01 || key)>`, the private one prefixed
 * `PRIVATE+KEY+`), so other tools of that family read them.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** Signature type byte of Ed25519 in C2SP signed-note. */
const ED25519 = 0x01;
const SIGNATURE_PREFIX = '\u2014 ';
// PKCS#8 / SPKI wrappers of a raw 32-byte Ed25519 key (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const KEY_NAME = /^[^\s+\u2014]+$/;

/** A key that signs notes. */
export interface NoteSigner {
  name: string;
  keyId: Buffer;
  privateKey: KeyObject;
  /** The verifier key, `<name>+<key ID>+<base64>`: what auditors are given. */
  publicKey: string;
}

/** A key that verifies notes. */
export interface NoteVerifier {
  name: string;
  keyId: Buffer;
  publicKey: KeyObject;
}

/** A bad key or note; the message says what is wrong. */
export class NoteFormatError extends Error {
  override name = 'NoteFormatError';
}

function keyId(name: string, raw: Buffer): Buffer {
  return createHash('sha256').update(name).update(Buffer.from([0x0a, ED25519])).update(raw).digest().subarray(0, 4);
}

function checkKeyName(name: string): string {
  if (!KEY_NAME.test(name)) throw new NoteFormatError(`key name ${JSON.stringify(name)} is not valid: use letters, digits and punctuation, without spaces or "+"`);
  return name;
}

/** A new Ed25519 key named `name`, as the `PRIVATE+KEY+…` text to keep secret. */
export function generateSignerKey(name: string): string {
  checkKeyName(name);
  const { privateKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
  const pub = rawPublic(createPublicKey(privateKey));
  return `PRIVATE+KEY+${name}+${keyId(name, pub).toString('hex')}+${Buffer.concat([Buffer.from([ED25519]), seed]).toString('base64')}`;
}

function rawPublic(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

/** Splits at the first `count - 1` plus signs (base64, the last part, may hold more). */
function splitKey(text: string, count: number): string[] | null {
  const parts: string[] = [];
  let rest = text.trim();
  for (let i = 1; i < count; i++) {
    const at = rest.indexOf('+');
    if (at < 0) return null;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  return [...parts, rest];
}

/** Parses a `PRIVATE+KEY+<name>+<id>+<base64>` key. */
export function parseSignerKey(text: string): NoteSigner {
  const parts = splitKey(text, 5);
  if (!parts || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') {
    throw new NoteFormatError('not a checkpoint signing key: expected PRIVATE+KEY+<name>+<key id>+<base64>');
  }
  const name = checkKeyName(parts[2]!);
  const bytes = Buffer.from(parts[4]!, 'base64');
  if (bytes.length !== 33 || bytes[0] !== ED25519) throw new NoteFormatError('the signing key is not an Ed25519 key (type 0x01, 32 bytes)');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, bytes.subarray(1)]), format: 'der', type: 'pkcs8' });
  const pub = rawPublic(createPublicKey(privateKey));
  const id = keyId(name, pub);
  if (id.toString('hex') !== parts[3]) throw new NoteFormatError(`the signing key's id ${parts[3]} does not match its key (${id.toString('hex')}): the key text is damaged`);
  return { name, keyId: id, privateKey, publicKey: `${name}+${id.toString('hex')}+${Buffer.concat([Buffer.from([ED25519]), pub]).toString('base64')}` };
}

/** Parses a `<name>+<id>+<base64>` verifier key. */
export function parseVerifierKey(text: string): NoteVerifier {
  const parts = splitKey(text, 3);
  if (!parts) throw new NoteFormatError('not a checkpoint public key: expected <name>+<key id>+<base64> (what `audit checkpoint` prints)');
  const name = checkKeyName(parts[0]!);
  const bytes = Buffer.from(parts[2]!, 'base64');
  if (bytes.length !== 33 || bytes[0] !== ED25519) throw new NoteFormatError('the public key is not an Ed25519 key (type 0x01, 32 bytes)');
  const raw = bytes.subarray(1);
  const id = keyId(name, raw);
  if (id.toString('hex') !== parts[1]) throw new NoteFormatError(`the public key's id ${parts[1]} does not match its key: the key text is damaged`);
  return { name, keyId: id, publicKey: createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' }) };
}

/** Signs `text` (which must end in a newline) and returns the whole note. */
export function signNote(text: string, signer: NoteSigner): string {
  checkText(text);
  const sig = sign(null, Buffer.from(text, 'utf8'), signer.privateKey);
  return `${text}\n${SIGNATURE_PREFIX}${signer.name} ${Buffer.concat([signer.keyId, sig]).toString('base64')}\n`;
}

function checkText(text: string): void {
  if (!text.endsWith('\n')) throw new NoteFormatError('note text must end in a newline');
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) throw new NoteFormatError('note text must not contain control characters other than newline');
}

/** A note split into its text and signature lines (not verified). */
export interface ParsedNote {
  text: string;
  signatures: Array<{ name: string; keyId: Buffer; signature: Buffer }>;
}

/** Splits a note; throws NoteFormatError when it is not a signed note. */
export function parseNote(note: string): ParsedNote {
  const at = note.lastIndexOf('\n\n');
  if (at < 0 || !note.endsWith('\n')) throw new NoteFormatError('not a signed note: no blank line before signature lines');
  const text = note.slice(0, at + 1);
  checkText(text);
  const signatures = note.slice(at + 2, -1).split('\n').map((line) => {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) throw new NoteFormatError(`not a signed note: bad signature line ${JSON.stringify(line.slice(0, 80))}`);
    const bytes = Buffer.from(m[2]!, 'base64');
    if (bytes.length < 5) throw new NoteFormatError(`signature of ${m[1]} is too short`);
    return { name: m[1]!, keyId: bytes.subarray(0, 4), signature: bytes.subarray(4) };
  });
  return { text, signatures };
}

/**
 * The note's text when `verifier` signed it. Signatures of other keys are
 * ignored, as the spec says; a signature of this key that fails, or none at
 * all, throws NoteFormatError naming the key.
 */
export function openNote(note: string, verifier: NoteVerifier): string {
  const parsed = parseNote(note);
  const mine = parsed.signatures.filter((s) => s.name === verifier.name && s.keyId.equals(verifier.keyId));
  if (mine.length === 0) {
    const others = parsed.signatures.map((s) => `${s.name}+${s.keyId.toString('hex')}`).join(', ');
    throw new NoteFormatError(`not signed by key ${verifier.name}+${verifier.keyId.toString('hex')} (signed by: ${others})`);
  }
  for (const s of mine) {
    if (!verify(null, Buffer.from(parsed.text, 'utf8'), verifier.publicKey, s.signature)) {
      throw new NoteFormatError(`the signature of key ${verifier.name}+${verifier.keyId.toString('hex')} does not verify: the note was changed or forged`);
    }
  }
  return parsed.text;
}
