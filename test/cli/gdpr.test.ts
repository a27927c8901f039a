import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import type { AuditEvent } from '../../src/audit/types';
import { Spool } from '../../src/pipeline/Spool';
import { createPgAuditWriter } from '../../src/store/PgAuditWriter';
import { migrate } from '../../src/store/migrate';
import { createTestSchema } from '../support/database';
import { TEST_PII_KEY } from '../support/auditRecords';
import { auditRecord as storeRecord } from '../support/auditStore';
import type { AuditRecord } from '../../src/store/types';
import { runCliProcess } from '../support/cli';

type Personal = AuditEvent['personal'];
const person = (clientAddress: string, userAgent: string, fields: Record<string, string> = {}): Personal => ({ clientAddress, userAgent, fields });
const actor = (id: string) => ({ id, roles: ['ops'], sessionId: `s-${id}`, type: 'user' });
/** A record as the pipeline hands it over: a plausible default, then `o`. */
const auditRecord = (o: Partial<AuditRecord> & { action: string }): AuditRecord => ({ ...storeRecord({ action: o.action, at: new Date('2026-11-20T10:00:00Z') }), ...o });

// Alice's personal values: after `gdpr erase` none may be left, byte for byte, in any table or spool file.
const ALICE = 'u-alice';
const ALICE_VALUES = ['198.51.100.23', 'AliceBrowser/7.1', 'alice.smith', 'alice@example.org', '198.51.100.77', 'alice.spooled', 'Spool "Quoted" Agent ü', 'alice.live',
  '/alice-only/page', '198.51.100.88'];
// Bob's stay: the same search must still find them (it could fail).
const BOB_VALUES = ['192.0.2.55', 'BobBrowser/2.0', 'bob.jones', '192.0.2.66'];

