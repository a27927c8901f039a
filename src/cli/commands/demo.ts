/**
 * `cvd-activity demo`: the whole package at work in one command. Starts a
 * PostgreSQL (the configured one, or an embedded one kept under
 * .cvd-activity/), runs the instrumented CVD demo API and a day of simulated
 * traffic, and prints what was tracked: requests, spans, audit events by
 * category, the chain verification and the alerts that fired.
 *
 * Exit codes: 0 done and the chain verified; 1 done but the chain did not
 * verify; 2 the demo could not run (bad flag, database unreachable, port busy).
 */
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import pg from 'pg';
import { evaluateAlerts } from '../../alerts/evaluate';
import { runDemo, type DemoTrail, type StoredEvents } from '../../demo/run';
import { formatSummary } from '../../demo/summary';
import { checkName, quoteIdent } from '../../store/identifiers';
import { migrate } from '../../store/migrate';
import { verifyChain } from '../../store/verify';

interface DemoFlags {
  duration: number;
  schema: string;
  seed: number;
  databaseUrl?: string;
  pgPort: number;
  json?: boolean;
  verbose?: boolean;
}

function positiveInt(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}, got "${value}"`);
    return n;
  };
}

async function withClient<T>(url: string | undefined, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(url ? { connectionString: url } : {});
  try {
    await client.connect();
  } catch (err) {
    const where = url ? url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@') : 'the server named by the PG* variables';
    throw new Error(`cannot connect to PostgreSQL at ${where}: ${(err as Error).message}`);
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Reads back what the demo stored, through the `audit_trail` view (personal data merged back). */
async function stored(client: pg.Client, schema: string): Promise<StoredEvents> {
  const trail = `${quoteIdent(schema)}.audit_trail`;
  const rows = (await client.query<{ category: string; action: string; n: string; invalid: string }>(
    `SELECT category, action, count(*) AS n, count(*) FILTER (WHERE NOT schema_valid) AS invalid FROM ${trail} GROUP BY 1, 2`,
  )).rows;
  const byCategory: Record<string, number> = {};
  const byAction: Record<string, number> = {};
  let total = 0;
  let schemaInvalid = 0;
  for (const r of rows) {
    byCategory[r.category] = (byCategory[r.category] ?? 0) + Number(r.n);
    byAction[r.action] = Number(r.n);
    total += Number(r.n);
    schemaInvalid += Number(r.invalid);
  }
  const failed = await client.query<{ username: string | null; client_address: string | null; attempt: string | null; max: string | null }>(
    `SELECT username, client_address, details->>'attempt_count' AS attempt, details->>'max_attempts' AS max
     FROM ${trail} WHERE action = 'LOGIN_FAILED' ORDER BY created_at, seq`,
  );
  const failedLogins = failed.rows.map((r) => ({
    username: r.username, clientAddress: r.client_address, attemptCount: Number(r.attempt ?? 0), maxAttempts: Number(r.max ?? 0),
  }));
  return { total, byCategory, byAction, schemaInvalid, failedLogins };
}

/** The store and alert operations of the demo, on fresh connections each (the database may be embedded and stopped in between). */
export function demoTrail(): DemoTrail {
  return {
    migrate: (url, schema) => withClient(url, async (c) => void (await migrate(c, { schema }))),
    stored: (url, schema) => withClient(url, (c) => stored(c, schema)),
    verify: (url, schema) =>
      withClient(url, async (c) => {
        const result = await verifyChain(c, { schema });
        const broken = result.streams.filter((s) => s.problem);
        return {
          ok: result.ok,
          events: result.rowsChecked,
          message: result.ok
            ? `${result.rowsChecked} events on ${result.streams.length} hash chain(s) intact`
            : broken.map((s) => `${s.streamId}: ${s.problem!.message}`).join('; '),
        };
      }),
    alerts: (url, schema) =>
      withClient(url, async (c) => {
        const results = await evaluateAlerts(c, { schema });
        return results.flatMap((r) => r.firings.map((f) => ({ name: f.ruleId, message: f.message })));
      }),
  };
}

/** Adds `demo` to the CLI program. */
export function registerDemoCommand(program: Command): Command {
  return program
    .command('demo')
    .description('run the CVD operations demo: an instrumented API, a day of traffic in seconds, and what was tracked')
    .option('--duration <seconds>', 'how long the simulated day lasts', positiveInt('--duration', 3600), 30)
    .option('--schema <name>', 'schema of the audit tables', process.env.CVD_ACTIVITY_SCHEMA ?? 'cvd_activity')
    .option('--seed <n>', 'seed of the simulation (same seed, same day)', positiveInt('--seed', 2 ** 31), 42)
    .option('--database-url <url>', 'PostgreSQL to use (default: CVD_ACTIVITY_DATABASE_URL, DATABASE_URL, PG*, else an embedded one)')
    .option('--pg-port <port>', 'port of the embedded PostgreSQL', positiveInt('--pg-port', 65535), 54329)
    .option('--json', 'print the summary as JSON on stdout (progress stays on stderr)')
    .option('--verbose', 'show the demo API\'s and PostgreSQL\'s own output on stderr')
    .addHelpText('after', '\nExit codes: 0 done, chain verified; 1 chain verification failed; 2 the demo could not run.')
    .action(async (flags: DemoFlags) => {
      const log = (line: string): void => void process.stderr.write(`${line}\n`);
      try {
        checkName('--schema', flags.schema);
        const controller = new AbortController();
        const stop = (): void => controller.abort();
        process.once('SIGINT', stop);
        const summary = await runDemo(
          {
            durationSeconds: flags.duration, schema: flags.schema, seed: flags.seed, databaseUrl: flags.databaseUrl, pgPort: flags.pgPort,
            onProgress: (line) => log(`demo: ${line}`), onLog: flags.verbose ? (line) => log(`  | ${line.trimEnd()}`) : undefined,
            signal: controller.signal,
          },
          demoTrail(),
        );
        process.removeListener('SIGINT', stop);
        process.stdout.write(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
        process.exitCode = summary.verification.ok ? 0 : 1;
      } catch (err) {
        log(`cvd-activity demo: ${err instanceof Error ? err.message : String(err)}`);
        process.exitCode = 2;
      }
    });
}
