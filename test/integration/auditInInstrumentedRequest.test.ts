// Issue #3 end to end: audit.record() inside REAL instrumented HTTP requests
// (child app under --require dist/register.js, user set by a middleware,
// X-Forwarded-For from a trusted proxy) reaches Postgres with the actor and
// request context, is mirrored as the documented `audit` span event on the
// exported server span, survives sampling and noise drops, and leaves no
// secret in the stored row or the exported bytes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { ChildApp } from '../support/childApp';
import { ROOT } from '../support/childApp';
import { createTestSchema } from '../support/database';
import { OtlpReceiver } from '../support/otlpReceiver';
import type { ReceivedSpan } from '../support/otlpReceiver';
import { auditAppEnv, query, recordVia, startAuditApp, TempDirs, waitForTrailRows } from '../support/auditApp';

/** The attribute table of docs/semantic-conventions.md: name → always present. */
function documentedAuditAttributes(): Map<string, boolean> {
  const doc = readFileSync(join(ROOT, 'docs', 'semantic-conventions.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Attributes of the `audit` span event'));
  const table = section.slice(0, section.indexOf('\n#', 10));
  const out = new Map<string, boolean>();
  for (const m of table.matchAll(/^\| `([a-z_.]+)` \| \w+ \| ([^|]+) \|/gm)) out.set(m[1], m[2].trim() === 'yes');
  return out;
}

