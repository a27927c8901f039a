// Issue #4 end to end: every column of audit_log, audit_personal and the
// audit_trail view, for events recorded inside real instrumented HTTP requests
// of a child app under --require dist/register.js; then `cvd-activity audit
// verify` (the built CLI, a child process) passes on what was stored.
import { expect } from 'chai';
import type { ChildApp } from '../support/childApp';
import { runCliProcess } from '../support/cli';
import { createTestSchema } from '../support/database';
import { OtlpReceiver } from '../support/otlpReceiver';
import { auditAppEnv, INTEGRATION_PII_KEY, query, recordVia, startAuditApp, TempDirs, waitForTrailRows } from '../support/auditApp';

type Row = Record<string, unknown>;

describe('integration: the stored audit trail, column by column (issue #4)', function () {
  this.timeout(60000);
  const receiver = new OtlpReceiver();
  const temp = new TempDirs();
  let db: Awaited<ReturnType<typeof createTestSchema>>;
  let app: ChildApp;
  const ids: Record<string, string> = {};
  let log: Map<string, Row>;
  let personal: Map<string, Row>;
  let trail: Map<string, Row>;
  let startedMs = 0;
  let endedMs = 0;

  before(async () => {
    await receiver.start();
    db = await createTestSchema('integ_cols');
    app = await startAuditApp({
      ...auditAppEnv({ url: db.url, schema: db.schema, spoolDir: temp.make(), otlpUrl: receiver.url, serviceName: 'integration-columns' }),
      CVD_ACTIVITY_TRUST_PROXY: '127.0.0.1',
    });
    const maria = { 'x-user': 'maria', 'x-session': 'sess-7', 'x-forwarded-for': '203.0.113.7', 'user-agent': 'IntegrationAgent/1.0' };
    const stranger = { 'x-username': 'maria.lopez', 'x-forwarded-for': '198.51.100.23', 'user-agent': 'Bruteforce/0.1' };
    startedMs = Date.now();
    ids.price = await recordVia(app, 'POST', '/api/products/p-1/price', maria);
    ids.deleteFailed = await recordVia(app, 'DELETE', '/api/devices/dev-9', maria);
    ids.login1 = await recordVia(app, 'POST', '/login', stranger);
    ids.login2 = await recordVia(app, 'POST', '/login', stranger);
    ids.unknown = await recordVia(app, 'GET', '/api/bad-event', maria);
    endedMs = Date.now();
    await waitForTrailRows(db.url, db.schema, Object.values(ids));
    const s = `"${db.schema}"`;
    const byId = (rows: Row[]) => new Map(rows.map((r) => [r.event_id as string, r]));
    log = byId(await query(db.url, `SELECT * FROM ${s}.audit_log`));
    personal = byId(await query(db.url, `SELECT * FROM ${s}.audit_personal`));
    trail = byId(await query(db.url, `SELECT * FROM ${s}.audit_trail`));
  });

  after(async () => {
    await app?.stop();
    await receiver.stop();
    await db?.drop();
    temp.cleanup();
  });

  it('fills every audit_log column of an event recorded in a request', async () => {
    const row = log.get(ids.price)!;
    expect(ids.price).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const created = (row.created_at as Date).getTime();
    expect(created).to.be.within(startedMs - 1, endedMs + 1);
    expect((row.recorded_at as Date).getTime()).to.be.at.least(created);
    expect(row).to.deep.include({
      event_id: ids.price, action: 'PRICE_CHANGE', category: 'financial', severity: 'high', outcome: 'success', reason: null,
      actor_type: 'user', user_id: 'maria', user_role: 'admin,ops', session_id: 'sess-7',
      resource_type: 'product', resource_id: 'p-1',
      details: { product: 'p-1', old_price: 1.5, new_price: 1.75, currency: 'EUR' },
      old_value: { price: 1.5, supplier_token: 'REDACTED' }, new_value: { price: 1.75 },
      affected_records: '3', service_name: 'integration-columns', schema_valid: true, schema_errors: [],
    });
    await receiver.waitFor('the server span', () => receiver.serverSpans('/api/products/p-1/price').length > 0, 20000);
    const span = receiver.serverSpans('/api/products/p-1/price')[0];
    expect(row.trace_id).to.equal(span.traceId);
    expect(row.span_id).to.equal(span.spanId);
    expect(row.pii_hmac).to.match(/^[0-9a-f]{64}$/);
  });

  it('stores a failure with its reason, and an unknown action kept as schema-invalid', () => {
    expect(log.get(ids.deleteFailed)).to.deep.include({
      action: 'DEVICE_DELETE', category: 'device', outcome: 'failure', reason: 'device has open service orders',
      resource_type: 'device', resource_id: 'dev-9', old_value: null, new_value: null, affected_records: null, schema_valid: true,
    });
    const unknown = log.get(ids.unknown)!;
    expect(unknown).to.deep.include({ action: 'DEVICE_TELEPORT', category: 'unknown', schema_valid: false, details: { to: 'mars' } });
    expect((unknown.schema_errors as string[]).join(' ')).to.include('DEVICE_TELEPORT');
  });

  it('chains the rows of the process stream: seq from 1, prev_hash links, head stored', async () => {
    const rows = [...log.values()].sort((a, b) => Number(a.seq) - Number(b.seq));
    const streams = new Set(rows.map((r) => r.stream_id));
    expect(streams.size).to.equal(1);
    expect(rows.map((r) => Number(r.seq))).to.deep.equal([1, 2, 3, 4, 5]);
    // Recorded one request after another: chain order is recording order.
    expect(rows.map((r) => r.event_id)).to.deep.equal([ids.price, ids.deleteFailed, ids.login1, ids.login2, ids.unknown]);
    rows.forEach((r, i) => {
      expect(r.hash).to.match(/^[0-9a-f]{64}$/);
      expect(r.prev_hash).to.equal(i === 0 ? null : rows[i - 1].hash);
    });
    const [head] = await query(db.url, `SELECT * FROM "${db.schema}".audit_streams WHERE stream_id = $1`, [rows[0].stream_id]);
    expect(head).to.deep.include({ head_seq: '5', head_hash: rows[4].hash, pid: app.proc.pid });
  });

  it('keeps client address, user agent and the LOGIN_FAILED username in audit_personal only', () => {
    expect(personal.get(ids.price)).to.deep.include({ client_address: '203.0.113.7', user_agent: 'IntegrationAgent/1.0', fields: {}, erased_at: null });
    for (const [id, attempt] of [[ids.login1, 1], [ids.login2, 2]] as const) {
      const row = log.get(id)!;
      expect(row).to.deep.include({ action: 'LOGIN_FAILED', severity: 'high', outcome: 'failure', reason: 'wrong password', actor_type: 'anonymous', user_id: null });
      expect(row.details).to.deep.include({ attempt_count: attempt, max_attempts: 5, address_attempt_count: attempt });
      expect(row.details).to.not.have.property('username');
      expect(JSON.stringify(row)).to.not.include('maria.lopez');
      expect(personal.get(id)).to.deep.include({ client_address: '198.51.100.23', user_agent: 'Bruteforce/0.1', fields: { username: 'maria.lopez' } });
    }
  });

  it('joins both in the audit_trail view', () => {
    for (const id of Object.values(ids)) {
      const l = log.get(id)!;
      const v = trail.get(id)!;
      for (const column of ['created_at', 'recorded_at', 'action', 'category', 'severity', 'outcome', 'reason', 'user_id', 'user_role', 'session_id',
        'resource_type', 'resource_id', 'old_value', 'new_value', 'affected_records', 'trace_id', 'span_id', 'service_name', 'schema_valid', 'stream_id', 'seq']) {
        expect(v[column], `${column} of ${l.action}`).to.deep.equal(l[column]);
      }
    }
    expect(trail.get(ids.price)).to.deep.include({ client_address: '203.0.113.7', user_agent: 'IntegrationAgent/1.0', username: null });
    const login = trail.get(ids.login2)!;
    expect(login).to.deep.include({ client_address: '198.51.100.23', username: 'maria.lopez' });
    expect(login.details).to.deep.include({ username: 'maria.lopez', attempt_count: 2 });
  });

  it('passes `cvd-activity audit verify`, personal data included', async () => {
    const run = await runCliProcess(['audit', 'verify'], { CVD_ACTIVITY_DATABASE_URL: db.url, CVD_ACTIVITY_SCHEMA: db.schema, CVD_ACTIVITY_PII_KEY: INTEGRATION_PII_KEY });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include('audit trail intact: 5 events in 1 stream(s), personal data checked');
  });
});
