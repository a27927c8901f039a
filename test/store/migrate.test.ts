import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { migrate } from '../../src/store/migrate';
import { createPgAuditWriter } from '../../src/store/PgAuditWriter';
import { AppendOnlyViolationError, StorePermissionError, toStoreError } from '../../src/store/errors';
import { createTestSchema } from '../support/database';
import { auditRecord, TEST_PII_KEY } from '../support/auditRecords';

/** Every migration file, in order: a fresh schema gets all of them. */
const MIGRATIONS = readdirSync(join(__dirname, '../../src/store/migrations')).filter((f) => f.endsWith('.sql')).sort().map((f) => f.replace(/\.sql$/, ''));

describe('migrate', function () {
  this.timeout(60_000);
  let test: Awaited<ReturnType<typeof createTestSchema>>;
  let client: pg.Client;

  before(async () => {
    test = await createTestSchema('migrate');
    client = new pg.Client({ connectionString: test.url });
    await client.connect();
  });
  after(async () => {
    await client?.end();
    await test?.drop();
  });

  it('applies the migrations once; a second (and a concurrent) run changes nothing', async () => {
    const now = new Date(Date.UTC(2026, 10, 25));
    const first = await migrate(client, { schema: test.schema, now });
    expect(first.applied).to.deep.equal(MIGRATIONS);
    expect(first.partitionsCreated).to.equal(5);
    const other = new pg.Client({ connectionString: test.url });
    await other.connect();
    try {
      const again = await Promise.all([migrate(client, { schema: test.schema, now }), migrate(other, { schema: test.schema, now })]);
      expect(again.map((r) => r.applied)).to.deep.equal([[], []]);
      expect(again.map((r) => r.partitionsCreated)).to.deep.equal([0, 0]);
    } finally {
      await other.end();
    }
    const { rows } = await client.query(`SELECT version, name FROM "${test.schema}".schema_migrations ORDER BY version`);
    expect(rows.map((r) => r.name)).to.deep.equal(MIGRATIONS);
  });

  it('creates partitions from the month before to three months ahead, plus a default one', async () => {
    const { rows } = await client.query(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = $1::regclass ORDER BY c.relname`, [`"${test.schema}".audit_log`]);
    expect(rows.map((r) => r.relname)).to.deep.equal([
      'audit_log_p202610', 'audit_log_p202611', 'audit_log_p202612', 'audit_log_p202701', 'audit_log_p202702', 'audit_log_pdefault',
    ]);
  });

  it('splits each month by retention class: security events in one leaf, all others in the other', async () => {
    const { rows } = await client.query(
      `SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = $1::regclass ORDER BY c.relname`, [`"${test.schema}".audit_log_p202611`]);
    expect(rows).to.deep.equal([
      { relname: 'audit_log_p202611_other', bound: 'DEFAULT' },
      { relname: 'audit_log_p202611_security', bound: "FOR VALUES IN ('security')" },
    ]);
  });

  it('migrations in parallel schemas create the shared roles race-free', async () => {
    const schemas = await Promise.all([createTestSchema('mig_a'), createTestSchema('mig_b'), createTestSchema('mig_c')]);
    const clients = schemas.map((t) => new pg.Client({ connectionString: t.url }));
    try {
      await Promise.all(clients.map((c) => c.connect()));
      const results = await Promise.all(clients.map((c, i) => migrate(c, { schema: schemas[i]!.schema })));
      expect(results.every((r) => r.applied.length === MIGRATIONS.length)).to.equal(true);
      const { rows } = await client.query(`SELECT rolname FROM pg_roles WHERE rolname LIKE 'cvd_activity_%' ORDER BY 1`);
      expect(rows.map((r) => r.rolname)).to.include.members(['cvd_activity_reader', 'cvd_activity_writer']);
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
      await Promise.all(schemas.map((t) => t.drop()));
    }
  });

  it('as a user without CREATEROLE, migrates anyway and reports the missing roles as skipped', async () => {
    const user = `mig_user_${test.schema.slice(-6)}`;
    const schema = `${test.schema}_norole`;
    await client.query(`CREATE ROLE ${user} LOGIN PASSWORD 'cvd-test-only'`);
    await client.query(`GRANT CREATE ON DATABASE test TO ${user}`);
    const url = new URL(test.url);
    url.username = user;
    url.password = 'cvd-test-only';
    const other = new pg.Client({ connectionString: url.toString() });
    try {
      await other.connect();
      const result = await migrate(other, { schema, roles: { writer: `${user}_w`, reader: `${user}_r` } });
      expect(result).to.include({ roles: 'skipped' });
      expect(result.applied).to.deep.equal(MIGRATIONS);
    } finally {
      await other.end().catch(() => {});
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.query(`REVOKE CREATE ON DATABASE test FROM ${user}`);
      await client.query(`DROP ROLE ${user}`);
    }
  });

  describe('as cvd_activity_writer', () => {
    const s = () => `"${test.schema}"`;
    before(async () => {
      const writer = createPgAuditWriter({ connectionString: test.url, schema: test.schema, streamId: 'w', piiKey: TEST_PII_KEY });
      // One event this month and one far ahead, in a partition created after migrate.
      await writer.writeBatch([auditRecord(), auditRecord({ occurredAt: '2030-05-05T05:05:05.000Z' })]);
      await writer.close();
    });
    afterEach(async () => {
      await client.query('ROLLBACK').catch(() => {});
    });

    async function asWriter(sql: string): Promise<unknown> {
      await client.query('BEGIN');
      await client.query('SET LOCAL ROLE cvd_activity_writer');
      return client.query(sql).then(() => null, (err: unknown) => toStoreError(err, 'test'));
    }

    for (const [what, sql] of [
      ['UPDATE', (x: string) => `UPDATE ${x}.audit_log SET action = 'X'`],
      ['DELETE', (x: string) => `DELETE FROM ${x}.audit_log`],
      ['TRUNCATE', (x: string) => `TRUNCATE ${x}.audit_log`],
    ] as const) {
      it(`cannot ${what} audit_log (no privilege: refused before any trigger runs)`, async () => {
        const err = await asWriter(sql(s()));
        expect(err).to.be.instanceOf(StorePermissionError);
        expect((err as Error).message).to.match(/permission denied for table audit_log/);
      });
    }

    it('can read and insert but has no UPDATE/DELETE/TRUNCATE privilege', async () => {
      const { rows } = await client.query(`SELECT
        has_table_privilege('cvd_activity_writer', $1, 'INSERT') AS ins, has_table_privilege('cvd_activity_writer', $1, 'SELECT') AS sel,
        has_table_privilege('cvd_activity_writer', $1, 'UPDATE') AS upd, has_table_privilege('cvd_activity_writer', $1, 'DELETE') AS del,
        has_table_privilege('cvd_activity_writer', $1, 'TRUNCATE') AS trunc,
        has_table_privilege('cvd_activity_reader', $1, 'SELECT') AS rsel, has_table_privilege('cvd_activity_reader', $1, 'INSERT') AS rins`,
      [`${s()}.audit_log`]);
      expect(rows[0]).to.deep.equal({ ins: true, sel: true, upd: false, del: false, trunc: false, rsel: true, rins: false });
    });
  });

  describe('even for the owner, the triggers refuse', () => {
    for (const [what, sql] of [
      ['UPDATE on the parent', (x: string) => `UPDATE ${x}.audit_log SET action = 'X'`],
      ['DELETE on a partition', (x: string) => `DELETE FROM ${x}.audit_log_p203005`],
      ['TRUNCATE on the parent', (x: string) => `TRUNCATE ${x}.audit_log`],
      ['TRUNCATE on a partition created later', (x: string) => `TRUNCATE ${x}.audit_log_p203005`],
      ['TRUNCATE on one retention class of a month', (x: string) => `TRUNCATE ${x}.audit_log_p203005_security`],
      ['DELETE on one retention class of a month', (x: string) => `DELETE FROM ${x}.audit_log_p203005_other`],
      ['TRUNCATE on the default partition', (x: string) => `TRUNCATE ${x}.audit_log_pdefault`],
      ['DELETE of a stream head', (x: string) => `DELETE FROM ${x}.audit_streams`],
      ['rewinding a stream head', (x: string) => `UPDATE ${x}.audit_streams SET head_seq = 0`],
    ] as const) {
      it(`${what} fails with AppendOnlyViolationError`, async () => {
        const err = await client.query(sql(`"${test.schema}"`)).then(() => null, (e: unknown) => toStoreError(e, 'test'));
        expect(err).to.be.instanceOf(AppendOnlyViolationError);
        expect((err as AppendOnlyViolationError).code).to.equal('CVD_AUDIT_APPEND_ONLY');
        expect((err as Error).message).to.match(/the audit log is append-only/);
      });
    }
  });
});
