/**
 * The files of `audit checkpoint`: the signing key (a file only its owner may
 * read, created on first use, or a variable), and the checkpoint directory:
 * `NNNNNNNN.checkpoint` (the signed note), `NNNNNNNN.leaves` beside it, and
 * `frontier.json` (Merkle state so the next checkpoint reads only new rows;
 * never trusted, checked against the signed roots). Files are created with
 * O_EXCL: a checkpoint is never overwritten.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { CheckpointFile } from '../store/checkpoint/checkpointChain';
import { MerkleFrontier } from '../store/checkpoint/merkle';
import { generateSignerKey, parseSignerKey, parseVerifierKey } from '../store/checkpoint/signedNote';
import type { NoteSigner, NoteVerifier } from '../store/checkpoint/signedNote';
import { CliError, EXIT } from './CliError';

/** The variable that may hold the signing key text (instead of a key file). */
export const CHECKPOINT_KEY_ENV = 'CVD_ACTIVITY_CHECKPOINT_KEY';
const CHECKPOINT_FILE = /^(\d{8})\.checkpoint$/;

/** The signing key file used when neither --key-file nor the variable is given. */
export function defaultKeyFile(cwd: string): string {
  return join(cwd, '.cvd-activity', 'checkpoint.key');
}

/** Where the signing key comes from: `--key-file`, else the variable, else the default file. */
export function loadSigner(o: { keyFile?: string; env: NodeJS.ProcessEnv; defaultFile: string; created: (publicKey: string, file: string) => void }): NoteSigner {
  const fromEnv = o.env[CHECKPOINT_KEY_ENV];
  if (!o.keyFile && fromEnv) return parse(() => parseSignerKey(fromEnv), CHECKPOINT_KEY_ENV);
  const file = o.keyFile ?? o.defaultFile;
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${generateSignerKey(`${hostname()}/cvd-activity`)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    const signer = parse(() => parseSignerKey(readFileSync(file, 'utf8')), file);
    o.created(signer.publicKey, file);
    return signer;
  }
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    throw new CliError(EXIT.USAGE, `key file ${file} is readable or writable by group or others (mode ${mode.toString(8).padStart(4, '0')}): a signing key must be private; run \`chmod 600 ${file}\` (and consider the key leaked if others could read it)`);
  }
  return parse(() => parseSignerKey(readFileSync(file, 'utf8')), file);
}

/** `--public-key`: the key text itself, or a file holding it. */
export function loadVerifier(value: string): NoteVerifier {
  const text = !value.includes('+') && existsSync(value) ? readFileSync(value, 'utf8') : value;
  return parse(() => parseVerifierKey(text), '--public-key');
}

function parse<T>(read: () => T, source: string): T {
  try {
    return read();
  } catch (err) {
    throw new CliError(EXIT.USAGE, `${source}: ${(err as Error).message}`, { cause: err });
  }
}

/** The checkpoint files of `dir`, in name order, each with its leaves file (null if missing). */
export function readCheckpointDir(dir: string): CheckpointFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new CliError(EXIT.USAGE, `checkpoint directory ${dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (err as Error).message}`, { cause: err });
  }
  return names.filter((n) => CHECKPOINT_FILE.test(n)).sort().map((name) => {
    const leaves = join(dir, name.replace(/\.checkpoint$/, '.leaves'));
    return { name, note: readFileSync(join(dir, name), 'utf8'), leaves: existsSync(leaves) ? readFileSync(leaves, 'utf8') : null };
  });
}

/** Writes checkpoint `sequence` (note and leaves) into `dir`, never over an existing file. */
export function writeCheckpoint(dir: string, sequence: number, note: string, leaves: string): string {
  mkdirSync(dir, { recursive: true });
  const base = String(sequence).padStart(8, '0');
  const file = join(dir, `${base}.checkpoint`);
  try {
    writeFileSync(join(dir, `${base}.leaves`), leaves, { flag: 'wx', mode: 0o444 });
    writeFileSync(file, note, { flag: 'wx', mode: 0o444 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CliError(EXIT.FAILED, `${file} already exists: another \`audit checkpoint\` wrote checkpoint ${sequence} at the same time, or the directory was edited; nothing was overwritten`, { cause: err });
    }
    throw err;
  }
  return file;
}

/** Saved Merkle frontiers of `dir` (empty when missing or unreadable: the next checkpoint then reads whole streams). */
export function readFrontiers(dir: string): Map<string, MerkleFrontier> {
  try {
    const saved = JSON.parse(readFileSync(join(dir, 'frontier.json'), 'utf8')) as { streams: Array<{ streamId: string; size: number; subtrees: string[] }> };
    return new Map(saved.streams.map((s) => [s.streamId, new MerkleFrontier(s.size, s.subtrees.map((h) => Buffer.from(h, 'base64')))]));
  } catch {
    return new Map();
  }
}

/** Saves the frontiers after checkpoint `sequence` (write to a temporary file, then rename). */
export function writeFrontiers(dir: string, sequence: number, frontiers: ReadonlyMap<string, MerkleFrontier>): void {
  const streams = [...frontiers].map(([streamId, f]) => ({ streamId, size: f.treeSize, subtrees: f.subtrees.map((h) => h.toString('base64')) }));
  const tmp = join(dir, `.frontier.json.${process.pid}`);
  writeFileSync(tmp, `${JSON.stringify({ sequence, streams })}\n`);
  renameSync(tmp, join(dir, 'frontier.json'));
}
