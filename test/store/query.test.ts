import { expect } from 'chai';
import { createPgAuditWriter } from '../../src/store/PgAuditWriter';
import { queryAuditTrail } from '../../src/store/query';
import { auditRecord, migratedSchema, TEST_PII_KEY } from '../support/auditRecords';

describe('queryAuditTrail', function () {
  this.timeout(60_000);
  let db: Awaited<ReturnType<typeof migratedSchema>>;
  const at = (day: number, hour = 12) => new Date(Date.UTC(2026, 10, day, hour)).toISOString();
  const events = [
    auditRecord({ occurredAt: at(1), action: 'LOGIN', actor: { id: 'ann', roles: [], sessionId: null, type: 'user' }, resourceType: null, resourceId: null }),
    auditRecord({ occurredAt: at(2), action: 'PRICE_CHANGE', actor: { id: 'ann', roles: [], sessionId: null, type: 'user' }, resourceType: 'product', resourceId: 'P-1' }),
    auditRecord({ occurredAt: at(3), action: 'PRICE_CHANGE', actor: { id: 'bob', roles: [], sessionId: null, type: 'user' }, resourceType: 'product', resourceId: 'P-2', outcome: 'failure' }),
    auditRecord({ occurredAt: at(4), action: 'DEVICE_DELETE', actor: { id: 'bob', roles: [], sessionId: null, type: 'user' }, resourceType: 'device', resourceId: 'D-1' }),
  ];

  before(async () => {
    db = await migratedSchema('query');
    const writer = createPgAuditWriter({ connectionString: db.url, schema: db.schema, streamId: 'q', piiKey: TEST_PII_KEY });
    await writer.writeBatch(events);
    await writer.close();
  });
  after(async () => {
    await db?.drop();
  });

  const ids = async (q: Parameters<typeof queryAuditTrail>[1]) =>
    (await queryAuditTrail(db.client, { schema: db.schema, ...q })).map((r) => r.eventId);

  it('returns every column of the view, newest first', async () => {
    const rows = await queryAuditTrail(db.client, { schema: db.schema });
    expect(rows.map((r) => r.eventId)).to.deep.equal(events.map((e) => e.eventId).reverse());
    expect(rows[0]).to.include({ action: 'DEVICE_DELETE', userId: 'bob', resourceType: 'device', resourceId: 'D-1', clientAddress: '203.0.113.7',
      userAgent: 'curl/8.5', username: 'alice', streamId: 'q', seq: 4, affectedRecords: 1, schemaValid: true });
    expect(rows[0].createdAt.toISOString()).to.equal(at(4));
  });

  it('filters by action, user, resource, outcome and time, combined', async () => {
    expect(await ids({ action: 'PRICE_CHANGE' })).to.deep.equal([events[2]!.eventId, events[1]!.eventId]);
    expect(await ids({ action: ['LOGIN', 'DEVICE_DELETE'] })).to.deep.equal([events[3]!.eventId, events[0]!.eventId]);
    expect(await ids({ user: 'ann' })).to.deep.equal([events[1]!.eventId, events[0]!.eventId]);
    expect(await ids({ resource: 'product' })).to.have.length(2);
    expect(await ids({ resource: 'product:P-2' })).to.deep.equal([events[2]!.eventId]);
    expect(await ids({ outcome: 'failure' })).to.deep.equal([events[2]!.eventId]);
    expect(await ids({ since: new Date(at(2)), until: new Date(at(4)) })).to.deep.equal([events[2]!.eventId, events[1]!.eventId]);
    expect(await ids({ user: 'bob', action: 'PRICE_CHANGE', since: new Date(at(3, 0)) })).to.deep.equal([events[2]!.eventId]);
    expect(await ids({ limit: 1 })).to.deep.equal([events[3]!.eventId]);
  });

  it('treats filter values as data, never as SQL', async () => {
    expect(await ids({ user: "ann' OR '1'='1" })).to.deep.equal([]);
  });

  it('rejects a bad limit with a clear message', async () => {
    const err = await queryAuditTrail(db.client, { schema: db.schema, limit: 0 }).then(() => null, (e: Error) => e);
    expect(err?.message).to.equal('limit must be an integer from 1 to 100000, got 0');
  });
});
