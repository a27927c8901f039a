/**
 * The instrumented demo app as browser tests need it: a fresh schema,
 * migrated, and the demo server in a child process started exactly as users
 * start it (`node --require cvd-activity/register`), storing into that schema.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DemoServerProcess } from '../../src/demo/DemoServerProcess';
import { migrate } from '../../src/store/migrate';
import { createTestSchema } from './database';

/** A running demo app with its own schema; `stop()` ends both. */
export interface DemoWebApp {
  url: string;
  schema: string;
  db: pg.Client;
  /** Rows of browser_events matching `where` (SQL over the table's columns). */
  rows(where?: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  /** The session cookie of `user` (password `<user>-demo`). */
  login(user: string): Promise<string>;
  /** The server's stderr so far (diag output). */
  stderr: string[];
  stop(): Promise<void>;
}

export async function startDemoWebApp(prefix: string): Promise<DemoWebApp> {
  const test = await createTestSchema(prefix);
  const db = new pg.Client({ connectionString: test.url });
  await db.connect();
  await migrate(db, { schema: test.schema, roles: false });
  const scratch = mkdtempSync(join(tmpdir(), `cvd-${prefix}-`));
  const stderr: string[] = [];
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(PG[A-Z]+|DATABASE_URL|CVD_ACTIVITY_.*|OTEL_.*)$/.test(k)) env[k] = v;
  const server = new DemoServerProcess({
    statsFile: join(scratch, 'stats.json'),
    onStderr: (line) => stderr.push(line),
    env: {
      ...env,
      CVD_ACTIVITY_DATABASE_URL: test.url,
      CVD_ACTIVITY_SCHEMA: test.schema,
      CVD_ACTIVITY_SPOOL_DIR: join(scratch, 'spool'),
      CVD_ACTIVITY_AUTO_MIGRATE: 'false',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'none',
    },
  });
  const url = await server.start();
  return {
    url,
    schema: test.schema,
    db,
    stderr,
    async rows(where = 'true', params = []) {
      return (await db.query(`SELECT * FROM "${test.schema}".browser_events WHERE ${where} ORDER BY occurred_at`, params)).rows;
    },
    async login(user) {
      const res = await fetch(`${url}/api/auth/login`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password: `${user}-demo` }),
      });
      if (!res.ok) throw new Error(`login of ${user} failed: ${res.status}`);
      return /cvd_session=[^;]+/.exec(res.headers.get('set-cookie') ?? '')![0];
    },
    async stop() {
      await server.stop();
      await db.end();
      await test.drop();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
