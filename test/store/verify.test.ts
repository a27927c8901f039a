import { expect } from 'chai';
import { createPgAuditWriter } from '../../src/store/PgAuditWriter';
import { verifyChain } from '../../src/store/verify';
import type { VerifyResult } from '../../src/store/verify';
import { dropPartitionsBefore, erasePersonalData } from '../../src/store/retention';
import { auditRecord, migratedSchema, TEST_PII_KEY } from '../support/auditRecords';
import type { AuditRecord } from '../../src/store/types';

/** A freshly migrated schema with two streams of chained events (some in an old month). */
async function chainedSchema(): Promise<{ db: Awaited<ReturnType<typeof migratedSchema>>; events: Map<string, AuditRecord[]> }> {
  const db = await migratedSchema('verify');
  const events = new Map<string, AuditRecord[]>();
  for (const streamId of ['alpha', 'beta']) {
    const writer = createPgAuditWriter({ connectionString: db.url, schema: db.schema, streamId, piiKey: TEST_PII_KEY });
    const all: AuditRecord[] = [];
    for (let b = 0; b < 3; b++) {
      const batch = Array.from({ length: 10 }, (_, i) => auditRecord(
        b === 0 ? { occurredAt: new Date(Date.UTC(2024, 0, 10, 0, 0, i)).toISOString() } : {}));
      await writer.writeBatch(batch);
      all.push(...batch);
    }
    await writer.close();
    events.set(streamId, all);
  }
  return { db, events };
}

function problemOf(result: VerifyResult, streamId: string) {
  return result.streams.find((s) => s.streamId === streamId)?.problem ?? null;
}

