/**
 * The `cvd-activity` command: commander program, global flags, and one place
 * that turns every failure into one line on stderr and a documented exit code.
 */
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands/index';
import { recordWithStoreWriter } from './cliAudit';
import type { CliAuditRecorder } from './cliAudit';
import { CliError, EXIT } from './CliError';
import { resolveConnection } from './connection';
import type { CliConnection } from './connection';

/** What every command gets besides its own flags. */
export interface CliContext {
  /** The subcommand group `name` (`audit`, `spool`, `alerts`…), created on first use. */
  group(name: string, description: string): Command;
  /** Connection settings from the global flags and the environment. */
  connection(command: Command): CliConnection;
  /** Records the CLI's own audit events (injectable for tests and the composition root). */
  recordAudit: CliAuditRecorder;
  /** Output streams (injectable). */
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Adds one command (or several) to the program; see commands/index.ts. */
export type CommandModule = (program: Command, cli: CliContext) => void;

/** Options of `runCli()`. */
export interface RunOptions {
  recordAudit?: CliAuditRecorder;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
}

/** Builds the program with every registered command. */
export function buildProgram(options: RunOptions = {}): Command {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const program = new Command('cvd-activity')
    .description('Activity tracking and the tamper-evident audit trail of cvd-activity')
    .option('--database-url <url>', 'postgres:// URL (default: CVD_ACTIVITY_DATABASE_URL, DATABASE_URL, then PG* variables)')
    .option('--schema <name>', 'schema of the audit tables (default: CVD_ACTIVITY_SCHEMA or cvd_activity)')
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => stdout.write(s),
      writeErr: (s) => stderr.write(s),
      outputError: (s, write) => write(`cvd-activity: ${s.replace(/^error: /, '').trim().replace(/\n+/g, ' ')}\n`),
    })
    .exitOverride();
  const groups = new Map<string, Command>();
  const cli: CliContext = {
    group(name, description) {
      let group = groups.get(name);
      if (!group) {
        group = program.command(name).description(description);
        group.configureOutput(program.configureOutput()).exitOverride().showSuggestionAfterError(true);
        groups.set(name, group);
      }
      return group;
    },
    connection(command) {
      return resolveConnection(command.optsWithGlobals<{ databaseUrl?: string; schema?: string }>(), options.env ?? process.env);
    },
    recordAudit: options.recordAudit ?? recordWithStoreWriter,
    stdout,
    stderr,
  };
  for (const register of COMMANDS) register(program, cli);
  return program;
}

/** Runs the CLI on `argv` (process.argv shape) and resolves to the exit code; never throws. */
export async function runCli(argv: string[], options: RunOptions = {}): Promise<number> {
  const stderr = options.stderr ?? process.stderr;
  const program = buildProgram(options);
  try {
    await program.parseAsync(argv);
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has already printed its one line (or the help).
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (err instanceof CliError) {
      stderr.write(`cvd-activity: ${err.message}\n`);
      return err.exitCode;
    }
    const e = err as Error;
    stderr.write(`cvd-activity: internal error: ${e?.message ?? String(err)}${process.env.CVD_ACTIVITY_DEBUG ? `\n${e?.stack}` : ''}\n`);
    return EXIT.INTERNAL;
  }
}
