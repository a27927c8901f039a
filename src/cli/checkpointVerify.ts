/**
 * The `--checkpoints <dir> [--public-key <key>]` part of `audit verify`: the
 * trail checked against signed checkpoints (store/checkpoint/verifyCheckpoints).
 */
import { existsSync } from 'node:fs';
import type pg from 'pg';
import { verifyCheckpoints } from '../store/checkpoint/verifyCheckpoints';
import type { VerifyCheckpointsResult } from '../store/checkpoint/verifyCheckpoints';
import type { NoteVerifier } from '../store/checkpoint/signedNote';
import { CHECKPOINT_KEY_ENV, defaultKeyFile, loadSigner, loadVerifier, readCheckpointDir } from './checkpointFiles';
import { CliError, EXIT } from './CliError';
import type { CliContext } from './program';

/** The flags `audit verify` gains. */
export interface CheckpointVerifyFlags {
  checkpoints?: string;
  publicKey?: string;
}

/** The key checkpoints are checked with: --public-key, else the public half of this host's signing key. */
function verifierFor(cli: CliContext, flags: CheckpointVerifyFlags): NoteVerifier {
  if (flags.publicKey) return loadVerifier(flags.publicKey);
  const env = cli.env ?? process.env;
  const defaultFile = defaultKeyFile(cli.cwd ?? process.cwd());
  if (!env[CHECKPOINT_KEY_ENV] && !existsSync(defaultFile)) {
    throw new CliError(EXIT.USAGE, '--checkpoints needs --public-key <key> (what `audit checkpoint` prints), or the signing key on this host');
  }
  const signer = loadSigner({ env, defaultFile, created: () => {} });
  return loadVerifier(signer.publicKey);
}

/** Reads the directory and the key (usage errors before any database work). */
export function checkpointInputs(cli: CliContext, flags: CheckpointVerifyFlags) {
  if (!flags.checkpoints) return null;
  const files = readCheckpointDir(flags.checkpoints);
  if (files.length === 0) throw new CliError(EXIT.FAILED, `checkpoint directory ${flags.checkpoints} holds no checkpoints (NNNNNNNN.checkpoint)`);
  return { files, verifier: verifierFor(cli, flags) };
}

/** Runs the checks inside the verify connection. */
export function runCheckpointVerify(client: pg.Client, schema: string, inputs: NonNullable<ReturnType<typeof checkpointInputs>>): Promise<VerifyCheckpointsResult> {
  return verifyCheckpoints(client, { schema, files: inputs.files, verifier: inputs.verifier });
}

/** Prints the findings as `audit verify` prints chain breaks. */
export function printCheckpointResult(cli: CliContext, r: VerifyCheckpointsResult): void {
  for (const p of r.problems) cli.stdout.write(`BROKEN ${p.kind}: ${p.message}\n`);
  for (const note of [...new Set(r.retained)]) cli.stdout.write(`note   ${note}\n`);
  if (r.ok) {
    cli.stdout.write(`checkpoints intact: ${r.checkpoints} checkpoint(s) up to sequence ${r.latestSequence}, signatures and chain valid, ${r.eventsCompared} events match what they signed\n`);
  }
}