describe('verifyChain', function () {
  this.timeout(60_000);
  let db: Awaited<ReturnType<typeof migratedSchema>>;
  let events: Map<string, AuditRecord[]>;

  beforeEach(async () => {
    ({ db, events } = await chainedSchema());
  });
  afterEach(async () => {
    await db?.drop();
  });

  /** Runs SQL as a superuser with triggers bypassed, as an attacker with full rights would. */
  async function tamper(sql: string, params: unknown[] = []): Promise<void> {
    await db.client.query('SET session_replication_role = replica');
    try {
      await db.client.query(sql, params);
    } finally {
      await db.client.query('SET session_replication_role = DEFAULT');
    }
  }
  const s = () => `"${db.schema}"`;

  it('passes on an untouched trail, reporting progress', async () => {
    const seen: number[] = [];
    const result = await verifyChain(db.client, { schema: db.schema, piiKey: TEST_PII_KEY, pageSize: 7, onProgress: (p) => seen.push(p.rowsChecked) });
    expect(result.ok).to.equal(true);
    expect(result.rowsChecked).to.equal(60);
    expect(result.streams.map((v) => [v.streamId, v.rows, v.headSeq, v.problem])).to.deep.equal([['alpha', 30, 30, null], ['beta', 30, 30, null]]);
    expect(seen.length).to.be.greaterThan(4);
    expect(seen[seen.length - 1]).to.equal(60);
  });

  it('names the event altered by a superuser with triggers bypassed', async () => {
    const victim = events.get('beta')![14]!;
    await tamper(`UPDATE ${s()}.audit_log SET details = details || '{"price": 0}' WHERE event_id = $1`, [victim.eventId]);
    const result = await verifyChain(db.client, { schema: db.schema });
    expect(result.ok).to.equal(false);
    expect(problemOf(result, 'alpha')).to.equal(null);
    expect(problemOf(result, 'beta')).to.include({ kind: 'hash-mismatch', seq: 15, eventId: victim.eventId });
    expect(problemOf(result, 'beta')!.message).to.include(victim.eventId).and.include('altered');
  });

  it('names the event after a deleted one', async () => {
    const [deleted, after] = [events.get('alpha')![4]!, events.get('alpha')![5]!];
    await tamper(`DELETE FROM ${s()}.audit_log WHERE event_id = $1`, [deleted.eventId]);
    const problem = problemOf(await verifyChain(db.client, { schema: db.schema }), 'alpha');
    expect(problem).to.include({ kind: 'gap', seq: 6, eventId: after.eventId });
    expect(problem!.message).to.match(/events seq 5\.\.5 are missing before event/);
  });

  it('detects a cut tail through the stored head', async () => {
    const alpha = events.get('alpha')!;
    await tamper(`DELETE FROM ${s()}.audit_log WHERE stream_id = 'alpha' AND seq > 27`);
    const problem = problemOf(await verifyChain(db.client, { schema: db.schema }), 'alpha');
    expect(problem).to.include({ kind: 'head-mismatch', seq: 27, eventId: alpha[26]!.eventId });
    expect(problem!.message).to.match(/events seq 28\.\.30 are missing at the end/);
  });

  it('with the HMAC key, detects altered personal data', async () => {
    const victim = events.get('alpha')![2]!;
    await db.client.query(`UPDATE ${s()}.audit_personal SET client_address = '10.0.0.1' WHERE event_id = $1`, [victim.eventId]);
    expect((await verifyChain(db.client, { schema: db.schema })).ok).to.equal(true);
    const problem = problemOf(await verifyChain(db.client, { schema: db.schema, piiKey: TEST_PII_KEY }), 'alpha');
    expect(problem).to.include({ kind: 'pii-mismatch', eventId: victim.eventId });
  });

  it('keeps passing after personal data is erased, which the view then hides', async () => {
    const user = events.get('alpha')![0]!.actor.id!;
    const erased = await erasePersonalData(db.client, { schema: db.schema, userId: user });
    expect(erased).to.be.greaterThan(0);
    expect((await verifyChain(db.client, { schema: db.schema, piiKey: TEST_PII_KEY })).ok).to.equal(true);
    const { rows } = await db.client.query(`SELECT client_address, user_agent, username, details FROM ${s()}.audit_trail WHERE user_id = $1`, [user]);
    expect(rows.length).to.equal(erased);
    for (const row of rows) {
      expect(row).to.include({ client_address: null, user_agent: null, username: null });
      expect(row.details).to.not.have.property('username');
    }
  });

  it('keeps passing after retention drops an old partition, and still notices a cut tail', async () => {
    const result = await dropPartitionsBefore(db.client, { schema: db.schema, before: new Date('2024-06-01T00:00:00Z') });
    expect(result).to.deep.equal({ dropped: ['audit_log_p202401'], events: 20 });
    const { rows } = await db.client.query(`SELECT count(*)::int AS n FROM ${s()}.audit_log`);
    expect(rows[0].n).to.equal(40);
    expect((await verifyChain(db.client, { schema: db.schema })).ok).to.equal(true);
    await tamper(`DELETE FROM ${s()}.audit_log WHERE stream_id = 'beta' AND seq = 30`);
    expect(problemOf(await verifyChain(db.client, { schema: db.schema }), 'beta')).to.include({ kind: 'head-mismatch' });
  });

  it('bridges retention runs in the middle of a stream (late events of a dropped month)', async () => {
    const writer = createPgAuditWriter({ connectionString: db.url, schema: db.schema, streamId: 'late', piiKey: TEST_PII_KEY });
    const jan = (d: number) => auditRecord({ occurredAt: new Date(Date.UTC(2024, 0, d)).toISOString() });
    await writer.writeBatch([jan(1), jan(2)]); // seq 1-2, dropped
    await writer.writeBatch([auditRecord()]); // seq 3, kept
    await writer.writeBatch([jan(3)]); // seq 4, a late January event, dropped
    await writer.writeBatch([auditRecord()]); // seq 5, kept
    await writer.close();
    await dropPartitionsBefore(db.client, { schema: db.schema, before: new Date('2024-02-01T00:00:00Z') });
    const runs = await db.client.query(`SELECT from_seq::int AS f, to_seq::int AS t FROM ${s()}.audit_retention WHERE stream_id = 'late' ORDER BY 1`);
    expect(runs.rows).to.deep.equal([{ f: 1, t: 2 }, { f: 4, t: 4 }]);
    const result = await verifyChain(db.client, { schema: db.schema });
    expect(result.streams.find((v) => v.streamId === 'late')).to.include({ rows: 2, headSeq: 5, problem: null });
    expect(result.ok).to.equal(true);
  });

  it('rejects a retention record that does not chain', async () => {
    await dropPartitionsBefore(db.client, { schema: db.schema, before: new Date('2024-06-01T00:00:00Z') });
    await tamper(`UPDATE ${s()}.audit_retention SET to_hash = repeat('0', 64) WHERE stream_id = 'alpha'`);
    const problem = problemOf(await verifyChain(db.client, { schema: db.schema }), 'alpha');
    expect(problem).to.include({ kind: 'prev-hash-mismatch', seq: 11 });
  });
});

describe('verifyChain with type parsers changed by the application', function () {
  this.timeout(60_000);
  it('hashes what the server stores, whatever pg.types returns for timestamptz, jsonb and bigint', async () => {
    const pg = (await import('pg')).default;
    const db = await migratedSchema('verify_types');
    const ids = [1184, 3802, 20, 1009];
    const saved = ids.map((oid) => pg.types.getTypeParser(oid, 'text'));
    try {
      const writer = createPgAuditWriter({ connectionString: db.url, schema: db.schema, streamId: 'types', piiKey: TEST_PII_KEY });
      await writer.writeBatch([auditRecord(), auditRecord()]);
      for (const oid of ids) pg.types.setTypeParser(oid, (v: string) => `raw:${v}`);
      expect(await writer.writeBatch([auditRecord()])).to.deep.equal({ inserted: 1, duplicates: 0 });
      await writer.close();
      const result = await verifyChain(db.client, { schema: db.schema, piiKey: TEST_PII_KEY });
      expect(result.streams.map((s) => s.problem)).to.deep.equal([null]);
      expect(result.rowsChecked).to.equal(3);
    } finally {
      ids.forEach((oid, i) => pg.types.setTypeParser(oid, saved[i]!));
      await db.drop();
    }
  });
});
