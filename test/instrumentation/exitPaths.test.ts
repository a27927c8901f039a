// Every way an app ends itself, under --require: the spans buffered at that
// moment (the batch delay is longer than the test) must all be exported, and
// the process must end as it would have without cvd-activity.
import { expect } from 'chai';
import { startChildApp } from '../support/childApp';
import type { ChildApp } from '../support/childApp';
import { OtlpReceiver } from '../support/otlpReceiver';

/**
 * stderr without what instrumentation differs in by construction: the stack
 * frames of the wrappers around the request listener, and the source excerpt
 * Node prints above the error, which shows where the error was last thrown
 * (instrumentation-http ends the span, then rethrows) — and without the note
 * that these apps have no database. The error line, the app's own frame and
 * everything else must be identical.
 */
function readable(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => !l.includes('cvd-activity: no database configured'));
  const blank = lines.indexOf('');
  const excerpt = /^\S.*:\d+$/.test(lines[0] ?? '') && blank > 0 ? blank + 1 : 0;
  return lines.slice(excerpt).filter((l) => !/^\s+at .*(node_modules|dist\/|node:)/.test(l)).join('\n');
}

describe('instrumentation: spans survive every way a process ends', function () {
  this.timeout(60000);
  const receiver = new OtlpReceiver();
  const apps: ChildApp[] = [];
  // No export by timer during the test: only the exit path can deliver the spans.
  const env = { OTEL_BSP_SCHEDULE_DELAY: '600000' };

  async function launch(mode: string, register: 'require' | 'none' = 'require', extra: NodeJS.ProcessEnv = {}): Promise<ChildApp> {
    const app = await startChildApp('exit-app.js', register, { ...env, FIXTURE_EXIT: mode, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, ...extra });
    apps.push(app);
    return app;
  }

  /** Two answered requests, so three spans with the one that ends the process. */
  async function twoRequests(app: ChildApp): Promise<void> {
    for (const path of ['/api/devices/1', '/api/devices/2']) await (await fetch(`${app.base}${path}`)).text();
  }

  before(() => receiver.start());
  beforeEach(() => receiver.reset());
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.stop()));
  });
  after(() => receiver.stop());

  for (const mode of ['sigterm-close', 'sigterm-exit']) {
    it(`exports 3 of 3 buffered spans when the app's SIGTERM handler ends it (${mode})`, async () => {
      const app = await launch(mode);
      await twoRequests(app);
      await (await fetch(`${app.base}/api/devices/3`)).text();
      app.proc.kill('SIGTERM');
      expect(await app.exited).to.deep.equal({ code: 0, signal: null });
      expect(receiver.serverSpans().map((s) => s.attributes['url.path']).sort()).to.deep.equal(['/api/devices/1', '/api/devices/2', '/api/devices/3']);
    });
  }

  it('exports 3 of 3 when process.exit(3) is called in a handler, the open request as aborted, with the exit code kept', async () => {
    const app = await launch('exit-anywhere');
    await twoRequests(app);
    await fetch(`${app.base}/api/exit`).catch(() => undefined);
    expect(await app.exited).to.deep.equal({ code: 3, signal: null });
    expect(receiver.serverSpans()).to.have.length(3);
    expect(receiver.serverSpans('/api/exit')[0].attributes).to.include({ 'error.type': 'aborted', 'activity.outcome': 'failure' });
  });

  it('sends the spans left at exit as OTLP protobuf, the default protocol, with the configured headers', async () => {
    const app = await launch('exit-anywhere', 'require', { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: undefined, OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=cvd%20ops' });
    await twoRequests(app);
    await fetch(`${app.base}/api/exit`).catch(() => undefined);
    expect((await app.exited).code).to.equal(3);
    expect(receiver.contentTypes).to.deep.equal(['application/x-protobuf']);
    expect(receiver.headers[0]?.['x-tenant']).to.equal('cvd ops');
    const bytes = receiver.allBytes();
    for (const path of ['/api/devices/1', '/api/devices/2', '/api/exit']) expect(bytes).to.include(path);
  });

  for (const [mode, path, errorType] of [['throw', '/api/crash', 'TypeError'], ['reject', '/api/reject', 'RangeError']] as const) {
    it(`exports 3 of 3 on ${mode === 'throw' ? 'an uncaught exception' : 'an unhandled rejection'}, the failing request with error.type, and ends as Node would`, async () => {
      const plain = await launch(mode, 'none');
      await twoRequests(plain);
      await fetch(`${plain.base}${path}`).catch(() => undefined);
      const plainEnd = await plain.exited;

      const app = await launch(mode);
      await twoRequests(app);
      await fetch(`${app.base}${path}`).catch(() => undefined);
      expect(await app.exited).to.deep.equal(plainEnd);
      expect(plainEnd.code).to.equal(1);
      expect(readable(app.stderr())).to.equal(readable(plain.stderr()));
      expect(receiver.serverSpans()).to.have.length(3);
      const failing = receiver.serverSpans(path)[0];
      expect(failing.attributes).to.include({ 'error.type': errorType, 'activity.outcome': 'failure' });
      expect(failing.statusCode).to.equal(2);
    });
  }
});
