// The register entry points as users run them: ESM under --import, exit
// behaviour on signals and beforeExit, invalid configuration, double start.
import { expect } from 'chai';
import { startChildApp } from '../support/childApp';
import type { ChildApp } from '../support/childApp';
import { OtlpReceiver } from '../support/otlpReceiver';

/** stderr without the audit pipeline's warning that no database is configured (these fixture apps have none). */
function withoutNoDatabaseWarning(stderr: string): string {
  return stderr.split('\n').filter((l) => !l.includes('cvd-activity: no database configured')).join('\n');
}

describe('register', function () {
  this.timeout(60000);
  const receiver = new OtlpReceiver();
  const apps: ChildApp[] = [];
  // Spans leave only through a flush: the batch delay is longer than any test.
  const noTimerExport = { OTEL_BSP_SCHEDULE_DELAY: '600000' };

  async function launch(fixture: string, mode: 'require' | 'import' | 'none', env: NodeJS.ProcessEnv = {}, flags: string[] = []): Promise<ChildApp> {
    const app = await startChildApp(fixture, mode, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, ...env }, flags);
    apps.push(app);
    return app;
  }

  before(() => receiver.start());
  beforeEach(() => receiver.reset());
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.stop()));
  });
  after(() => receiver.stop());

  it('gives an ESM app http spans under --import (loader hook registered)', async () => {
    const app = await launch('esm-app.mjs', 'import', { OTEL_SERVICE_NAME: 'esm-fixture' });
    await (await fetch(`${app.base}/api/things?token=ESM-SECRET`)).text();
    await (await fetch(`${app.base}/api/missing`)).text();
    await receiver.waitFor('two ESM spans', () => receiver.serverSpans().length >= 2);
    const span = receiver.serverSpans('/api/things')[0];
    expect(span.resource['service.name']).to.equal('esm-fixture');
    expect(span.attributes).to.include({ 'user.id': 'esm-user', 'url.query': 'token=REDACTED', 'http.response.status_code': 200, 'activity.outcome': 'success' });
    expect(receiver.serverSpans('/api/missing')[0].attributes['error.type']).to.equal('404');
    expect(receiver.allBytes()).to.not.include('ESM-SECRET');
  });

  it('leaves the loader to an app that already runs import-in-the-middle via --experimental-loader', async () => {
    const app = await launch('esm-app.mjs', 'import', {}, ['--experimental-loader', 'import-in-the-middle/hook.mjs']);
    await (await fetch(`${app.base}/api/with-loader`)).text();
    await receiver.waitFor('the span', () => receiver.serverSpans('/api/with-loader').length > 0);
    // One loader, one patch: exactly one span for the request.
    await (await fetch(`${app.base}/api/devices`)).text();
    await receiver.waitFor('the second span', () => receiver.serverSpans('/api/devices').length > 0);
    expect(receiver.serverSpans('/api/with-loader')).to.have.length(1);
    // Nothing but the one warning that this app has no database for its audit events.
    expect(withoutNoDatabaseWarning(app.stderr())).to.not.match(/cvd-activity|Error/);
  });

  it('starts nothing when OTEL_SDK_DISABLED=true, and the app serves', async () => {
    const app = await launch('cjs-app.js', 'require', { OTEL_SDK_DISABLED: 'true', FIXTURE_DOUBLE_START: '1' });
    expect(app.stdout()).to.include('SECOND_START active=false');
    expect((await fetch(`${app.base}/api/devices`)).status).to.equal(200);
    // Audit stays on (it warns that it has no database); only the second start() warns besides; no error, no configuration complaint.
    expect(app.stderr()).to.include('no database configured');
    const lines = withoutNoDatabaseWarning(app.stderr()).trim().split('\n');
    expect(lines).to.have.length(1).and.satisfy((l: string[]) => l[0].includes('start() called again'));
  });

  it('instruments an ESM app that calls start() from code after importing node:http', async () => {
    const app = await launch('esm-start-app.mjs', 'none');
    await (await fetch(`${app.base}/api/programmatic`)).text();
    await receiver.waitFor('the span', () => receiver.serverSpans('/api/programmatic').length === 1);
    expect(receiver.serverSpans('/api/programmatic')[0].resource['service.name']).to.equal('esm-programmatic');
  });

  it('exports OTLP/HTTP protobuf by default, with no secret in the bytes', async () => {
    const app = await launch('cjs-app.js', 'require', { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: undefined });
    await (await fetch(`${app.base}/api/devices?secret_key=PROTO-SECRET-7&page=9`, { headers: { authorization: 'Bearer PROTO-SECRET-8' } })).text();
    await receiver.waitFor('a protobuf export', () => receiver.raw.length > 0);
    expect(receiver.contentTypes[0]).to.equal('application/x-protobuf');
    const bytes = receiver.allBytes();
    expect(bytes).to.include('secret_key=REDACTED&page=9').and.include('/api/devices');
    expect(bytes).to.not.include('PROTO-SECRET-7').and.not.include('PROTO-SECRET-8');
  });

  it('batches spans as OTEL_BSP_* say (the 3.x BatchSpanProcessor no longer reads them; start() does)', async () => {
    // One span per export, and no timer: three requests must make three exports at once.
    const app = await launch('cjs-app.js', 'require', { ...noTimerExport, OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1' });
    for (let i = 0; i < 3; i++) await (await fetch(`${app.base}/api/devices`)).text();
    await receiver.waitFor('three server spans', () => receiver.serverSpans('/api/devices').length >= 3);
    expect(receiver.paths.filter((p) => p === '/v1/traces')).to.have.length.of.at.least(3);
  });

  it('exports the request counters as OTLP metrics where spans go, and none with OTEL_METRICS_EXPORTER=none', async () => {
    const metricsUrl = receiver.url.replace(/\/v1\/traces$/, '/v1/metrics');
    const on = await launch('cjs-app.js', 'require', { ...noTimerExport, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: metricsUrl, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: undefined });
    await (await fetch(`${on.base}/api/devices`)).text();
    await (await fetch(`${on.base}/healthz`)).text();
    on.proc.kill('SIGTERM');
    await on.exited;
    // The exit flush exported the counters once (the interval, 60 s, never came).
    expect(receiver.paths.filter((p) => p === '/v1/metrics')).to.have.length(1);
    const metrics = receiver.raw[receiver.paths.indexOf('/v1/metrics')]!.toString('utf8');
    expect(metrics).to.include('cvd_activity.http.requests').and.include('cvd_activity.fate').and.include('dropped');
    // instrumentation-http's per-request histograms stay off.
    expect(metrics).to.not.include('http.server');

    receiver.reset();
    const off = await launch('cjs-app.js', 'require', { ...noTimerExport, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: metricsUrl, OTEL_METRICS_EXPORTER: 'none' });
    await (await fetch(`${off.base}/api/devices`)).text();
    off.proc.kill('SIGTERM');
    await off.exited;
    expect(receiver.serverSpans('/api/devices')).to.have.length(1);
    expect(receiver.paths).to.not.include('/v1/metrics');
  });

  it('ends an app with no SIGTERM handler by SIGTERM, after flushing its spans', async () => {
    const app = await launch('cjs-app.js', 'require', noTimerExport);
    await (await fetch(`${app.base}/api/devices`)).text();
    app.proc.kill('SIGTERM');
    const ended = await app.exited;
    expect(ended.signal).to.equal('SIGTERM');
    // Received before the process died: the flush ran first.
    expect(receiver.serverSpans('/api/devices')).to.have.length(1);
  });

  it('ends an app with no SIGINT handler by SIGINT', async () => {
    const app = await launch('cjs-app.js', 'require', noTimerExport);
    await (await fetch(`${app.base}/api/devices`)).text();
    app.proc.kill('SIGINT');
    expect((await app.exited).signal).to.equal('SIGINT');
    expect(receiver.serverSpans('/api/devices')).to.have.length(1);
  });

  it('leaves an app with its own SIGTERM handler in control, and still flushes', async () => {
    const app = await launch('cjs-app.js', 'require', { ...noTimerExport, FIXTURE_SIGTERM_HANDLER: '1' });
    await (await fetch(`${app.base}/api/devices`)).text();
    app.proc.kill('SIGTERM');
    await receiver.waitFor('the flushed span', () => receiver.serverSpans('/api/devices').length === 1);
    expect(app.stdout()).to.include('APP_HANDLER_RAN');
    const res = await fetch(`${app.base}/api/chunked`);
    expect(res.status).to.equal(200);
    await res.text();
    expect(app.proc.exitCode).to.equal(null);
  });

  it('flushes on beforeExit and lets a finished script exit normally', async () => {
    const app = await launch('oneshot.js', 'require', noTimerExport);
    const ended = await app.exited;
    expect(ended).to.deep.equal({ code: 0, signal: null });
    expect(receiver.serverSpans('/api/once')).to.have.length(1);
  });

  it('keeps serving with one clear stderr line when the configuration is invalid', async () => {
    const app = await launch('cjs-app.js', 'require', { CVD_ACTIVITY_NOISE_SAMPLE_RATIO: '2', OTEL_TRACES_EXPORTER: 'jaeger' });
    const res = await fetch(`${app.base}/api/devices`);
    expect(res.status).to.equal(200);
    await res.text();
    const lines = app.stderr().split('\n').filter((l) => l.trim() !== '');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include('cvd-activity: invalid configuration')
      .and.include('noise.sampleRatio (from env CVD_ACTIVITY_NOISE_SAMPLE_RATIO) is 2: allowed a number from 0 to 1')
      .and.include('tracesExporter (from env OTEL_TRACES_EXPORTER) is "jaeger"')
      .and.include('runs without activity tracking');
  });

  it('makes a second start() a no-op that warns and returns the first handle', async () => {
    const app = await launch('cjs-app.js', 'require', { OTEL_SERVICE_NAME: 'first', FIXTURE_DOUBLE_START: '1' });
    expect(app.stdout()).to.include('SECOND_START active=true service=first');
    expect(app.stderr()).to.include('start() called again');
    await (await fetch(`${app.base}/api/devices?n=1`)).text();
    await (await fetch(`${app.base}/api/devices?n=2`)).text();
    await receiver.waitFor('two spans', () => receiver.serverSpans('/api/devices').length >= 2);
    await (await fetch(`${app.base}/api/chunked`)).text();
    await receiver.waitFor('the last span', () => receiver.serverSpans('/api/chunked').length >= 1);
    // One SDK: each request produced exactly one span, all from the first configuration.
    expect(receiver.serverSpans('/api/devices')).to.have.length(2);
    expect(receiver.spans.every((s) => s.resource['service.name'] === 'first')).to.equal(true);
  });
});
