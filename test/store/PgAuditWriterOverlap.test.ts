import { expect } from 'chai';
import { createPgAuditWriter } from '../../src/store/PgAuditWriter';
import type { AuditRecord, AuditWriter } from '../../src/store/types';
import { verifyChain } from '../../src/store/verify';
import { auditRecord, migratedSchema, TEST_PII_KEY } from '../support/auditRecords';

/** The event ids of a stream, in chain order. */
async function chainIds(db: Awaited<ReturnType<typeof migratedSchema>>, stream: string): Promise<string[]> {
  const { rows } = await db.client.query(`SELECT event_id FROM "${db.schema}".audit_log WHERE stream_id = $1 ORDER BY seq`, [stream]);
  return rows.map((r: { event_id: string }) => r.event_id);
}

const batchOf = (n: number, o: Partial<AuditRecord> = {}) => Array.from({ length: n }, () => auditRecord(o));
const ids = (...batches: AuditRecord[][]) => batches.flat().map((r) => r.eventId);

describe('PgAuditWriter: overlapping batches (writeBatch called before the previous one settled)', function () {
  this.timeout(60_000);
  let db: Awaited<ReturnType<typeof migratedSchema>>;
  const writers: AuditWriter[] = [];
  const open = (streamId: string) => {
    const w = createPgAuditWriter({ connectionString: db.url, schema: db.schema, streamId, piiKey: TEST_PII_KEY });
    writers.push(w);
    return w;
  };

  before(async () => {
    db = await migratedSchema('overlap');
    // Fails any batch holding personal data with this client address, after its audit_log rows were COPYed.
    await db.client.query(`CREATE FUNCTION "${db.schema}".fail_me() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.client_address = 'fail-me' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER fail_me BEFORE INSERT ON "${db.schema}".audit_personal FOR EACH ROW EXECUTE FUNCTION "${db.schema}".fail_me()`);
  });
  after(async () => {
    for (const w of writers) await w.close();
    await db?.drop();
  });

  it('declares that it overlaps batches', () => {
    expect(open('declares').overlapsBatches).to.equal(true);
  });

  it('commits overlapping batches in call order, each chained onto the one before', async () => {
    const w = open('in-order');
    const first = batchOf(50);
    await w.writeBatch(first); // from here on the head is known in memory
    const [a, b, c] = [batchOf(300), batchOf(300), batchOf(300)];
    const results = await Promise.all([w.writeBatch(a), w.writeBatch(b), w.writeBatch(c)]);
    expect(results.map((r) => r.inserted)).to.deep.equal([300, 300, 300]);
    expect(await chainIds(db, 'in-order')).to.deep.equal(ids(first, a, b, c));
    const verified = await verifyChain(db.client, { schema: db.schema, piiKey: TEST_PII_KEY });
    expect(verified.streams.find((s) => s.streamId === 'in-order')!.problem).to.equal(null);
  });

  it('does not commit a batch whose predecessor failed; retried, every event is stored once and in order', async () => {
    const w = open('fails');
    const first = batchOf(20);
    await w.writeBatch(first);
    const bad = [...batchOf(100), auditRecord({ personal: { clientAddress: 'fail-me', userAgent: null, fields: {} } }), ...batchOf(100)];
    const next = batchOf(200);
    const outcomes = await Promise.allSettled([w.writeBatch(bad), w.writeBatch(next)]);
    expect(outcomes.map((o) => o.status)).to.deep.equal(['rejected', 'rejected']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).to.match(/previous batch of this stream failed/);
    expect(await chainIds(db, 'fails')).to.deep.equal(ids(first), 'nothing of either batch is stored');

    await db.client.query(`ALTER TABLE "${db.schema}".audit_personal DISABLE TRIGGER fail_me`);
    try {
      // What the pipeline does: the same events again, from the oldest.
      expect((await w.writeBatch(bad)).inserted).to.equal(201);
      expect((await w.writeBatch(next)).inserted).to.equal(200);
    } finally {
      await db.client.query(`ALTER TABLE "${db.schema}".audit_personal ENABLE TRIGGER fail_me`);
    }
    expect(await chainIds(db, 'fails')).to.deep.equal(ids(first, bad, next));
    const verified = await verifyChain(db.client, { schema: db.schema, piiKey: TEST_PII_KEY });
    expect(verified.streams.find((s) => s.streamId === 'fails')!.problem).to.equal(null);
  });

  it('rolls back a batch chained onto a head that moved meanwhile (another writer on the same stream), then recovers', async () => {
    const mine = open('shared');
    const theirs = open('shared');
    const a = batchOf(30);
    await mine.writeBatch(a); // mine now expects the head after `a`
    const b = batchOf(30);
    await theirs.writeBatch(b); // the head moved behind mine's back
    const c = batchOf(30);
    const err = await mine.writeBatch(c).then(() => null, (e: Error) => e);
    expect(err?.message).to.match(/head of stream shared moved/);
    expect((err as { retriable?: boolean }).retriable).to.equal(true);
    expect((await mine.writeBatch(c)).inserted).to.equal(30); // reads the head from the database again
    expect(await chainIds(db, 'shared')).to.deep.equal(ids(a, b, c));
    const verified = await verifyChain(db.client, { schema: db.schema, piiKey: TEST_PII_KEY });
    expect(verified.streams.find((s) => s.streamId === 'shared')!.problem).to.equal(null);
  });
});
