/**
 * Security finding 1: forged content through audit_personal. A writer login
 * must not add personal data to a stored event; personal data must never
 * override chained fields in the view or `audit query`; a personal row for an
 * event without an HMAC is a verify failure (with or without the key).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { createPgAuditWriter } from '../../src/store/PgAuditWriter';
import { migrate } from '../../src/store/migrate';
import { queryAuditTrail } from '../../src/store/query';
import { verifyChain } from '../../src/store/verify';
import { toStoreError } from '../../src/store/errors';
import { auditRecord, migratedSchema, TEST_PII_KEY } from '../support/auditRecords';
import { createTestSchema } from '../support/database';

/** Every migration after 001, as a database built with 001 alone gets them. */
const LATER_MIGRATIONS = readdirSync(join(__dirname, '../../src/store/migrations')).filter((f) => f.endsWith('.sql') && !f.startsWith('001')).sort().map((f) => f.replace(/\.sql$/, ''));

const FORGED = { new_price: 0.01, product: 'P-999', username: 'mallory' };

describe('security: personal data cannot forge chained content (finding 1)', function () {
  this.timeout(60_000);
  let db: Awaited<ReturnType<typeof migratedSchema>>;
  let writerClient: pg.Client;
  const plain = auditRecord({ details: { new_price: 12.5, product: 'P-1' }, personal: null as never });
  const withPii = auditRecord({ details: { new_price: 3, product: 'P-2' } });
  const s = () => `"${db.schema}"`;

  before(async () => {
    db = await migratedSchema('forgery');
    const writer = createPgAuditWriter({ connectionString: db.url, schema: db.schema, streamId: 'app', piiKey: TEST_PII_KEY });
    await writer.writeBatch([plain, withPii]);
    await writer.close();
    writerClient = new pg.Client({ connectionString: db.url });
    await writerClient.connect();
    await writerClient.query('SET ROLE cvd_activity_writer');
  });
  after(async () => {
    await writerClient?.end();
    await db?.drop();
  });

  const insertPersonal = (client: pg.Client, eventId: string) => client.query(
    `INSERT INTO ${s()}.audit_personal (event_id, client_address, fields) VALUES ($1, '203.0.113.99', $2)`, [eventId, FORGED]);

  it('refuses the writer adding personal data to a stored event', async () => {
    const err = await insertPersonal(writerClient, plain.eventId).then(() => null, (e) => toStoreError(e, 'forging'));
    expect(err?.name).to.equal('AppendOnlyViolationError');
    expect(err!.message).to.match(/personal data of event .* may only be inserted in the transaction that inserts the event/);
    const { rows } = await db.client.query(`SELECT count(*)::int AS n FROM ${s()}.audit_personal WHERE event_id = $1`, [plain.eventId]);
    expect(rows[0].n).to.equal(0);
  });

  describe('a personal row planted by the table owner (triggers bypassed)', () => {
    before(async () => {
      await db.client.query('SET session_replication_role = replica');
      await insertPersonal(db.client, plain.eventId);
      await db.client.query('SET session_replication_role = DEFAULT');
    });

    it('changes nothing the view or audit query show', async () => {
      const [row] = (await queryAuditTrail(db.client, { schema: db.schema, limit: 10 })).filter((r) => r.eventId === plain.eventId);
      expect(row!.details).to.deep.equal({ new_price: 12.5, product: 'P-1' });
      expect([row!.username, row!.clientAddress]).to.deep.equal([null, null]);
    });

    it('never lets personal fields override chained detail keys', async () => {
      await db.client.query('SET session_replication_role = replica');
      await db.client.query(`UPDATE ${s()}.audit_personal SET fields = $2 WHERE event_id = $1`, [withPii.eventId, FORGED]);
      await db.client.query('SET session_replication_role = DEFAULT');
      const [row] = (await queryAuditTrail(db.client, { schema: db.schema, limit: 10 })).filter((r) => r.eventId === withPii.eventId);
      expect(row!.details).to.include({ new_price: 3, product: 'P-2' });
    });

    for (const withKey of [false, true]) {
      it(`fails verify ${withKey ? 'with' : 'without'} the HMAC key`, async () => {
        const result = await verifyChain(db.client, { schema: db.schema, ...(withKey ? { piiKey: TEST_PII_KEY } : {}) });
        expect(result.ok).to.equal(false);
        expect(result.streams[0]!.problem).to.include({ kind: 'personal-without-hmac', eventId: plain.eventId });
      });
    }
  });
});

describe('migration 002 on a schema migrated by 001 alone', function () {
  this.timeout(60_000);

  it('applies 002, keeps stored events verifying and closes the hole', async () => {
    const test = await createTestSchema('from001');
    const client = new pg.Client({ connectionString: test.url });
    await client.connect();
    try {
      const q = `"${test.schema}"`;
      const sql001 = readFileSync(join(__dirname, '../../src/store/migrations/001_audit_trail.sql'), 'utf8')
        .replaceAll('{{schema}}', q).replaceAll('{{schema_literal}}', `'${test.schema}'`);
      await client.query(`CREATE SCHEMA ${q}; ${sql001};
        CREATE TABLE ${q}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
        INSERT INTO ${q}.schema_migrations VALUES (1, '001_audit_trail')`);
      const old = createPgAuditWriter({ connectionString: test.url, schema: test.schema, streamId: 'before', piiKey: TEST_PII_KEY });
      // Events without personal data: this version's writer also fills the pseudonym columns 002 adds.
      const stored = [auditRecord({ personal: null as never }), auditRecord({ personal: null as never })];
      await old.writeBatch(stored);
      await old.close();
      expect((await migrate(client, { schema: test.schema })).applied).to.deep.equal(LATER_MIGRATIONS);
      expect((await verifyChain(client, { schema: test.schema, piiKey: TEST_PII_KEY })).ok).to.equal(true);
      await client.query('BEGIN; SET LOCAL ROLE cvd_activity_writer');
      const err = await client.query(`INSERT INTO ${q}.audit_personal (event_id, fields) VALUES ($1, '{}')`, [stored[1]!.eventId])
        .then(() => null, (e: { code?: string }) => e);
      await client.query('ROLLBACK');
      expect(err?.code).to.equal('CVA01');
      expect((await migrate(client, { schema: test.schema })).applied).to.deep.equal([]);
    } finally {
      await client.end();
      await test.drop();
    }
  });
});