describe('cvd-activity gdpr export / erase (real PostgreSQL, CLI in a child process)', function () {
  this.timeout(120_000);
  let test: Awaited<ReturnType<typeof createTestSchema>>;
  let client: pg.Client;
  let env: Record<string, string>;
  let dir: string;
  let live: Spool;
  const aliceIds = new Set<string>();
  const bobIds = new Set<string>();

  before(async () => {
    test = await createTestSchema('gdpr');
    dir = mkdtempSync(join(tmpdir(), 'cvd-gdpr-'));
    env = { CVD_ACTIVITY_DATABASE_URL: test.url, CVD_ACTIVITY_SCHEMA: test.schema, CVD_ACTIVITY_PII_KEY: TEST_PII_KEY.toString('hex') };
    client = new pg.Client({ connectionString: test.url });
    await client.connect();
    await migrate(client, { schema: test.schema });
    const asActor = auditRecord({ action: 'LOGIN', actor: actor(ALICE), resourceType: 'user', resourceId: ALICE,
      personal: person('198.51.100.23', 'AliceBrowser/7.1', { username: 'alice.smith' }) });
    const created = auditRecord({ action: 'USER_CREATE', actor: actor('admin'), resourceType: 'user', resourceId: ALICE,
      personal: person('203.0.113.99', 'AdminBrowser/1.0', { username: 'alice.smith', email: 'alice@example.org' }) });
    const terminated = auditRecord({ action: 'TERMINATE_SESSION', actor: actor('admin'), resourceType: 'session', resourceId: 's-9',
      details: { target_user_id: ALICE, target_session_id: 's-9' }, personal: person('203.0.113.99', 'AdminBrowser/1.0') });
    const bobs = [
      auditRecord({ action: 'LOGIN', actor: actor('u-bob'), resourceType: 'user', resourceId: 'u-bob', personal: person('192.0.2.55', 'BobBrowser/2.0', { username: 'bob.jones' }) }),
      auditRecord({ action: 'PERMISSION_CHANGE', actor: actor('admin'), resourceType: 'user', resourceId: 'u-bob',
        details: { target_user_id: 'u-bob', old_role: 'driver', new_role: 'admin' }, personal: person('203.0.113.99', 'AdminBrowser/1.0') }),
    ];
    for (const r of [asActor, created, terminated]) aliceIds.add(r.eventId);
    // What the browser module reported under each user (browser_events, migration 004).
    await client.query(`INSERT INTO "${test.schema}".browser_events (received_at, occurred_at, type, user_id, page_view_id, page, client_address, browser)
      VALUES (now(), now(), 'page_view', $1, 'pv-a', '/alice-only/page', '198.51.100.88', 'Chrome 156'),
             (now(), now(), 'page_view', 'u-bob', 'pv-b', '/devices', '192.0.2.55', 'Firefox 140')`, [ALICE]);
    for (const r of bobs) bobIds.add(r.eventId);
    const writer = createPgAuditWriter({ connectionString: test.url, schema: test.schema, streamId: 'app', piiKey: TEST_PII_KEY });
    await writer.writeBatch([asActor, bobs[0]!, created, terminated, bobs[1]!]);
    await writer.close();

    // Waiting in the spool: a running process's segment (this test process; opened first, or it would
    // claim the stopped one's segment), and a stopped process's.
    live = new Spool({ dir, maxBytes: 1 << 20, fsync: 'none' });
    live.append({ ...auditRecord({ action: 'LOGIN', actor: actor(ALICE), personal: person('198.51.100.23', 'AliceBrowser/7.1', { username: 'alice.live' }) }) } as AuditEvent);
    const stopped = new Spool({ dir, maxBytes: 1 << 20, fsync: 'none' });
    stopped.append({ ...auditRecord({ action: 'LOGIN', actor: actor(ALICE), personal: person('198.51.100.77', 'Spool "Quoted" Agent ü', { username: 'alice.spooled' }) }) } as AuditEvent);
    stopped.append({ ...auditRecord({ action: 'LOGIN', actor: actor('u-bob'), personal: person('192.0.2.66', 'BobBrowser/2.0') }) } as AuditEvent);
    stopped.close();
  });
  after(async () => {
    live?.close();
    await client?.end();
    await test?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('export --format json holds every event where the user is actor or subject, with personal data, and nothing of others', async () => {
    const run = await runCliProcess(['gdpr', 'export', '--user', ALICE], env);
    expect(run, run.stderr).to.include({ code: 0 });
    const out = JSON.parse(run.stdout);
    expect(out).to.include({ user: ALICE, eventCount: 3, browserEventCount: 1 });
    expect(out.browserEvents.map((b: any) => [b.user_id, b.page, b.client_address])).to.deep.equal([[ALICE, '/alice-only/page', '198.51.100.88']]);
    const byId = new Map<string, any>(out.events.map((e: any) => [e.event_id, e]));
    expect([...byId.keys()].sort()).to.deep.equal([...aliceIds].sort());
    const login = [...byId.values()].find((e) => e.action === 'LOGIN');
    expect(login).to.include({ role: 'actor', user_id: ALICE, client_address: '198.51.100.23', user_agent: 'AliceBrowser/7.1' });
    expect(login.personal_fields).to.deep.equal({ username: 'alice.smith' });
    expect([...byId.values()].filter((e) => e.role === 'subject').map((e) => e.action).sort()).to.deep.equal(['TERMINATE_SESSION', 'USER_CREATE']);
    for (const v of BOB_VALUES) expect(run.stdout).not.to.include(v);

    const { rows } = await client.query(`SELECT * FROM "${test.schema}".audit_log WHERE action = 'DATA_EXPORT'`);
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ resource_type: 'user', resource_id: ALICE, schema_valid: true });
    expect(rows[0].details).to.deep.include({ dataset: 'gdpr_export', format: 'json', record_count: 4 });
  });

  it('export --format csv --output writes a file only its owner can read', async () => {
    const file = join(dir, 'alice.csv');
    const run = await runCliProcess(['gdpr', 'export', '--user', ALICE, '--format', 'csv', '--output', file], env);
    expect(run, run.stderr).to.include({ code: 0, stdout: '' });
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\r\n');
    // Header and three events (the DATA_EXPORT of the first test is about her too, but holds no personal data).
    expect(lines[0]).to.match(/^event_id,created_at,.*,role,personal_fields,erased_at$/);
    expect(lines.filter((l) => l.includes('198.51.100.23'))).to.have.length(1);
    expect(lines.length).to.equal(1 + 4);
  });

  it('export --tempo-url adds the spans Tempo\'s search API finds for user.id, in every tenant given', async () => {
    const tempo = await fakeTempo();
    try {
      const run = await runCliProcess(['gdpr', 'export', '--user', ALICE, '--tempo-url', tempo.url, '--tempo-tenant', 'api-calls,user-activity'], env);
      expect(run, run.stderr).to.include({ code: 0 });
      const out = JSON.parse(run.stdout);
      expect(tempo.requests.map((r) => r.headers['x-scope-orgid'])).to.deep.equal(['api-calls', 'user-activity']);
      const search = new URL(tempo.requests[0]!.url, 'http://x').searchParams;
      expect(search.get('q')).to.match(/^\{ span\.user\.id = "u-alice" \}/);
      expect(Number(search.get('end')) - Number(search.get('start'))).to.be.closeTo(90 * 86_400, 5);
      expect(out.spans).to.have.length(2);
      expect(out.spans[0]).to.deep.include({ tenant: 'api-calls', traceId: 't-api-calls', spanId: 's1', name: 'GET /api/devices' });
      expect(out.spans[0].attributes).to.deep.equal({ 'user.id': ALICE, 'http.response.status_code': 200 });
      expect(out.spans[1]).to.include({ tenant: 'user-activity' });
    } finally {
      tempo.server.close();
    }
    const unreachable = await runCliProcess(['gdpr', 'export', '--user', ALICE, '--tempo-url', 'http://127.0.0.1:9'], env);
    expect(unreachable.code).to.equal(3);
    expect(unreachable.stderr).to.match(/^cvd-activity: cannot reach Tempo at http:\/\/127\.0\.0\.1:9.*nothing was exported\n$/);
    const csv = await runCliProcess(['gdpr', 'export', '--user', ALICE, '--format', 'csv', '--tempo-url', tempo.url], env);
    expect(csv).to.include({ code: 2, stdout: '' });
  });

  it('erase leaves no personal value of the user in any table or spool file, keeps every event, and verify passes', async () => {
    for (const v of [...ALICE_VALUES.slice(0, 4), ...ALICE_VALUES.slice(-2)]) expect(await tablesContaining(v), v).not.to.deep.equal([]); // the search finds them before
    const spoolBefore = spoolBytes();
    const run = await runCliProcess(['gdpr', 'erase', '--user', ALICE, '--spool-dir', dir], env);
    expect(run, run.stderr).to.include({ code: 0 });
    expect(run.stdout).to.equal(`erased the personal data of user ${ALICE}: 3 event(s) in schema ${test.schema}, 2 waiting event(s) in 2 spool file(s) of ${dir}, 1 browser event(s) deleted\n`);
    expect(run.stderr).to.match(/1 of the waiting events belong to running processes/);

    for (const v of ALICE_VALUES) {
      expect(await tablesContaining(v), v).to.deep.equal([]);
      expect(spoolFilesContaining(v), v).to.deep.equal([]);
    }
    for (const v of BOB_VALUES) expect([...(await tablesContaining(v)), ...spoolFilesContaining(v)], v).not.to.deep.equal([]);
    expect(spoolBytes(), 'spool files keep their length: offsets held by running processes stay valid').to.deep.equal(spoolBefore);

    const erasure = (await client.query(`SELECT l.*, p.event_id AS personal FROM "${test.schema}".audit_log l
      LEFT JOIN "${test.schema}".audit_personal p USING (event_id) WHERE action = 'PERSONAL_DATA_ERASURE'`)).rows;
    expect(erasure).to.have.length(1);
    expect(erasure[0]).to.include({ resource_id: ALICE, personal: null, pii_hmac: null, schema_valid: true });
    expect(erasure[0].details).to.deep.equal({ target_user_id: ALICE, events_erased: 3, spool_events_erased: 2, browser_events_deleted: 1 });

    const verify = await runCliProcess(['audit', 'verify'], env);
    expect(verify.stdout, verify.stderr).to.match(/audit trail intact: \d+ events in 2 stream\(s\), personal data checked/);
    const query = await runCliProcess(['audit', 'query', '--user', ALICE, '--format', 'json'], env);
    const rows = JSON.parse(query.stdout);
    expect(rows.map((r: any) => r.action)).to.deep.equal(['LOGIN']);
    expect(rows[0]).to.include({ client_address: null, user_agent: null, username: null });
  });

  it('the spool still yields every waiting event after the erasure, with the user\'s personal data blank', () => {
    const next = new Spool({ dir, maxBytes: 1 << 20, fsync: 'none' }); // claims the stopped process's segment
    try {
      const events = next.peek(100);
      expect(events).to.have.length(2); // the stopped process's two; the live one's stays with it
      const alice = events.find((e) => e.actor.id === ALICE)!;
      // Blanked in place, same length: spaces, and a backslash where an escape was.
      expect(alice.personal.clientAddress).to.equal(' '.repeat('198.51.100.77'.length));
      expect(alice.personal.userAgent).to.match(/^[ \\]+$/);
      expect(alice.personal.fields).to.deep.equal({ username: ' '.repeat('alice.spooled'.length) });
      expect(events.find((e) => e.actor.id === 'u-bob')!.personal.clientAddress).to.equal('192.0.2.66');
    } finally {
      next.close();
    }
  });

  async function tablesContaining(value: string): Promise<string[]> {
    const { rows } = await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`, [test.schema]);
    const found: string[] = [];
    for (const { name } of rows) {
      const hit = await client.query(`SELECT 1 FROM "${test.schema}"."${name}" t WHERE strpos(t::text, $1) > 0 LIMIT 1`, [value]);
      if (hit.rowCount) found.push(name);
    }
    return found;
  }

  function spoolFilesContaining(value: string): string[] {
    return readdirSync(dir).filter((f) => f.endsWith('.seg') && readFileSync(join(dir, f)).includes(Buffer.from(value, 'utf8')));
  }

  function spoolBytes(): Record<string, number> {
    return Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.seg')).map((f) => [f, statSync(join(dir, f)).size]));
  }
});

/** An HTTP server answering GET /api/search as Tempo does, one trace per tenant, recording each request. */
async function fakeTempo(): Promise<{ url: string; server: Server; requests: Array<{ url: string; headers: IncomingHttpHeaders }> }> {
  const requests: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  const server = createServer((req, res) => {
    requests.push({ url: req.url!, headers: req.headers });
    const tenant = String(req.headers['x-scope-orgid'] ?? 'single');
    const span = { spanID: 's1', name: 'GET /api/devices', startTimeUnixNano: '1764590400000000000', durationNanos: '1200000',
      attributes: [{ key: 'user.id', value: { stringValue: ALICE } }, { key: 'http.response.status_code', value: { intValue: '200' } }] };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ traces: [{ traceID: `t-${tenant}`, rootServiceName: 'cvd-api', rootTraceName: 'GET /api/devices',
      startTimeUnixNano: '1764590400000000000', durationMs: 1, spanSet: { spans: [span], matched: 1 }, spanSets: [{ spans: [span], matched: 1 }] }],
    metrics: { inspectedTraces: 1 } }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, requests };
}


