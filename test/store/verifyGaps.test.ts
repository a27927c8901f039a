/**
 * Security finding 6: what verify missed. A writer login that chains a
 * back-dated event into another process's stream (correct hashes, head moved
 * forward) is flagged by recorded_at going backwards; retention refuses a
 * cutoff later than its policy, so a future date cannot drop the current month.
 * Streams that disappear whole, and a cut tail with a rewound head, are caught
 * against signed checkpoints (`audit verify --checkpoints`, issue #15).
 */
import { expect } from 'chai';
import type pg from 'pg';
import { copyInto, LOG_COLUMNS, logLine } from '../../src/store/copyRows';
import { chainHash, PiiHasher } from '../../src/store/canonicalEncoding';
import { createPgAuditWriter } from '../../src/store/PgAuditWriter';
import { dropPartitionsBefore } from '../../src/store/retention';
import { completeRow, identifyRow } from '../../src/store/rows';
import { verifyChain } from '../../src/store/verify';
import { auditRecord, migratedSchema, TEST_PII_KEY } from '../support/auditRecords';

describe('security: verify and retention gaps (finding 6)', function () {
  this.timeout(60_000);
  let db: Awaited<ReturnType<typeof migratedSchema>>;
  const s = () => `"${db.schema}"`;

  beforeEach(async () => {
    db = await migratedSchema('verifygaps');
    const writer = createPgAuditWriter({ connectionString: db.url, schema: db.schema, streamId: 'app-1', piiKey: TEST_PII_KEY });
    await writer.writeBatch([auditRecord(), auditRecord()]);
    await writer.close();
  });
  afterEach(async () => {
    await db.client.query('ROLLBACK').catch(() => {});
    await db?.drop();
  });

  /** As the writer role: chain one event onto stream `streamId`'s head, recorded at `recordedAt`. */
  async function chainAsWriter(client: pg.Client, streamId: string, recordedAt: string): Promise<void> {
    await client.query('BEGIN; SET LOCAL ROLE cvd_activity_writer');
    const { rows: [head] } = await client.query(
      `SELECT head_seq::int AS seq, head_hash FROM ${s()}.audit_streams WHERE stream_id = $1 FOR UPDATE`, [streamId]);
    const record = auditRecord({ action: 'PERMISSION_CHANGE', occurredAt: recordedAt, personal: null as never });
    const row = completeRow(identifyRow(record, Date.now()), new PiiHasher(TEST_PII_KEY));
    row.recordedAt = recordedAt;
    const link = { streamId, seq: head.seq + 1, prevHash: head.head_hash as string };
    const hash = chainHash(link, row);
    await copyInto(client as never, `COPY ${s()}.audit_log (${LOG_COLUMNS}) FROM STDIN`, logLine(link, row, hash));
    await client.query(`UPDATE ${s()}.audit_streams SET head_seq = $2, head_hash = $3 WHERE stream_id = $1`, [streamId, link.seq, hash]);
    await client.query('COMMIT');
  }

  it('flags a back-dated event a writer login chained into another process\'s stream', async () => {
    await chainAsWriter(db.client, 'app-1', new Date(Date.now() - 3 * 86_400_000).toISOString());
    const result = await verifyChain(db.client, { schema: db.schema });
    expect(result.ok).to.equal(false);
    expect(result.streams[0]!.problem).to.include({ kind: 'recorded-at-backwards', seq: 3 });
  });

  it('accepts recorded_at stepping back within the clock-skew allowance', async () => {
    await chainAsWriter(db.client, 'app-1', new Date(Date.now() - 5_000).toISOString());
    expect((await verifyChain(db.client, { schema: db.schema })).ok).to.equal(true);
    expect((await verifyChain(db.client, { schema: db.schema, recordedAtSkewMs: 0 })).ok).to.equal(false);
  });

  it('refuses a retention cutoff later than the policy allows, keeping the current month', async () => {
    const future = new Date(Date.now() + 40 * 86_400_000);
    const err = await dropPartitionsBefore(db.client, { schema: db.schema, before: future }).then(() => null, (e: Error) => e);
    expect(err).to.be.instanceOf(RangeError);
    expect(err!.message).to.match(/later than the retention policy allows: with keepMonths 24 the latest cutoff is/);
    const twoMonths = new Date(Date.now() - 62 * 86_400_000);
    expect(await dropPartitionsBefore(db.client, { schema: db.schema, before: twoMonths, keepMonths: 1 }).then(() => 'dropped', () => 'refused'))
      .to.equal('dropped');
    const result = await verifyChain(db.client, { schema: db.schema });
    expect(result).to.include({ ok: true, rowsChecked: 2 });
  });
});
