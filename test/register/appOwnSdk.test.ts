// Issue #18: an app that starts its own OpenTelemetry SDK and also runs under
// `--require cvd-activity/register`. Never two SDKs, never silent loss: the
// first one registered owns the globals, and the other case is named in one
// exact stderr line (docs/opentelemetry.md).
import { join } from 'node:path';
import { expect } from 'chai';
import { APP_SDK_FIRST_MESSAGE, APP_SDK_LATER_MESSAGE } from '../../src/instrumentation/sdkOwnership';
import { auditAppEnv, call, TempDirs, waitForTrailRows } from '../support/auditApp';
import type { ChildApp } from '../support/childApp';
import { FIXTURES, startChildApp } from '../support/childApp';
import { createTestSchema } from '../support/database';
import { OtlpReceiver } from '../support/otlpReceiver';

describe('register: an app with its own OpenTelemetry SDK (issue #18)', function () {
  this.timeout(60000);
  const ours = new OtlpReceiver();
  const apps = new OtlpReceiver();
  const temp = new TempDirs();
  let db: Awaited<ReturnType<typeof createTestSchema>>;
  let app: ChildApp | undefined;

  before(async () => {
    await Promise.all([ours.start(), apps.start()]);
    db = await createTestSchema('own_sdk');
  });

  afterEach(async () => {
    await app?.stop();
    app = undefined;
    ours.reset();
    apps.reset();
  });

  after(async () => {
    await Promise.all([ours.stop(), apps.stop()]);
    await db?.drop();
    temp.cleanup();
  });

  function start(o: { sdkFirst: boolean }): Promise<ChildApp> {
    const env = {
      ...auditAppEnv({ url: db.url, schema: db.schema, spoolDir: temp.make(), otlpUrl: ours.url, serviceName: 'cvd-side' }),
      FIXTURE_APP_OTLP_URL: apps.url,
      FIXTURE_START_SDK_IN_APP: o.sdkFirst ? undefined : '1',
      // Without it the app's NodeSDK keeps the diag logger as it is (ours); with it, the app's own logger shows the API's refusal.
      OTEL_LOG_LEVEL: undefined,
    };
    return startChildApp('own-sdk-app.js', 'require', env, o.sdkFirst ? ['--require', join(FIXTURES, 'own-sdk.js')] : []);
  }

  async function changePrice(product: string): Promise<{ eventId: string; traceId: string }> {
    const { status, body } = await call(app!, 'POST', `/api/products/${product}/price`);
    expect(status, app!.stderr()).to.equal(200);
    return body as { eventId: string; traceId: string };
  }

  it('app SDK first: cvd-activity starts no SDK and says so in one line; the app\'s spans are exported by the app, the audit event is on its trace', async () => {
    app = await start({ sdkFirst: true });
    const { eventId, traceId } = await changePrice('p-first');
    const path = '/api/products/p-first/price';
    await apps.waitFor('the app\'s server span', () => apps.serverSpans(path).length > 0);
    const server = apps.serverSpans(path)[0];
    expect(server.resource['service.name']).to.equal('app-own-sdk');
    expect(traceId).to.equal(server.traceId);
    expect(apps.spans.filter((s) => s.name === 'price lookup')).to.have.length(1);

    const [row] = await waitForTrailRows(db.url, db.schema, [eventId]);
    expect(row.trace_id).to.equal(server.traceId);
    // One SDK: one server span for the request, and nothing exported by a second pipeline.
    expect(apps.serverSpans(path)).to.have.length(1);
    expect(ours.spans).to.have.length(0);
    expect(app.stderr().split('\n').filter((line) => line.startsWith('cvd-activity: the app'))).to.deep.equal([APP_SDK_FIRST_MESSAGE]);
  });

  it('app SDK later: the API refuses it, cvd-activity says so in one line and exports every span; the audit event is on that trace', async () => {
    app = await start({ sdkFirst: false });
    const { eventId, traceId } = await changePrice('p-later');
    const path = '/api/products/p-later/price';
    await ours.waitFor('the server span', () => ours.serverSpans(path).length > 0 && ours.spans.some((s) => s.name === 'price lookup'));
    const server = ours.serverSpans(path)[0];
    expect(server.resource['service.name']).to.equal('cvd-side');
    expect(traceId).to.equal(server.traceId);

    const [row] = await waitForTrailRows(db.url, db.schema, [eventId]);
    expect(row.trace_id).to.equal(server.traceId);
    expect(ours.serverSpans(path)).to.have.length(1);
    expect(apps.spans).to.have.length(0);
    expect(app.stderr().split('\n').filter((line) => line.startsWith('cvd-activity: the app'))).to.deep.equal([APP_SDK_LATER_MESSAGE]);
    // The API's refusals (context, propagation, trace, logs) are that one line, not four stack traces.
    expect(app.stderr()).not.to.include('Attempted duplicate registration');
  });
});
