// Security finding 10: no total size cap per event. Every field was capped,
// not their number: a 61.6 MiB event was accepted, and one past what Postgres
// takes in a batch blocked the trail for good. Now record() caps the event's
// serialized size (audit.maxEventBytes): lenient mode stores it without its
// bulk, marked invalid and naming the limit; strict mode refuses it.
import { expect } from 'chai';
import { AuditValidationError } from '../../src/audit/errors';
import type { ChildApp } from '../support/childApp';
import { createTestSchema } from '../support/database';
import { newTestRecorder } from '../support/audit';
import { OtlpReceiver } from '../support/otlpReceiver';
import { auditAppEnv, query, recordVia, startAuditApp, TempDirs, waitForTrailRows } from '../support/auditApp';

describe('integration: an oversized audit event cannot block the trail (finding 10)', function () {
  this.timeout(60000);
  const receiver = new OtlpReceiver();
  const temp = new TempDirs();
  let db: Awaited<ReturnType<typeof createTestSchema>>;
  let app: ChildApp;

  before(async () => {
    await receiver.start();
    db = await createTestSchema('integ_oversized');
    app = await startAuditApp(auditAppEnv({ url: db.url, schema: db.schema, spoolDir: temp.make(), otlpUrl: receiver.url }));
  });
  after(async () => {
    await app?.stop();
    await receiver.stop();
    await db?.drop();
    temp.cleanup();
  });

  it('stores a 3 MB event without its bulk, naming the limit, and the events after it', async () => {
    const big = await recordVia(app, 'POST', '/api/config/oversized?keys=200');
    const next = await recordVia(app, 'POST', '/api/products/p-1/price');
    const rows = await waitForTrailRows(db.url, db.schema, [big, next]);
    const stored = rows.find((r) => r.event_id === big)!;
    expect(Object.keys(stored.details as object)).to.deep.equal(['_omitted']);
    expect((stored.details as { _omitted: string })._omitted).to.match(/^\d+ bytes over audit\.maxEventBytes \(1048576\)$/);
    expect(stored.schema_valid).to.equal(false);
    const [log] = await query<{ schema_errors: string[] }>(db.url, `SELECT schema_errors FROM "${db.schema}".audit_log WHERE event_id = $1`, [big]);
    expect(log!.schema_errors.join('\n')).to.match(/allowed at most audit\.maxEventBytes = 1048576 bytes/);
  });

  it('strict mode refuses it with an error naming audit.maxEventBytes', () => {
    const { recorder, sink } = newTestRecorder({ strict: true, maxEventBytes: 64 * 1024 });
    const details: Record<string, unknown> = { setting: 's', old_value: null, new_value: null };
    for (let i = 0; i < 10; i++) details[`k${i}`] = 'x'.repeat(16000);
    const err = (() => { try { recorder.record('CONFIG_CHANGE', { details }); return null; } catch (e) { return e as AuditValidationError; } })();
    expect(err).to.be.instanceOf(AuditValidationError);
    expect(err!.message).to.match(/allowed at most audit\.maxEventBytes = 65536 bytes/);
    expect(sink.events).to.have.length(0);
  });
});
