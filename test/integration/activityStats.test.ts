// getActivityStats() (public API) in a real child app under --require
// dist/register.js, read through the app's own /stats endpoint: requests,
// noise drops, sampled-out spans, exported spans and accepted audit events
// match what the receiver and Postgres actually got.
import { expect } from 'chai';
import type { ChildApp } from '../support/childApp';
import { createTestSchema } from '../support/database';
import { OtlpReceiver } from '../support/otlpReceiver';
import { auditAppEnv, call, countAuditRows, pollUntil, recordVia, startAuditApp, TempDirs } from '../support/auditApp';

interface Stats {
  requests: number;
  spansDropped: number;
  spansSampledOut: number;
  spansExported: number;
  spansFailed: number;
  auditEventsRecorded: number;
}

describe('integration: getActivityStats() in an instrumented app', function () {
  this.timeout(60000);
  const receiver = new OtlpReceiver();
  const temp = new TempDirs();
  let db: Awaited<ReturnType<typeof createTestSchema>>;
  let app: ChildApp;

  before(async () => {
    await receiver.start();
    db = await createTestSchema('integ_stats');
    app = await startAuditApp({
      ...auditAppEnv({ url: db.url, schema: db.schema, spoolDir: temp.make(), otlpUrl: receiver.url }),
      CVD_ACTIVITY_NOISE_SAMPLED_PATHS: '/api/poll',
      CVD_ACTIVITY_NOISE_SAMPLE_RATIO: '0',
      // /stats itself is dropped as noise, so reading the counters exports no span.
      CVD_ACTIVITY_NOISE_DROP_PATHS: '/healthz,/stats',
    });
  });

  after(async () => {
    await app?.stop();
    await receiver.stop();
    await db?.drop();
    temp.cleanup();
  });

  it('counts requests, noise drops, sampled-out and exported spans, and accepted audit events', async () => {
    const user = { 'x-user': 'maria' };
    for (let i = 0; i < 3; i++) expect((await call(app, 'GET', '/api/devices')).status).to.equal(200);
    for (let i = 0; i < 2; i++) await recordVia(app, 'GET', '/healthz', user); // dropped, 1 event each
    await recordVia(app, 'GET', '/static/report.csv', user); // dropped (static prefix), 1 event
    for (let i = 0; i < 2; i++) await recordVia(app, 'GET', '/api/poll', user); // sampled out, 1 event each
    await recordVia(app, 'POST', '/api/products/p-1/price', user); // kept, 1 event
    await recordVia(app, 'POST', '/login', { 'x-username': 'nobody' }); // kept, 1 event

    // Kept: 3 devices + price + login. Each /stats call counts itself as a dropped request.
    await receiver.waitFor('the five kept spans', () => receiver.spans.length >= 5, 20000);
    let calls = 0;
    const stats = await pollUntil('every kept span reported exported', async () => {
      calls++;
      const s = (await call(app, 'GET', '/stats')).body as unknown as Stats;
      return s.spansExported >= 5 ? s : undefined;
    });
    expect(stats).to.deep.equal({
      requests: 3 + 2 + 1 + 2 + 1 + 1 + calls,
      spansDropped: 2 + 1 + calls,
      spansSampledOut: 2,
      spansExported: 5,
      spansFailed: 0,
      auditEventsRecorded: 7,
    });
    expect(receiver.spans).to.have.length(5);
    expect(receiver.serverSpans('/api/devices')).to.have.length(3);
    await pollUntil('seven stored events', async () => ((await countAuditRows(db.url, db.schema)).rows === 7 ? true : undefined));
    expect(await countAuditRows(db.url, db.schema)).to.deep.equal({ rows: 7, distinct: 7 });
  });
});
