/**
 * Security finding 12, the database side: what a writer-only login (the app's
 * login in docker-compose.yml, a member of cvd_activity_writer) can and cannot
 * do, and what the reader (Grafana's login) sees. It may create partitions only for a window around now (not 1,200 months
 * under an exclusive lock), may not plant a head pointing at events that never
 * existed, may not bypass triggers; and the demo runs with it (--no-migrate).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { runCliProcess } from '../support/cli';
import { PiiHasher } from '../../src/store/canonicalEncoding';
import { createPgAuditWriter } from '../../src/store/PgAuditWriter';
import { auditRecord, migratedSchema, TEST_PII_KEY } from '../support/auditRecords';

describe('security: a writer-only login (finding 12)', function () {
  this.timeout(120_000);
  let db: Awaited<ReturnType<typeof migratedSchema>>;
  const login = `cvd_app_${randomBytes(4).toString('hex')}`;
  let app: pg.Client;
  let appUrl: string;
  const s = () => `"${db.schema}"`;

  before(async () => {
    db = await migratedSchema('writerlogin');
    await db.client.query(`CREATE ROLE ${login} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE; GRANT cvd_activity_writer TO ${login}`);
    const url = new URL(db.url);
    url.username = login;
    url.password = '';
    appUrl = url.toString();
    app = new pg.Client({ connectionString: appUrl });
    await app.connect();
  });
  after(async () => {
    await app?.end();
    await db?.client.query(`DROP ROLE IF EXISTS ${login}`);
    await db?.drop();
  });

  const partitions = async () => (await db.client.query(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = '${s()}.audit_log'::regclass`)).rows[0].n as number;

  it('creates partitions only within 10 years back and 5 ahead: 120 far-future months create none', async () => {
    const before = await partitions();
    const months = Array.from({ length: 120 }, (_, i) => new Date(Date.UTC(2150, i, 1)).toISOString());
    const { rows } = await app.query(`SELECT ${s()}.audit_ensure_partitions($1::timestamptz[]) AS n`, [months]);
    expect(rows[0].n).to.equal(0);
    expect(await partitions()).to.equal(before);
    const nextYear = new Date(Date.UTC(new Date().getUTCFullYear() + 1, 6, 1)).toISOString();
    expect((await app.query(`SELECT ${s()}.audit_ensure_partitions($1::timestamptz[]) AS n`, [[nextYear]])).rows[0].n).to.equal(1);
  });

  it('cannot insert a head that points at events that never existed', async () => {
    const err = await app.query(`INSERT INTO ${s()}.audit_streams (stream_id, head_seq, head_hash) VALUES ('bogus', 5, repeat('a', 64))`)
      .then(() => null, (e: { code?: string; message: string }) => e);
    expect(err?.code).to.equal('CVA01');
    expect(err!.message).to.match(/stream bogus must start at seq 0 without a hash/);
  });

  it('cannot bypass triggers, change rows or create tables', async () => {
    for (const sql of ['SET session_replication_role = replica', `UPDATE ${s()}.audit_log SET action = 'X'`, `CREATE TABLE ${s()}.x (a int)`]) {
      const err = await app.query(sql).then(() => null, (e: { code?: string }) => e);
      expect(err?.code, sql).to.equal('42501'); // insufficient_privilege
    }
  });

  it('runs the demo end to end with --no-migrate, its chain verified', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'cvd-demo-writer-'));
    try {
      const run = await runCliProcess(['demo', '--duration', '2', '--json', '--no-migrate', '--schema', db.schema, '--database-url', appUrl], {}, { cwd });
      expect(run.code, run.stderr).to.equal(0);
      const summary = JSON.parse(run.stdout) as { verification: { ok: boolean }; audit: { total: number } };
      expect(summary.verification.ok).to.equal(true);
      expect(summary.audit.total).to.be.greaterThan(0);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('security: the reader role sees no personal data (finding 12)', function () {
  this.timeout(60_000);
  let db: Awaited<ReturnType<typeof migratedSchema>>;
  const record = auditRecord({ details: { product: 'P-1' }, personal: { clientAddress: '203.0.113.7', userAgent: 'curl/8.5', fields: { username: 'alice' } } });

  before(async () => {
    db = await migratedSchema('readerpii');
    const writer = createPgAuditWriter({ connectionString: db.url, schema: db.schema, streamId: 'app', piiKey: TEST_PII_KEY });
    await writer.writeBatch([record]);
    await writer.close();
  });
  after(async () => {
    await db.client.query('ROLLBACK').catch(() => {});
    await db?.drop();
  });

  it('gets pseudonyms through audit_trail, no user agent, no personal fields, and no audit_personal at all', async () => {
    const s = `"${db.schema}"`;
    await db.client.query('BEGIN; SET LOCAL ROLE cvd_activity_reader');
    const { rows } = await db.client.query(`SELECT client_address, user_agent, username, details FROM ${s}.audit_trail`);
    const hasher = new PiiHasher(TEST_PII_KEY);
    expect(rows).to.deep.equal([{
      client_address: hasher.pseudonym('203.0.113.7'), user_agent: null, username: hasher.pseudonym('alice'), details: record.details,
    }]);
    const err = await db.client.query(`SELECT * FROM ${s}.audit_personal`).then(() => null, (e: { code?: string }) => e);
    expect(err?.code).to.equal('42501');
    await db.client.query('ROLLBACK');
    const owner = await db.client.query(`SELECT client_address, username FROM ${s}.audit_trail`);
    expect(owner.rows).to.deep.equal([{ client_address: '203.0.113.7', username: 'alice' }]);
  });

  it('reads browser events for the dashboards, but not their client address', async () => {
    const s = `"${db.schema}"`;
    await db.client.query(`INSERT INTO ${s}.browser_events (received_at, occurred_at, type, user_id, page_view_id, page, client_address, browser)
      VALUES (now(), now(), 'page_view', 'u-1', 'pv-1', '/devices', '203.0.113.8', 'Chrome 156')`);
    await db.client.query('BEGIN; SET LOCAL ROLE cvd_activity_reader');
    const { rows } = await db.client.query(`SELECT user_id, page, browser FROM ${s}.browser_events`);
    expect(rows).to.deep.equal([{ user_id: 'u-1', page: '/devices', browser: 'Chrome 156' }]);
    const err = await db.client.query(`SELECT client_address FROM ${s}.browser_events`).then(() => null, (e: { code?: string }) => e);
    expect(err?.code).to.equal('42501');
    await db.client.query('ROLLBACK');
  });
});
