/**
 * `cvd-activity demo`: a database (the configured one, or an embedded
 * PostgreSQL), the audit schema, the instrumented demo API in a child process,
 * the traffic simulator for a while, a graceful stop, and a summary read back
 * from the database. What touches the store and the alert rules is passed in
 * (`DemoTrail`), so this room keeps to the public API of the package.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { demoStateDir, startDemoDatabase, writeDemoInfo, type EmbeddedDemoDatabase } from './database';
import { type ActivityStats, DemoServerProcess } from './DemoServerProcess';
import { simulate, type SimulationReport } from './simulator';

/** Options of one demo run. */
export interface DemoOptions {
  /** How long the simulated day lasts (s). */
  durationSeconds: number;
  /** Schema of the audit tables. */
  schema: string;
  seed: number;
  /**
   * The configured PostgreSQL (the CLI resolves it: --database-url,
   * CVD_ACTIVITY_DATABASE_URL, DATABASE_URL; `url` undefined = the PG*
   * variables); absent = the embedded server under .cvd-activity/.
   */
  database?: { url?: string };
  /** Write-ahead spool of the demo API (default .cvd-activity/demo-spool/<schema>). */
  spoolDir?: string;
  /** Port of the embedded server. */
  pgPort?: number;
  /** false: the configured database is migrated already (a writer-only login cannot migrate). */
  migrate?: boolean;
  /** Environment handed to the demo API (OTEL_EXPORTER_OTLP_ENDPOINT decides whether traces are sent). */
  env?: NodeJS.ProcessEnv;
  /** Progress lines (the CLI prints them on stderr). */
  onProgress?: (line: string) => void;
  /** The API's and PostgreSQL's own log lines. */
  onLog?: (line: string) => void;
  signal?: AbortSignal;
}

/** The store and alert operations the demo needs, supplied by the CLI. */
export interface DemoTrail {
  migrate(url: string | undefined, schema: string): Promise<void>;
  /** Stored events: by category, by action, schema-invalid ones, and the failed logins with address and attempt count. */
  stored(url: string | undefined, schema: string): Promise<StoredEvents>;
  verify(url: string | undefined, schema: string): Promise<{ ok: boolean; events: number; message: string }>;
  alerts(url: string | undefined, schema: string): Promise<Array<{ name: string; message: string }>>;
  /** What the web UI's browsers reported (browser_events). */
  browser(url: string | undefined, schema: string): Promise<StoredBrowserEvents>;
}

/** Browser events in the database after the run. */
export interface StoredBrowserEvents {
  total: number;
  byType: Record<string, number>;
  /** Distinct users (the server's) with browser events. */
  users: string[];
}

/** What the database holds after the run. */
export interface StoredEvents {
  total: number;
  byCategory: Record<string, number>;
  byAction: Record<string, number>;
  schemaInvalid: number;
  failedLogins: Array<{ username: string | null; clientAddress: string | null; attemptCount: number; maxAttempts: number }>;
}

/** Everything the demo prints at the end (`--json` prints exactly this). */
export interface DemoSummary {
  database: { kind: 'embedded' | 'configured'; url: string | null; schema: string };
  durationMs: number;
  simulator: SimulationReport;
  /** Counters of the instrumented server (null if it could not report them). */
  activity: ActivityStats | null;
  traces: { exporter: 'otlp' | 'none'; endpoint: string | null };
  audit: StoredEvents;
  browser: StoredBrowserEvents;
  verification: { ok: boolean; events: number; message: string };
  alerts: Array<{ name: string; message: string }>;
  nextCommands: string[];
}

