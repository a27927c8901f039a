/**
 * Where the CLI connects: --database-url, else CVD_ACTIVITY_DATABASE_URL, else
 * DATABASE_URL, else the standard PG* variables (which pg reads itself).
 * Interim: the config room will own these variables; the lead reconciles.
 */
import pg from 'pg';
import { DEFAULT_SCHEMA, StoreError, StorePermissionError, StoreSchemaMissingError, toStoreError } from '../store/index';
import { CliError, EXIT } from './CliError';

/** Connection settings of one CLI run. */
export interface CliConnection {
  config: pg.ClientConfig;
  /** `host:port/database`, never the password. */
  target: string;
  schema: string;
}

/** Resolves the connection from flags and the environment. */
export function resolveConnection(flags: { databaseUrl?: string; schema?: string }, env: NodeJS.ProcessEnv = process.env): CliConnection {
  const url = flags.databaseUrl || env.CVD_ACTIVITY_DATABASE_URL || env.DATABASE_URL || undefined;
  const schema = flags.schema || env.CVD_ACTIVITY_SCHEMA || DEFAULT_SCHEMA;
  const base = { application_name: 'cvd-activity-cli', connectionTimeoutMillis: 10_000 };
  if (url) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new CliError(EXIT.USAGE, 'database URL: not a valid postgres:// URL (check CVD_ACTIVITY_DATABASE_URL / DATABASE_URL / --database-url)');
    }
    const target = `${parsed.hostname || 'localhost'}:${parsed.port || 5432}${parsed.pathname || '/'}`;
    return { config: { ...base, connectionString: url }, target, schema };
  }
  const target = `${env.PGHOST || 'localhost'}:${env.PGPORT || 5432}/${env.PGDATABASE || env.PGUSER || env.USER || ''}`;
  return { config: base, target, schema };
}

/** Connects, turning any failure into one clear CliError (exit 3). */
export async function connect(conn: CliConnection): Promise<pg.Client> {
  const client = new pg.Client(conn.config);
  client.on('error', () => {}); // a dropped connection surfaces through the running query
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    const e = err as { code?: string; message?: string };
    const reason = e.code === 'ECONNREFUSED' ? 'connection refused' : (e.message || String(err));
    throw new CliError(EXIT.DATABASE, `cannot connect to PostgreSQL at ${conn.target}: ${reason}`, { cause: err });
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
