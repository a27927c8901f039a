// Issue #18: the packed package installed into fresh app folders next to the
// app's own @opentelemetry/api (the oldest and the newest version the peer
// range accepts), with npm hoisted, npm nested and pnpm, then run as users run
// it: `node --require cvd-activity/register` (and `--import` for ESM). One API
// copy in the tree, so the SDK's globals are the ones the app's spans use.
// With the 2.x line (its own api 1.9.1 nested) no span at all was exported.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { auditAppEnv, call, TempDirs, waitForTrailRows } from '../support/auditApp';
import { startChildApp } from '../support/childApp';
import { createTestSchema } from '../support/database';
import { OtlpReceiver } from '../support/otlpReceiver';
import { installedApp, removePackagingRun, supportedApiVersions } from '../support/packedApp';
import type { Layout } from '../support/packedApp';

/** What the fixture's price route answers. */
interface PriceAnswer {
  eventId: string;
  manual: { traceId: string; spanId: string; recording: boolean };
  apiCopies: Record<string, string>;
  registeredApiVersion: string | null;
}

describe('packaging: one @opentelemetry/api, the app\'s, in every install layout (issue #18)', function () {
  this.timeout(10 * 60_000);
  const receiver = new OtlpReceiver();
  const temp = new TempDirs();
  let db: Awaited<ReturnType<typeof createTestSchema>>;
  let oldest = '';
  let newest = '';
  let caseNumber = 0;

  before(async () => {
    await receiver.start();
    db = await createTestSchema('packaging');
    [oldest, newest = oldest] = await supportedApiVersions();
  });

  after(async () => {
    await receiver.stop();
    await db?.drop();
    temp.cleanup();
    removePackagingRun();
  });

  async function runShop(o: { layout: Layout; apiVersion: string; entry: 'shop.cjs' | 'shop.mjs' }): Promise<void> {
    const dir = await installedApp({ layout: o.layout, apiVersion: o.apiVersion });
    const flag = o.entry === 'shop.mjs' ? '--import' : '--require';
    const env = auditAppEnv({ url: db.url, schema: db.schema, spoolDir: temp.make(), otlpUrl: receiver.url, serviceName: 'packaged-shop' });
    const app = await startChildApp(join(dir, o.entry), 'none', env, [flag, 'cvd-activity/register'], dir);
    try {
      const product = `p-${++caseNumber}`;
      const path = `/api/products/${product}/price`;
      const { status, body } = await call(app, 'POST', path);
      expect(status, app.stderr()).to.equal(200);
      const answer = body as unknown as PriceAnswer;

      // One API at run time: every party resolves the same folder, at the app's version, and it owns the globals.
      const folders = new Set(Object.values(answer.apiCopies));
      expect(folders.size, JSON.stringify(answer.apiCopies, null, 2)).to.equal(1);
      const [folder] = folders;
      expect(JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')).version).to.equal(o.apiVersion);
      expect(answer.registeredApiVersion).to.equal(o.apiVersion);
      expect(answer.manual.recording, 'the app\'s own span records').to.equal(true);

      await receiver.waitFor(`the server span of ${path} and the app's span`, () =>
        receiver.serverSpans(path).length > 0 && receiver.spans.some((s) => s.spanId === answer.manual.spanId), 20000);
      const server = receiver.serverSpans(path)[0];
      const manual = receiver.spans.find((s) => s.spanId === answer.manual.spanId)!;
      expect(manual).to.include({ name: 'price lookup', scope: 'shop-app', traceId: server.traceId, parentSpanId: server.spanId });
      expect(server.resource['service.name']).to.equal('packaged-shop');

      const [row] = await waitForTrailRows(db.url, db.schema, [answer.eventId]);
      expect(row.trace_id).to.equal(server.traceId);
      expect(row.span_id).to.equal(manual.spanId);
    } finally {
      await app.stop();
    }
  }

  for (const layout of ['npm-hoisted', 'npm-nested', 'pnpm'] as const) {
    it(`${layout}, the oldest supported api: server spans, the app's spans as their children, audit events on the same trace`, async () => {
      await runShop({ layout, apiVersion: oldest, entry: 'shop.cjs' });
    });

    it(`${layout}, the newest api: the same, under --require`, async () => {
      await runShop({ layout, apiVersion: newest, entry: 'shop.cjs' });
    });
  }

  it('npm refuses an app whose own api is older than the peer range, naming the range (no silent no-ops)', async () => {
    const install = installedApp({ layout: 'npm-hoisted', apiVersion: '1.9.1' });
    const failure = await install.then(() => null, (err: Error) => err);
    expect(failure?.message).to.match(/ERESOLVE[\s\S]*peer @opentelemetry\/api@">=1\.10\.0 <1\.11\.0" from cvd-activity/);
  });

  for (const layout of ['npm-hoisted', 'pnpm'] as const) {
    it(`${layout}, the newest api, an ES module app under --import: the same`, async () => {
      await runShop({ layout, apiVersion: newest, entry: 'shop.mjs' });
    });
  }
});
