/**
 * `cvd-activity demo`: the whole package at work in one command. Starts a
 * PostgreSQL (the configured one, or an embedded one kept under
 * .cvd-activity/), runs the instrumented CVD demo API and a day of simulated
 * traffic, and prints what was tracked: requests, spans, audit events by
 * category, the chain verification and the alerts that fired.
 *
 * Exit codes (the CLI's): 0 done and the chain verified; 1 the chain did not
 * verify; 2 bad flag; 3 database unreachable or the embedded one cannot start.
 */
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import pg from 'pg';
import { evaluateAlerts } from '../../alerts/evaluate';
import { DEMO_PG_PORT, DemoDatabaseError } from '../../demo/database';
import { runDemo, type DemoTrail, type StoredBrowserEvents, type StoredEvents } from '../../demo/run';
import { formatSummary } from '../../demo/summary';
import { redactUrl } from '../../config/redactUrl';
import { checkName, quoteIdent } from '../../store/identifiers';
import { CliError, EXIT } from '../CliError';
import { resolveConnection } from '../connection';
import type { CliContext } from '../program';
import { formatOption } from './options';
import { migrate } from '../../store/migrate';
import { verifyChain } from '../../store/verify';

interface DemoFlags {
  duration: number;
  seed: number;
  pgPort: number;
  json?: boolean;
  format: 'table' | 'json';
  verbose?: boolean;
  migrate: boolean;
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
    const where = url ? redactUrl(url) : 'the server named by the PG* variables';
    throw new CliError(EXIT.DATABASE, `demo: cannot connect to PostgreSQL at ${where}: ${(err as Error).message}`, { cause: err });
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

/** What the web UI's browsers reported, by event type and user. */
async function storedBrowser(client: pg.Client, schema: string): Promise<StoredBrowserEvents> {
  const table = `${quoteIdent(schema)}.browser_events`;
  const { rows } = await client.query<{ type: string; n: string }>(`SELECT type, count(*) AS n FROM ${table} GROUP BY 1`);
  const users = await client.query<{ user_id: string }>(`SELECT DISTINCT user_id FROM ${table} WHERE user_id IS NOT NULL ORDER BY 1`);
  const byType = Object.fromEntries(rows.map((r) => [r.type, Number(r.n)]));
  return { total: rows.reduce((n, r) => n + Number(r.n), 0), byType, users: users.rows.map((r) => r.user_id) };
}

/** The store and alert operations of the demo, on fresh connections each (the database may be embedded and stopped in between). */
export function demoTrail(): DemoTrail {
  return {
    migrate: (url, schema) => withClient(url, async (c) => void (await migrate(c, { schema }))),
    stored: (url, schema) => withClient(url, (c) => stored(c, schema)),
    browser: (url, schema) => withClient(url, (c) => storedBrowser(c, schema)),
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

/** Registers `demo` (a CommandModule: add it to COMMANDS in commands/index.ts). */
export function registerDemoCommand(program: Command, cli: CliContext): void {
  program
    .command('demo')
    .description('run the CVD operations demo: an instrumented API, a day of traffic in seconds, and what was tracked')
    .option('--duration <seconds>', 'how long the simulated day lasts', positiveInt('--duration', 3600), 30)
    .option('--seed <n>', 'seed of the simulation (same seed, same day)', positiveInt('--seed', 2 ** 31 - 1), 42)
    .option('--pg-port <port>', 'port of the embedded PostgreSQL (used when no database is configured)', positiveInt('--pg-port', 65535), DEMO_PG_PORT)
    .addOption(formatOption(['table', 'json'], 'the summary as a table for people or as JSON on stdout (progress stays on stderr)'))
    .option('--json', 'same as --format json')
    .option('--verbose', "show the demo API's and PostgreSQL's own output on stderr")
    .option('--no-migrate', 'do not migrate the configured database (it is migrated already, and the login may only write: docker-compose.yml)')
    .addHelpText('after', `
Uses --database-url / CVD_ACTIVITY_DATABASE_URL / DATABASE_URL / PG* when set, else an embedded
PostgreSQL kept in .cvd-activity/demo-pg. Traces go to OTEL_EXPORTER_OTLP_ENDPOINT when set.
Exit codes: 0 done, chain verified; 1 chain verification failed; 2 bad flag;
3 database unreachable or the embedded one cannot start; 4 anything else.`)
    .action(async (_opts: DemoFlags, command: Command) => {
      const flags = command.optsWithGlobals<DemoFlags & { databaseUrl?: string; schema?: string }>();
      // The configured server (flag, config/'s variables) or none: then the embedded one.
      const conn = resolveConnection(flags, { configuredSchema: () => cli.config().database.schema });
      const schema = conn.schema;
      try {
        checkName('--schema', schema);
      } catch (err) {
        throw new CliError(EXIT.USAGE, (err as Error).message);
      }
      const log = (line: string): void => void cli.stderr.write(`${line}\n`);
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      process.once('SIGINT', stop);
      let summary;
      try {
        summary = await runDemo(
          {
            durationSeconds: flags.duration, schema, seed: flags.seed, pgPort: flags.pgPort, migrate: flags.migrate,
            database: conn.source === 'default' ? undefined : { url: conn.config.connectionString },
            onProgress: (line) => log(`demo: ${line}`), onLog: flags.verbose ? (line) => log(`  | ${line.trimEnd()}`) : undefined,
            signal: controller.signal,
          },
          demoTrail(),
        );
      } catch (err) {
        if (err instanceof CliError) throw err;
        throw new CliError(err instanceof DemoDatabaseError ? EXIT.DATABASE : EXIT.INTERNAL, `demo: ${(err as Error).message}`, { cause: err });
      } finally {
        process.removeListener('SIGINT', stop);
      }
      // The summary holds the database URL and the OTLP endpoint as given: print them without secrets.
      summary = {
        ...summary,
        database: { ...summary.database, url: summary.database.url === null ? null : redactUrl(summary.database.url) },
        traces: { ...summary.traces, endpoint: summary.traces.endpoint === null ? null : redactUrl(summary.traces.endpoint) },
      };
      cli.stdout.write(flags.json || flags.format === 'json' ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
      if (!summary.verification.ok) throw new CliError(EXIT.FAILED, `demo: the audit trail did not verify: ${summary.verification.message}`);
    });
}
