/**
 * `audit checkpoint`, `audit prove` and `audit verify-proof`: signed
 * checkpoints of the trail and inclusion proofs for one event (see
 * docs/checkpoints.md). verify-proof never touches the database.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { checkpointFileHash, formatCheckpoint, parseCheckpoint } from '../../store/checkpoint/checkpointText';
import type { Checkpoint } from '../../store/checkpoint/checkpointText';
import { formatLeaves } from '../../store/checkpoint/leavesText';
import { makeProof, ProofError, verifyProof } from '../../store/checkpoint/proof';
import { openNote, parseNote, signNote } from '../../store/checkpoint/signedNote';
import type { NoteSigner } from '../../store/checkpoint/signedNote';
import { CheckpointRefusedError, takeCheckpoint } from '../../store/checkpoint/takeCheckpoint';
import { defaultKeyFile, loadSigner, loadVerifier, readCheckpointDir, readFrontiers, writeCheckpoint, writeFrontiers } from '../checkpointFiles';
import { CliError, EXIT } from '../CliError';
import type { CliConnection } from '../connection';
import { requireSchema, withClient } from '../connection';
import type { CliContext } from '../program';

interface CheckpointFlags { dir: string; copyTo: string[]; stdout?: boolean; keyFile?: string; origin?: string }

/** Registers the three checkpoint commands. */
export function registerAuditCheckpoint(_program: Command, cli: CliContext): void {
  const audit = cli.group('audit', 'read and check the audit trail');
  audit.command('checkpoint')
    .description('sign a checkpoint of every stream head (one snapshot) into a directory; nothing is written when nothing changed')
    .option('--dir <dir>', 'checkpoint directory (NNNNNNNN.checkpoint + .leaves, frontier.json)', 'checkpoints')
    .option('--copy-to <dir>', 'also write the checkpoint (and leaves) here; repeatable', (v: string, all: string[]) => [...all, v], [])
    .option('--stdout', 'also print the signed checkpoint on stdout (for piping to object storage or git); messages go to stderr')
    .option('--key-file <file>', `signing key file, created (mode 0600) on first use (default: $CVD_ACTIVITY_CHECKPOINT_KEY, else .cvd-activity/checkpoint.key)`)
    .option('--origin <name>', 'origin line of the checkpoints (default: that of the newest checkpoint, else cvd-activity/<host:port/database>/<schema>)')
    .addHelpText('after', '\nExit codes: 0 written or unchanged; 1 the trail no longer extends the newest checkpoint (run audit verify --checkpoints);\n2 bad flag or key; 3 database error.')
    .action(async (flags: CheckpointFlags, command: Command) => checkpoint(cli, flags, cli.connection(command)));

  audit.command('prove <event-id>')
    .description('write an inclusion proof: this event, with this content, is covered by this signed checkpoint')
    .requiredOption('--checkpoint <file>', 'the checkpoint file to prove against')
    .option('--out <file>', 'proof file (default: stdout)')
    .action(async (eventId: string, flags: { checkpoint: string; out?: string }, command: Command) => {
      const note = readText(flags.checkpoint, '--checkpoint');
      try {
        parseCheckpoint(parseNote(note).text);
      } catch (err) {
        throw new CliError(EXIT.USAGE, `--checkpoint ${flags.checkpoint}: ${(err as Error).message}`, { cause: err });
      }
      const conn = cli.connection(command);
      const proof = await withClient(conn, `proving event ${eventId}`, async (client) => {
        await requireSchema(client, conn);
        return makeProof(client, { schema: conn.schema, eventId, checkpointNote: note }).catch((err) => {
          if (err instanceof ProofError) throw new CliError(EXIT.FAILED, err.message, { cause: err });
          throw err;
        });
      });
      const text = `${JSON.stringify(proof, null, 1)}\n`;
      if (flags.out) {
        writeFileSync(flags.out, text);
        cli.stderr.write(`cvd-activity: proof for event ${proof.event.eventId} (stream ${proof.streamId}, seq ${proof.seq} of ${proof.treeSize}) written to ${flags.out}\n`);
      } else cli.stdout.write(text);
    });

  audit.command('verify-proof <proof>')
    .description('check an inclusion proof with the public key only (no database)')
    .requiredOption('--public-key <key>', 'the checkpoint public key (<name>+<id>+<base64>, as `audit checkpoint` prints it) or a file holding it')
    .action((file: string, flags: { publicKey: string }) => {
      const verifier = loadVerifier(flags.publicKey);
      try {
        const { proof, checkpoint } = verifyProof(readText(file, 'proof'), verifier);
        const e = proof.event;
        cli.stdout.write(`proof valid: event ${e.eventId} (${e.action}, ${e.outcome}, actor ${e.userId ?? e.actorType}, ${e.createdAt}) is at seq ${proof.seq} of stream ${proof.streamId},\n`
          + `covered by checkpoint ${checkpoint.sequence} of ${checkpoint.origin} (${checkpoint.time}) signed by ${verifier.name}\n`);
      } catch (err) {
        if (err instanceof ProofError) throw new CliError(EXIT.FAILED, `proof INVALID: ${err.message}`, { cause: err });
        throw err;
      }
    });
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(EXIT.USAGE, `${what} ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** The newest checkpoint of the directory, which must be signed by our key. */
function newest(dir: string, signer: NoteSigner): { checkpoint: Checkpoint; fileHash: Buffer } | null {
  const files = readCheckpointDir(dir);
  const last = files[files.length - 1];
  if (!last) return null;
  try {
    return { checkpoint: parseCheckpoint(openNote(last.note, loadVerifier(signer.publicKey))), fileHash: checkpointFileHash(last.note) };
  } catch (err) {
    throw new CliError(EXIT.FAILED, `${join(dir, last.name)}: ${(err as Error).message}; refusing to chain a new checkpoint onto it (run audit verify --checkpoints)`, { cause: err });
  }
}

async function checkpoint(cli: CliContext, flags: CheckpointFlags, conn: CliConnection): Promise<void> {
  const cwd = cli.cwd ?? process.cwd();
  const dir = isAbsolute(flags.dir) ? flags.dir : resolve(cwd, flags.dir);
  const signer = loadSigner({
    keyFile: flags.keyFile, env: cli.env ?? process.env, defaultFile: defaultKeyFile(cwd),
    created: (publicKey, file) => cli.stderr.write(`cvd-activity: created signing key ${file} (mode 0600); give auditors its public key:\n${publicKey}\n`),
  });
  const previous = existsSync(dir) ? newest(dir, signer) : null;
  const origin = flags.origin ?? previous?.checkpoint.origin ?? `cvd-activity/${conn.target}/${conn.schema}`;
  const frontiers = readFrontiers(dir);
  const refused = (err: unknown) => {
    if (err instanceof CheckpointRefusedError) throw new CliError(EXIT.FAILED, `no checkpoint written: ${err.message}`, { cause: err });
    throw err;
  };
  const take = () => withClient(conn, 'taking a checkpoint', async (client) => {
    await requireSchema(client, conn);
    return takeCheckpoint(client, { schema: conn.schema, previous, frontiers, origin }).catch(refused);
  });
  if (!(await take()).changed) {
    cli.stderr.write(`cvd-activity: unchanged since checkpoint ${previous!.checkpoint.sequence}; nothing written\n`);
    return;
  }
  // Recorded before the snapshot that is signed, so the checkpoint covers its own event
  // and the next run, with nothing else new, finds nothing changed.
  const sequence = (previous?.checkpoint.sequence ?? 0) + 1;
  await cli.recordAudit([{ action: 'AUDIT_CHECKPOINT', fields: {
    resourceId: conn.schema, details: { origin, key: `${signer.name}+${signer.keyId.toString('hex')}`, sequence, previous: previous ? previous.fileHash.toString('base64') : null },
  } }], conn);
  const result = await take();
  if (!result.changed) throw new CliError(EXIT.INTERNAL, 'the trail did not change after recording AUDIT_CHECKPOINT');
  const note = signNote(formatCheckpoint(result.checkpoint), signer);
  const leaves = formatLeaves(result.leaves);
  const file = writeCheckpoint(dir, result.checkpoint.sequence, note, leaves);
  writeFrontiers(dir, result.checkpoint.sequence, result.frontiers);
  for (const copy of flags.copyTo) writeCheckpoint(isAbsolute(copy) ? copy : resolve(cwd, copy), result.checkpoint.sequence, note, leaves);
  if (flags.stdout) cli.stdout.write(note);
  const events = result.checkpoint.streams.reduce((n, s) => n + s.seq, 0);
  const out = flags.stdout ? cli.stderr : cli.stdout;
  out.write(`checkpoint ${result.checkpoint.sequence} written to ${file}: ${result.checkpoint.streams.length} stream(s), ${events} events\npublic key: ${signer.publicKey}\n`);
}
