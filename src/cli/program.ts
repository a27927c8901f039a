/**
 * The `cvd-activity` command: commander program, global flags, and one place
 * that turns every failure into one line on stderr and a documented exit code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands/index';
import { recordWithStoreWriter } from './cliAudit';
import type { CliAuditRecorder } from './cliAudit';
import { CliError, EXIT } from './CliError';
import { resolveConnection } from './connection';
import type { CliConnection } from './connection';
import { DemoDatabaseLease, demoDatabaseInfo } from './demoDatabase';
import { ConfigError } from '../config/ConfigError';
import { loadConfig } from '../config/loadConfig';
import type { CvdActivityConfig } from '../config/types';

/** What every command gets besides its own flags. */
export interface CliContext {
  /** The subcommand group `name` (`audit`, `spool`, `alerts`…), created on first use. */
  group(name: string, description: string): Command;
  /** Connection settings from the global flags, config/ and the demo's state. */
  connection(command: Command): CliConnection;
  /** The validated configuration (config/: CVD_ACTIVITY_* variables, the config file, defaults); bad values are exit 2. */
  config(): CvdActivityConfig;
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
  /** Folder whose `.cvd-activity/demo.json` names the demo database (default: the current folder). */
  cwd?: string;
}

/** A program and what to release after it ran. */
interface CliInstance {
  program: Command;
  /** Stops what the run started (the demo's embedded server). */
  close(): Promise<void>;
}

/** The package's version, from its package.json (two folders up from src/cli and from dist/cli). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function createCli(options: RunOptions): CliInstance {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const program = new Command('cvd-activity')
    .description('Activity tracking and the tamper-evident audit trail of cvd-activity')
    .option('--database-url <url>', 'postgres:// URL (default: CVD_ACTIVITY_DATABASE_URL, DATABASE_URL, then PG* variables)')
    .option('--schema <name>', 'schema of the audit tables (default: CVD_ACTIVITY_SCHEMA or cvd_activity)')
    .version(packageVersion(), '-V, --version', 'print the version of cvd-activity')
    .addHelpText('after', `
Database: --database-url, else CVD_ACTIVITY_DATABASE_URL, DATABASE_URL, the PG* variables; with none of
them, the embedded PostgreSQL of \`cvd-activity demo\` run in this folder (.cvd-activity/demo.json).
Exit codes: 0 done (checks: intact / nothing fired); 1 a check failed (broken chain, alert firing);
2 bad flag or value; 3 database unreachable, schema missing or permission denied; 4 internal error.
Every failure is one line on stderr; CVD_ACTIVITY_DEBUG=1 adds the stack of internal errors.`)
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => stdout.write(s),
      writeErr: (s) => stderr.write(s),
      outputError: (s, write) => write(`cvd-activity: ${s.replace(/^error: /, '').trim().replace(/\n+/g, ' ')}\n`),
    })
    .exitOverride();
  const groups = new Map<string, Command>();
  const demo = new DemoDatabaseLease(cwd, (line) => void stderr.write(`${line}\n`));
  let config: CvdActivityConfig | undefined;
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
      return resolveConnection(command.optsWithGlobals<{ databaseUrl?: string; schema?: string }>(), {
        env,
        configuredSchema: () => cli.config().database.schema,
        demoInfo: () => demoDatabaseInfo(cwd),
        startDemo: (info) => demo.start(info),
      });
    },
    config() {
      try {
        return (config ??= loadConfig({}, { env, cwd }));
      } catch (err) {
        if (err instanceof ConfigError) throw new CliError(EXIT.USAGE, err.message.replace(/^cvd-activity: /, ''), { cause: err });
        throw err;
      }
    },
    recordAudit: options.recordAudit ?? recordWithStoreWriter,
    stdout,
    stderr,
  };
  for (const register of COMMANDS) register(program, cli);
  return { program, close: () => demo.stop() };
}

/** Runs the CLI on `argv` (process.argv shape) and resolves to the exit code; never throws. */
export async function runCli(argv: string[], options: RunOptions = {}): Promise<number> {
  const stderr = options.stderr ?? process.stderr;
  const { program, close } = createCli(options);
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
  } finally {
    await close();
  }
}
