import { expect } from 'chai';
import fc from 'fast-check';
import pg from 'pg';
import { createPgAuditWriter } from '../../src/store/PgAuditWriter';
import type { AuditWriter } from '../../src/store/types';
import { StoreUnavailableError } from '../../src/store/errors';
import { verifyChain } from '../../src/store/verify';
import { auditRecord, migratedSchema, TEST_PII_KEY } from '../support/auditRecords';

describe('PgAuditWriter', function () {
  this.timeout(60_000);
  let db: Awaited<ReturnType<typeof migratedSchema>>;
  let writer: AuditWriter;

  before(async () => {
    db = await migratedSchema('writer');
    writer = createPgAuditWriter({ connectionString: db.url, schema: db.schema, streamId: 'test-stream', piiKey: TEST_PII_KEY, host: 'h1', pid: 42 });
  });
  after(async () => {
    await writer?.close();
    await db?.drop();
  });

  it('fills every column of audit_log, audit_personal and the stream head', async () => {
    const rec = auditRecord({ reason: 'because', details: { price: 2, email: undefined as unknown as string } });
    const result = await writer.writeBatch([rec]);
    expect(result).to.deep.equal({ inserted: 1, duplicates: 0 });
    const { rows } = await db.client.query(`SELECT * FROM "${db.schema}".audit_log WHERE event_id = $1`, [rec.eventId]);
    expect(rows).to.have.length(1);
    const row = rows[0];
    expect(row.created_at.toISOString()).to.equal(rec.occurredAt);
    expect(row.recorded_at).to.be.instanceOf(Date);
    expect(row).to.include({
      action: 'PRICE_CHANGE', category: 'business', severity: 'medium', outcome: 'success', reason: 'because',
      actor_type: 'user', user_id: rec.actor.id, user_role: 'admin,ops', session_id: rec.actor.sessionId,
      resource_type: 'product', resource_id: rec.resourceId, affected_records: '1',
      trace_id: rec.traceId, span_id: rec.spanId, service_name: 'cvd-api', schema_valid: true,
      stream_id: 'test-stream', seq: '1', prev_hash: null,
    });
    expect(row.details).to.deep.equal({ price: 2 });
    expect(row.old_value).to.deep.equal({ price: 1.25 });
    expect(row.new_value).to.deep.equal({ price: 1.5 });
    expect(row.schema_errors).to.deep.equal([]);
    expect(row.pii_hmac).to.match(/^[0-9a-f]{64}$/);
    expect(row.hash).to.match(/^[0-9a-f]{64}$/);
    const personal = await db.client.query(`SELECT * FROM "${db.schema}".audit_personal WHERE event_id = $1`, [rec.eventId]);
    expect(personal.rows[0]).to.include({ client_address: '203.0.113.7', user_agent: 'curl/8.5', erased_at: null });
    expect(personal.rows[0].fields).to.deep.equal({ username: 'alice' });
    const head = await db.client.query(`SELECT * FROM "${db.schema}".audit_streams WHERE stream_id = 'test-stream'`);
    expect(head.rows[0]).to.include({ head_seq: '1', head_hash: row.hash, host: 'h1', pid: 42 });
    const view = await db.client.query(`SELECT * FROM "${db.schema}".audit_trail WHERE event_id = $1`, [rec.eventId]);
    expect(view.rows[0]).to.include({ client_address: '203.0.113.7', user_agent: 'curl/8.5', username: 'alice' });
    expect(view.rows[0].details).to.deep.equal({ price: 2, username: 'alice' });
  });

  it('chains rows in order and skips events already stored when a batch is replayed', async () => {
    const batch = [auditRecord(), auditRecord(), auditRecord()];
    expect(await writer.writeBatch(batch)).to.deep.equal({ inserted: 3, duplicates: 0 });
    const extra = auditRecord();
    expect(await writer.writeBatch([...batch, extra, batch[0]!])).to.deep.equal({ inserted: 1, duplicates: 4 });
    const { rows } = await db.client.query(
      `SELECT event_id, seq, prev_hash, hash FROM "${db.schema}".audit_log WHERE stream_id = 'test-stream' ORDER BY seq`);
    expect(rows.map((r) => r.event_id).slice(-4)).to.deep.equal([...batch, extra].map((r) => r.eventId));
    for (let i = 1; i < rows.length; i++) {
      expect(Number(rows[i].seq)).to.equal(i + 1);
      expect(rows[i].prev_hash).to.equal(rows[i - 1].hash);
    }
  });

  it('writes batches prepared ahead (prepare) exactly like unprepared ones', async () => {
    const batch = [auditRecord(), auditRecord({ eventId: 'bad id' }), auditRecord()];
    writer.prepare!(batch);
    expect(await writer.writeBatch(batch)).to.deep.equal({ inserted: 3, duplicates: 0 });
    writer.prepare!(batch);
    expect(await writer.writeBatch(batch)).to.deep.equal({ inserted: 0, duplicates: 3 });
    const result = await verifyChain(db.client, { schema: db.schema, piiKey: TEST_PII_KEY });
    expect(result.streams.find((v) => v.streamId === 'test-stream')!.problem).to.equal(null);
  });

  it('stores events of other months in their own partitions (split by retention class), created on demand', async () => {
    const old = auditRecord({ occurredAt: '2019-03-15T10:00:00.000Z' });
    const future = auditRecord({ occurredAt: '2031-07-01T00:00:00.000Z' });
    expect(await writer.writeBatch([old, future])).to.deep.equal({ inserted: 2, duplicates: 0 });
    const { rows } = await db.client.query(
      `SELECT tableoid::regclass::text AS part FROM "${db.schema}".audit_log WHERE event_id IN ($1, $2) ORDER BY created_at`,
      [old.eventId, future.eventId]);
    expect(rows.map((r) => r.part)).to.deep.equal([`${db.schema}.audit_log_p201903_other`, `${db.schema}.audit_log_p203107_other`]);
  });

  it('stores values Postgres would refuse, made storable and noted', async () => {
    const rec = auditRecord({ eventId: 'not-a-uuid', reason: 'nul\0here', details: { 'k\0': 'lone \ud800', tab: 'a\tb\\c\nd' }, affectedRecords: 1.5 });
    expect(await writer.writeBatch([rec])).to.deep.equal({ inserted: 1, duplicates: 0 });
    expect(await writer.writeBatch([rec])).to.deep.equal({ inserted: 0, duplicates: 1 });
    const { rows } = await db.client.query(`SELECT * FROM "${db.schema}".audit_log WHERE reason LIKE 'nul%'`);
    expect(rows[0].reason).to.equal('nul\uFFFDhere');
    expect(rows[0].details).to.deep.equal({ 'k\uFFFD': 'lone \uFFFD', tab: 'a\tb\\c\nd' });
    expect(rows[0].schema_valid).to.equal(false);
    expect(rows[0].schema_errors.join('\n')).to.match(/eventId: "not-a-uuid" is not a UUID/).and.match(/affectedRecords/);
  });

  it('two writers replaying the same events at once store each event once', async () => {
    const other = createPgAuditWriter({ connectionString: db.url, schema: db.schema, streamId: 'other-stream', piiKey: TEST_PII_KEY });
    try {
      const batch = Array.from({ length: 200 }, () => auditRecord());
      const results = await Promise.all([writer.writeBatch(batch), other.writeBatch(batch)]);
      expect(results[0]!.inserted + results[1]!.inserted).to.equal(200);
      const { rows } = await db.client.query(`SELECT count(*)::int AS n FROM "${db.schema}".audit_log WHERE event_id = ANY($1::uuid[])`,
        [batch.map((r) => r.eventId)]);
      expect(rows[0].n).to.equal(200);
    } finally {
      await other.close();
    }
  });

  it('hashes exactly what a read gives back: the whole trail verifies, odd values included', async () => {
    const odd = auditRecord({
      details: { '10': 'a', '9': 'b', 'é': 1e21, z: 1e-7, neg: -0, big: 12345678901234567890, arr: [[], {}, '\u2028'], 'k"\\': 'q"\\' },
      oldValue: 'plain string', newValue: 42, personal: { clientAddress: '::1', userAgent: null, fields: { email: 'a@b.c', '1': 'x' } },
    });
    await writer.writeBatch([odd, auditRecord({ oldValue: null, newValue: undefined, personal: { clientAddress: null, userAgent: null, fields: {} } })]);
    const result = await verifyChain(db.client, { schema: db.schema, piiKey: TEST_PII_KEY });
    expect(result.streams.map((v) => v.problem)).to.deep.equal(result.streams.map(() => null));
    expect(result.ok).to.equal(true);
  });

  it('verifies after storing random JSON of any Unicode (property, through the real server)', async () => {
    const json = fc.jsonValue({ stringUnit: 'binary', maxDepth: 3 });
    const records = fc.sample(fc.tuple(fc.dictionary(fc.string({ unit: 'binary' }), json), json, fc.string({ unit: 'binary' })), { numRuns: 80, seed: 42 })
      .map(([details, newValue, reason]) => auditRecord({ details, newValue, reason, personal: { clientAddress: reason, userAgent: null, fields: { note: reason } } }));
    const stream = createPgAuditWriter({ connectionString: db.url, schema: db.schema, streamId: 'random', piiKey: TEST_PII_KEY });
    try {
      expect(await stream.writeBatch(records)).to.deep.equal({ inserted: 80, duplicates: 0 });
      expect(await stream.writeBatch(records)).to.deep.equal({ inserted: 0, duplicates: 80 });
    } finally {
      await stream.close();
    }
    const result = await verifyChain(db.client, { schema: db.schema, piiKey: TEST_PII_KEY });
    const random = result.streams.find((v) => v.streamId === 'random')!;
    expect(random).to.include({ rows: 80, problem: null });
  });

  it('reports an unreachable server as StoreUnavailableError', async () => {
    const dead = createPgAuditWriter({ connectionString: 'postgres://postgres@127.0.0.1:1/test', schema: db.schema, streamId: 's', piiKey: TEST_PII_KEY });
    try {
      const err = await dead.writeBatch([auditRecord()]).then(() => null, (e: unknown) => e);
      expect(err).to.be.instanceOf(StoreUnavailableError);
      expect((err as StoreUnavailableError).code).to.equal('CVD_STORE_UNAVAILABLE');
      expect((err as StoreUnavailableError).retriable).to.equal(true);
    } finally {
      await dead.close();
    }
  });

  it('refuses to write after close()', async () => {
    const pool = new pg.Pool({ connectionString: db.url });
    const w = createPgAuditWriter({ pool, schema: db.schema, streamId: 'x', piiKey: TEST_PII_KEY });
    await w.close();
    await w.close();
    const err = await w.writeBatch([auditRecord()]).then(() => null, (e: Error) => e);
    expect(err?.message).to.match(/closed: cannot write after close\(\)/);
    expect(pool.ended).to.equal(false); // a pool passed in belongs to the caller
    await pool.end();
  });
});