/** Runs the demo end to end and returns its summary. */
export async function runDemo(options: DemoOptions, trail: DemoTrail): Promise<DemoSummary> {
  const env = options.env ?? process.env;
  const progress = options.onProgress ?? (() => {});
  let embedded: EmbeddedDemoDatabase | undefined;
  let url = options.database?.url;
  if (!options.database) {
    progress(`starting the embedded PostgreSQL (.cvd-activity/demo-pg, port ${options.pgPort ?? 54329})…`);
    embedded = await startDemoDatabase({ port: options.pgPort, onLog: options.onLog });
    url = embedded.url;
    progress(embedded.reused ? 'reusing the embedded PostgreSQL from an earlier run' : 'initialised a new embedded PostgreSQL');
  }
  let scratch: string | undefined;
  let server: DemoServerProcess | undefined;
  try {
    if (options.migrate !== false || embedded) {
      progress(`migrating schema ${options.schema}…`);
      await trail.migrate(url, options.schema);
    }
    if (embedded) writeDemoInfo({ url: embedded.url, port: embedded.port, dataDir: embedded.dataDir, schema: options.schema });
    // Under the demo's state folder, not /tmp: a run ended by Ctrl-C (the embedded server's exit
    // hook ends the process before this function's cleanup) leaves nothing outside .cvd-activity.
    mkdirSync(demoStateDir(), { recursive: true });
    scratch = mkdtempSync(join(demoStateDir(), 'run-'));

    const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT ?? null;
    server = new DemoServerProcess({
      statsFile: join(scratch, 'activity.json'),
      onStderr: options.onLog,
      env: {
        ...env,
        ...(url ? { CVD_ACTIVITY_DATABASE_URL: url } : {}),
        CVD_ACTIVITY_SCHEMA: options.schema,
        // The simulator sends each actor's address as X-Forwarded-For from loopback: trust exactly that hop.
        CVD_ACTIVITY_TRUST_PROXY: '127.0.0.1/32,::1/128',
        // One spool per schema: what could not be stored now is replayed into the same schema by the next run.
        CVD_ACTIVITY_SPOOL_DIR: options.spoolDir ?? join(demoStateDir(), 'demo-spool', options.schema),
        // Lenient, as in production: an event that breaks its schema is stored and counted, not refused.
        CVD_ACTIVITY_STRICT: 'false',
        OTEL_SERVICE_NAME: env.OTEL_SERVICE_NAME ?? 'cvd-demo-api',
        OTEL_TRACES_EXPORTER: endpoint ? (env.OTEL_TRACES_EXPORTER ?? 'otlp') : 'none',
      },
    });
    // Ctrl-C: the API gets SIGTERM at once (it flushes what it recorded; what cannot be stored
    // waits in its spool for the next run), also when the embedded server's exit hook ends
    // this process right after the signal.
    const running = server;
    options.signal?.addEventListener('abort', () => running.terminate(), { once: true });
    const baseUrl = await server.start();
    progress(`demo API listening on ${baseUrl} (instrumented with --require cvd-activity/register)`);
    const simulator = await simulate({
      baseUrl, durationMs: options.durationSeconds * 1000, seed: options.seed, signal: options.signal,
      onProgress: (p) => progress(`${(p.elapsedMs / 1000).toFixed(0).padStart(3)} s  ${String(p.requests).padStart(5)} requests  ${p.phase}`),
    });
    progress('stopping the demo API (SIGTERM: it flushes spans and audit events)…');
    const activity = await server.stop();
    server = undefined;
    const audit = await trail.stored(url, options.schema);
    const browser = await trail.browser(url, options.schema);
    const verification = await trail.verify(url, options.schema);
    const alerts = await trail.alerts(url, options.schema);
    return {
      database: { kind: embedded ? 'embedded' : 'configured', url: url ?? null, schema: options.schema },
      durationMs: simulator.durationMs,
      simulator,
      activity,
      traces: { exporter: endpoint ? 'otlp' : 'none', endpoint },
      audit,
      browser,
      verification,
      alerts,
      nextCommands: nextCommands(options.schema),
    };
  } finally {
    await server?.stop(5000);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    await embedded?.stop();
  }
}

function nextCommands(schema: string): string[] {
  const s = schema === 'cvd_activity' ? '' : ` --schema ${schema}`;
  return [
    `npx cvd-activity audit query --action LOGIN_FAILED${s}`,
    `npx cvd-activity audit query --action PERMISSION_CHANGE,DATA_EXPORT,BULK_OPERATION,CONFIG_CHANGE${s}`,
    `npx cvd-activity audit query --user alice --since 1h --format csv${s}`,
    `npx cvd-activity audit verify${s}`,
    `npx cvd-activity alerts check${s}`,
  ];
}