describe('integration: audit events inside instrumented HTTP requests (issue #3)', function () {
  this.timeout(60000);
  const receiver = new OtlpReceiver();
  const temp = new TempDirs();
  let db: Awaited<ReturnType<typeof createTestSchema>>;
  let app: ChildApp;
  const maria = { 'x-user': 'maria', 'x-session': 'sess-7', 'x-forwarded-for': '203.0.113.7', 'user-agent': 'IntegrationAgent/1.0' };

  before(async () => {
    await receiver.start();
    db = await createTestSchema('integ_req');
    app = await startAuditApp({
      ...auditAppEnv({ url: db.url, schema: db.schema, spoolDir: temp.make(), otlpUrl: receiver.url, serviceName: 'integration-requests' }),
      // The test connects from 127.0.0.1: that proxy may speak for the client.
      CVD_ACTIVITY_TRUST_PROXY: '127.0.0.1',
      // The polling route is sampled at ratio 0: its spans are never recorded.
      CVD_ACTIVITY_NOISE_SAMPLED_PATHS: '/api/poll',
      CVD_ACTIVITY_NOISE_SAMPLE_RATIO: '0',
    });
  });

  after(async () => {
    await app?.stop();
    await receiver.stop();
    await db?.drop();
    temp.cleanup();
  });

  async function serverSpan(path: string): Promise<ReceivedSpan> {
    await receiver.waitFor(`the server span of ${path}`, () => receiver.serverSpans(path).length > 0, 20000);
    return receiver.serverSpans(path)[0];
  }

  it('captures actor, client address, user agent and trace context; the stored trace is the exported one', async () => {
    const id = await recordVia(app, 'POST', '/api/products/p-1/price', maria);
    const [row] = await waitForTrailRows(db.url, db.schema, [id]);
    expect(row).to.include({
      user_id: 'maria', user_role: 'admin,ops', session_id: 'sess-7',
      client_address: '203.0.113.7', user_agent: 'IntegrationAgent/1.0', service_name: 'integration-requests',
    });
    const span = await serverSpan('/api/products/p-1/price');
    expect(row.trace_id).to.equal(span.traceId);
    // Recorded in the handler: the active span is the request's server span.
    expect(row.span_id).to.equal(span.spanId);
    expect(span.attributes).to.include({ 'client.address': '203.0.113.7', 'user.id': 'maria' });
  });

  it('mirrors each event as an `audit` span event carrying every documented attribute', async () => {
    const priceId = await recordVia(app, 'POST', '/api/products/p-2/price', maria);
    const failedId = await recordVia(app, 'DELETE', '/api/devices/dev-9', maria);
    const [price, failed] = await Promise.all([serverSpan('/api/products/p-2/price'), serverSpan('/api/devices/dev-9')]);
    const documented = documentedAuditAttributes();
    expect(documented.size).to.be.greaterThan(10);

    const priceEvents = price.events.filter((e) => e.name === 'audit');
    expect(priceEvents).to.have.length(1);
    const a = priceEvents[0].attributes;
    for (const [name, always] of documented) if (always) expect(a, `always-present attribute ${name}`).to.have.property(name);
    for (const name of Object.keys(a)) expect(documented.has(name), `undocumented attribute ${name}`).to.equal(true);
    expect(a).to.include({
      'audit.action': 'PRICE_CHANGE', 'audit.event_id': priceId, 'audit.category': 'financial', 'audit.severity': 'high',
      'audit.outcome': 'success', 'audit.schema_valid': true, 'audit.actor.type': 'user', 'audit.resource.type': 'product',
      'audit.resource.id': 'p-2', 'audit.affected_records': 3, 'user.id': 'maria',
    });
    expect(JSON.parse(a['audit.details'] as string)).to.deep.equal({ product: 'p-2', old_price: 1.5, new_price: 1.75, currency: 'EUR' });
    expect(JSON.parse(a['audit.old_value'] as string)).to.deep.equal({ price: 1.5, supplier_token: 'REDACTED' });
    expect(JSON.parse(a['audit.new_value'] as string)).to.deep.equal({ price: 1.75 });

    const f = failed.events.find((e) => e.name === 'audit')!.attributes;
    expect(f).to.include({ 'audit.action': 'DEVICE_DELETE', 'audit.event_id': failedId, 'audit.outcome': 'failure', 'audit.reason': 'device has open service orders' });
    // Personal data stays in the store: the event names no client address or user agent.
    expect(Object.keys(f).filter((k) => /client|agent/.test(k))).to.deep.equal([]);
  });

  it('keeps the events of sampled-out and noise-dropped requests, which export no span', async () => {
    const pollId = await recordVia(app, 'GET', '/api/poll', maria);
    const healthId = await recordVia(app, 'GET', '/healthz', maria);
    const staticId = await recordVia(app, 'GET', '/static/report.csv', maria);
    const rows = await waitForTrailRows(db.url, db.schema, [pollId, healthId, staticId]);
    for (const row of rows) expect(row).to.include({ user_id: 'maria', client_address: '203.0.113.7', user_agent: 'IntegrationAgent/1.0' });
    const poll = rows.find((r) => r.event_id === pollId)!;
    // Sampled out: the request's (unexported) trace. Dropped: no trace at all, rather than a made-up one.
    expect(poll.trace_id).to.match(/^[0-9a-f]{32}$/);
    for (const id of [healthId, staticId]) expect(rows.find((r) => r.event_id === id)).to.include({ trace_id: null, span_id: null });

    // A kept request after them: once its span is exported, theirs would have been too.
    await recordVia(app, 'POST', '/api/products/p-after/price', maria);
    await serverSpan('/api/products/p-after/price');
    for (const path of ['/api/poll', '/healthz', '/static/report.csv']) expect(receiver.serverSpans(path), path).to.have.length(0);
    // Nor did the mirror start a span of its own in the unsampled trace.
    expect(receiver.spans.filter((s) => s.traceId === poll.trace_id)).to.have.length(0);
  });

  it('redacts secret-named detail, old-value and new-value fields in the stored row and in the exported bytes', async () => {
    const id = await recordVia(app, 'POST', '/api/gateways/gw-1/rotate', maria);
    const [row] = await waitForTrailRows(db.url, db.schema, [id]);
    // `credentials` is a secret name by default (security finding 4): the whole object goes.
    expect(row.details).to.deep.equal({ gateway: 'gw-1', api_key: 'REDACTED', credentials: 'REDACTED' });
    expect(row.old_value).to.deep.equal({ api_key: 'REDACTED', label: 'old' });
    expect(row.new_value).to.deep.equal({ api_key: 'REDACTED', label: 'new' });
    const span = await serverSpan('/api/gateways/gw-1/rotate');
    const mirrored = span.events.find((e) => e.name === 'audit')!.attributes;
    expect(JSON.parse(mirrored['audit.details'] as string)).to.deep.equal(row.details);

    const secrets = ['PRICE-SECRET-TOKEN-1', 'GW-SECRET-KEY-2', 'GW-SECRET-PASS-3', 'GW-SECRET-OLD-4', 'GW-SECRET-NEW-5'];
    const stored = await query<{ dump: string }>(db.url,
      `SELECT (SELECT coalesce(string_agg(row_to_json(l)::text, ''), '') FROM "${db.schema}".audit_log l)
           || (SELECT coalesce(string_agg(row_to_json(p)::text, ''), '') FROM "${db.schema}".audit_personal p) AS dump`);
    const exported = receiver.allBytes();
    expect(stored[0].dump).to.include('REDACTED');
    expect(exported).to.include('GATEWAY_KEY_ROTATE');
    for (const secret of secrets) {
      expect(stored[0].dump, `stored ${secret}`).to.not.include(secret);
      expect(exported, `exported ${secret}`).to.not.include(secret);
    }
  });
});
