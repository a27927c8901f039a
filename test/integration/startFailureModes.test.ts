// The composition root's failure modes, from the outside (child apps under
// --require dist/register.js): tracing disabled, an invalid configuration, no
// database, SIGTERM on an app without its own handler, and an app with its own
// database traffic. In each, the app serves and no accepted audit event is lost.
import { join } from 'node:path';
import { expect } from 'chai';
import { readSpoolStatus } from '../../src/pipeline/spoolStatus';
import type { ChildApp } from '../support/childApp';
import { runCliProcess } from '../support/cli';
import { createTestSchema } from '../support/database';
import { OtlpReceiver } from '../support/otlpReceiver';
import {
  auditAppEnv, call, countAuditRows, INTEGRATION_PII_KEY, NO_DATABASE_ENV, pollUntil, query, recordVia, startAuditApp, TempDirs, waitForTrailRows,
} from '../support/auditApp';

describe('integration: start-up failure modes keep the audit trail', function () {
  this.timeout(90000);
  const receiver = new OtlpReceiver();
  const temp = new TempDirs();
  const apps: ChildApp[] = [];
  let db: Awaited<ReturnType<typeof createTestSchema>>;
  let schemas: Awaited<ReturnType<typeof createTestSchema>>[] = [];

  /** A fresh schema name of our own (dropped after the file). */
  async function freshSchema(prefix: string): Promise<string> {
    const s = await createTestSchema(prefix);
    schemas.push(s);
    return s.schema;
  }

  async function launch(env: NodeJS.ProcessEnv, cwd?: string): Promise<ChildApp> {
    const app = await startAuditApp(env, cwd);
    apps.push(app);
    return app;
  }

  before(async () => {
    await receiver.start();
    db = await createTestSchema('integ_fail');
    schemas.push(db);
  });
  beforeEach(() => receiver.reset());
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.stop()));
  });
  after(async () => {
    await receiver.stop();
    for (const s of schemas) await s.drop();
    schemas = [];
    temp.cleanup();
  });

  const maria = { 'x-user': 'maria' };

  it('OTEL_SDK_DISABLED=true: no span is exported, audit rows are still stored with their actor', async () => {
    const schema = await freshSchema('integ_off');
    const app = await launch({ ...auditAppEnv({ url: db.url, schema, spoolDir: temp.make(), otlpUrl: receiver.url }), OTEL_SDK_DISABLED: 'true' });
    const ids = [await recordVia(app, 'POST', '/api/products/p-1/price', maria), await recordVia(app, 'GET', '/healthz', maria)];
    expect((await call(app, 'GET', '/api/devices')).status).to.equal(200);
    const rows = await waitForTrailRows(db.url, schema, ids);
    expect(rows.map((r) => r.user_id)).to.deep.equal(['maria', 'maria']);
    expect(rows.map((r) => r.trace_id)).to.deep.equal([null, null]);
    // After the process is gone nothing more can arrive: it exported nothing.
    app.proc.kill('SIGTERM');
    expect((await app.exited).signal).to.equal('SIGTERM');
    expect(receiver.raw).to.have.length(0);
    expect(app.stderr()).to.equal('');
  });

  it('invalid configuration: the app serves, one stderr line, events spooled; a later valid start drains them exactly once', async () => {
    const schema = await freshSchema('integ_bad');
    const spoolDir = join(temp.make(), 'spool');
    const env = auditAppEnv({ url: db.url, schema, spoolDir, otlpUrl: receiver.url });
    const bad = await launch({ ...env, CVD_ACTIVITY_NOISE_SAMPLE_RATIO: '2' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await recordVia(bad, 'POST', `/api/products/p-${i}/price`, maria));
    expect((await call(bad, 'GET', '/api/devices')).status).to.equal(200);
    const lines = bad.stderr().split('\n').filter((l) => l.trim() !== '');
    expect(lines, bad.stderr()).to.have.length(1);
    expect(lines[0]).to.include('invalid configuration').and.include('CVD_ACTIVITY_NOISE_SAMPLE_RATIO');
    // record() returned: the events are on disk in the configured spool folder, and nowhere else.
    expect(readSpoolStatus(spoolDir).totalEvents).to.equal(3);
    bad.proc.kill('SIGTERM');
    await bad.exited;
    expect(readSpoolStatus(spoolDir).totalEvents).to.equal(3);
    expect(await query(db.url, 'SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).to.have.length(0);

    const good = await launch(env);
    const rows = await waitForTrailRows(db.url, schema, ids);
    expect(rows.map((r) => r.user_id)).to.deep.equal(['maria', 'maria', 'maria']);
    // Recorded under the fallback, which kept the valid settings (the service name among them).
    expect(rows.map((r) => r.service_name)).to.deep.equal(['integration-app', 'integration-app', 'integration-app']);
    await pollUntil('the drained spool', async () => (readSpoolStatus(spoolDir).totalEvents === 0 ? true : undefined));
    good.proc.kill('SIGTERM');
    await good.exited;
    // A further start finds nothing left to replay: still each event once.
    const again = await launch(env);
    await recordVia(again, 'GET', '/api/poll', maria);
    await pollUntil('the fourth row', async () => ((await countAuditRows(db.url, schema)).rows === 4 ? true : undefined));
    expect(await countAuditRows(db.url, schema)).to.deep.equal({ rows: 4, distinct: 4 });
    const verify = await runCliProcess(['audit', 'verify'], { CVD_ACTIVITY_DATABASE_URL: db.url, CVD_ACTIVITY_SCHEMA: schema, CVD_ACTIVITY_PII_KEY: INTEGRATION_PII_KEY });
    expect(verify.code, verify.stdout + verify.stderr).to.equal(0);
  });

  it('no database: events stay spooled, `cvd-activity spool status` shows them, stderr says why', async () => {
    const spoolDir = temp.make();
    const app = await launch({ ...auditAppEnv({ url: '', schema: 'unused', spoolDir, otlpUrl: receiver.url }), ...NO_DATABASE_ENV, CVD_ACTIVITY_AUTO_MIGRATE: undefined });
    await recordVia(app, 'POST', '/api/products/p-1/price', maria);
    await recordVia(app, 'POST', '/login', { 'x-username': 'someone' });
    expect(app.stderr()).to.include('no database configured');
    const live = await runCliProcess(['spool', 'status', '--dir', spoolDir, '--json']);
    expect(live.code, live.stderr).to.equal(0);
    const status = JSON.parse(live.stdout) as { totalEvents: number; instances: { state: string; events: number }[] };
    expect(status.totalEvents).to.equal(2);
    expect(status.instances).to.have.length(1);
    expect(status.instances[0]).to.include({ state: 'live', events: 2 });
    app.proc.kill('SIGTERM');
    await app.exited;
    const after = JSON.parse((await runCliProcess(['spool', 'status', '--dir', spoolDir, '--json'])).stdout) as typeof status;
    expect(after.totalEvents).to.equal(2);
    expect(after.instances[0].state).to.equal('dead');
  });

  it('SIGTERM on an app without its own handler: exits by the signal after committing every audit event', async () => {
    const schema = await freshSchema('integ_term');
    const app = await launch({
      ...auditAppEnv({ url: db.url, schema, spoolDir: temp.make(), otlpUrl: receiver.url }),
      // No batch is due before the signal: only the exit flush can commit them.
      CVD_ACTIVITY_BATCH_DELAY_MS: '60000', CVD_ACTIVITY_SHUTDOWN_TIMEOUT_MS: '30000',
    });
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => recordVia(app, 'POST', `/api/products/p-${i}/price`, maria)));
    app.proc.kill('SIGTERM');
    expect(await app.exited).to.deep.equal({ code: null, signal: 'SIGTERM' });
    expect(await countAuditRows(db.url, schema)).to.deep.equal({ rows: 20, distinct: 20 });
    const stored = await query<{ event_id: string }>(db.url, `SELECT event_id::text FROM "${schema}".audit_log`);
    expect(stored.map((r) => r.event_id).sort()).to.deep.equal([...ids].sort());
  });

  it('the app’s own database traffic is unaffected: its transactions commit, its pool answers, no extra spans', async () => {
    const schema = await freshSchema('integ_own');
    const appSchema = await freshSchema('integ_appdb');
    await query(db.url, `CREATE SCHEMA "${appSchema}"; CREATE TABLE "${appSchema}".orders (id serial PRIMARY KEY, note text NOT NULL)`);
    const app = await launch({
      ...auditAppEnv({ url: db.url, schema, spoolDir: temp.make(), otlpUrl: receiver.url }),
      FIXTURE_APP_DB_URL: db.url, FIXTURE_APP_DB_SCHEMA: appSchema,
    });
    const results = await Promise.all(Array.from({ length: 8 }, () => call(app, 'POST', '/api/orders/sync?n=5', maria)));
    for (const r of results) expect(r.status, JSON.stringify(r.body)).to.equal(200);
    const [orders] = await query<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM "${appSchema}".orders`);
    expect(orders.n).to.equal(40);
    const rows = await waitForTrailRows(db.url, schema, results.map((r) => r.body!.eventId as string));
    expect(rows.every((r) => r.action === 'ORDER_SYNC' && r.user_id === 'maria')).to.equal(true);
    await receiver.waitFor('eight server spans', () => receiver.serverSpans('/api/orders/sync').length === 8, 20000);
    // Neither our writer's queries nor the app's produce spans of their own.
    expect(receiver.spans.filter((s) => s.kind !== 2)).to.deep.equal([]);
  });
});
