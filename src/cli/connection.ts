/**
 * Where the CLI connects: --database-url, else what config/ reads
 * (CVD_ACTIVITY_DATABASE_URL, DATABASE_URL, the PG* variables), else — when
 * none is set and the demo ran in this folder — the demo's embedded
 * PostgreSQL, started for the command and stopped after it.
 */
import pg from 'pg';
import { databaseConnectionConfig, pgEnvironmentConfigured } from '../config/database';
import type { DemoDatabaseInfo } from '../demo/database';
import { DEFAULT_SCHEMA, StoreError, StorePermissionError, StoreSchemaMissingError, toStoreError } from '../store/index';
import { CliError, EXIT } from './CliError';

/** Connection settings of one CLI run. */
export interface CliConnection {
  config: pg.ClientConfig;
  /** `host:port/database`, never the password. */
  target: string;
  schema: string;
  /** Where the settings came from (for error hints). */
  source: '--database-url' | 'CVD_ACTIVITY_DATABASE_URL' | 'DATABASE_URL' | 'PG*' | 'demo' | 'default';
  /** Runs before the first connection (starts the demo's embedded server); idempotent. */
  prepare?: () => Promise<void>;
}

/** What resolveConnection needs besides the flags. */
export interface ConnectionSources {
  /** The environment config/ reads the connection from. */
  env: NodeJS.ProcessEnv;
  /** The schema config/ resolved (CVD_ACTIVITY_SCHEMA, the config file, else the default). */
  configuredSchema: () => string;
  /** `.cvd-activity/demo.json` of the current folder, or null. */
  demoInfo: () => DemoDatabaseInfo | null;
  /** Starts the demo's embedded server (once) when the connection falls back to it. */
  startDemo: (info: DemoDatabaseInfo) => Promise<void>;
}

const BASE = { application_name: 'cvd-activity-cli', connectionTimeoutMillis: 10_000 };

function urlConnection(url: string, schema: string, source: CliConnection['source']): CliConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(EXIT.USAGE, `database URL from ${source}: not a valid postgres:// URL`);
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) {
    throw new CliError(EXIT.USAGE, `database URL from ${source}: ${JSON.stringify(parsed.protocol)} is not valid; use a postgres:// or postgresql:// URL`);
  }
  const target = `${parsed.hostname || 'localhost'}:${parsed.port || 5432}${parsed.pathname || '/'}`;
  return { config: { ...BASE, connectionString: url }, target, schema, source };
}

/** Resolves the connection from the global flags, config/ and the demo's state. */
export function resolveConnection(flags: { databaseUrl?: string; schema?: string }, given: Partial<ConnectionSources> = {}): CliConnection {
  const sources: ConnectionSources = { env: process.env, configuredSchema: () => DEFAULT_SCHEMA, demoInfo: () => null, startDemo: async () => {}, ...given };
  const { env } = sources;
  const configuredSchema = (): string => flags.schema || sources.configuredSchema();
  if (flags.databaseUrl) return urlConnection(flags.databaseUrl, configuredSchema(), '--database-url');
  const db = databaseConnectionConfig(env);
  // A DATABASE_URL of another kind (mysql://…) belongs to the app alone: config/ ignores it too.
  const foreign = db.source === 'DATABASE_URL' && !/^postgres(ql)?:\/\//i.test(db.connectionString ?? '');
  if (db.connectionString && !foreign) return urlConnection(db.connectionString, configuredSchema(), db.source);
  if (pgEnvironmentConfigured(env)) return { config: BASE, target: pgTarget(), schema: configuredSchema(), source: 'PG*' };
  const demo = sources.demoInfo();
  if (demo) {
    // A schema set by flag or configuration wins; else the one the demo last wrote to.
    const configured = flags.schema || sources.configuredSchema();
    const schema = configured !== DEFAULT_SCHEMA ? configured : demo.schema;
    return { ...urlConnection(demo.url, schema, 'demo'), prepare: () => sources.startDemo({ ...demo, schema }) };
  }
  return { config: BASE, target: pgTarget(), schema: configuredSchema(), source: 'default' };
}

/** `host:port/database` as pg itself resolves them from its defaults and the PG* variables (pg reads them, not us). */
function pgTarget(): string {
  const p = (new pg.Client(BASE) as unknown as { connectionParameters: { host?: string; port?: number; database?: string; user?: string } }).connectionParameters;
  return `${p.host || 'localhost'}:${p.port || 5432}/${p.database || p.user || ''}`;
}

/** Connects, turning any failure into one clear CliError (exit 3). */
export async function connect(conn: CliConnection): Promise<pg.Client> {
  await conn.prepare?.();
  const client = new pg.Client(conn.config);
  client.on('error', () => {}); // a dropped connection surfaces through the running query
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    const e = err as { code?: string; message?: string };
    const reason = e.code === 'ECONNREFUSED' ? 'connection refused' : (e.message || String(err));
    const hint = conn.source === 'default'
      ? ' (no database configured: set CVD_ACTIVITY_DATABASE_URL or pass --database-url, or run `npm run demo` in this folder first)'
      : '';
    throw new CliError(EXIT.DATABASE, `cannot connect to PostgreSQL at ${conn.target}: ${reason}${hint}`, { cause: err });
  }
  return client;
}

/** Fails with a hint to migrate when the schema has no audit trail. */
export async function requireSchema(client: pg.Client, conn: CliConnection): Promise<void> {
  const { rows } = await client.query('SELECT to_regclass($1) AS t', [`"${conn.schema.replace(/"/g, '""')}".audit_log`]);
  if (rows[0].t === null) {
    throw new CliError(EXIT.DATABASE, `schema "${conn.schema}" at ${conn.target} has no audit trail; run \`cvd-activity migrate\` first`);
  }
}

/** Maps store and pg errors to a CliError with the right exit code. */
export function databaseError(err: unknown, conn: CliConnection, doing: string): CliError {
  if (err instanceof CliError) return err;
  const e: StoreError = toStoreError(err, doing);
  if (e instanceof StoreSchemaMissingError) {
    return new CliError(EXIT.DATABASE, `schema "${conn.schema}" at ${conn.target} is not set up (${e.message}); run \`cvd-activity migrate\` first`, { cause: err });
  }
  if (e instanceof StorePermissionError) {
    return new CliError(EXIT.DATABASE, `${e.message} (grant the role cvd_activity_reader or cvd_activity_writer to this database user)`, { cause: err });
  }
  return new CliError(EXIT.DATABASE, `${e.message} (PostgreSQL at ${conn.target})`, { cause: err });
}

/** Runs `work` with a connected client, always closing it; database failures become CliErrors. */
export async function withClient<T>(conn: CliConnection, doing: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(conn);
  try {
    return await work(client);
  } catch (err) {
    if (err instanceof TypeError) throw new CliError(EXIT.USAGE, err.message, { cause: err });
    throw databaseError(err, conn, doing);
  } finally {
    await client.end().catch(() => {});
  }
}
