// Real HTTP servers in child processes under `--require dist/register.js`,
// exporting to an OTLP/HTTP receiver in this process.
import { expect } from 'chai';
import { request as httpRequest } from 'node:http';
import { startChildApp } from '../support/childApp';
import type { ChildApp } from '../support/childApp';
import { OtlpReceiver } from '../support/otlpReceiver';
import type { ReceivedSpan } from '../support/otlpReceiver';

const SECRETS = ['Bearer-SECRET-TOKEN-1', 'COOKIE-SECRET-2', 'PROXY-SECRET-3', 'QUERY-PASSWORD-4', 'QUERY-TOKEN-5', 'SETCOOKIE-SECRET-6'];

describe('instrumentation: http spans of a CommonJS app under --require', function () {
  this.timeout(60000);
  const receiver = new OtlpReceiver();
  let app: ChildApp;

  before(async () => {
    await receiver.start();
    app = await startChildApp('cjs-app.js', 'require', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'cjs-fixture' });
  });
  after(async () => {
    await app?.stop();
    await receiver.stop();
  });

  async function get(path: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(`${app.base}${path}`, init);
    await res.arrayBuffer();
    return res;
  }
  async function spanFor(path: string): Promise<ReceivedSpan> {
    await receiver.waitFor(`a span for ${path}`, () => receiver.serverSpans(path).length > 0);
    return receiver.serverSpans(path)[0];
  }

  it('records method, path, status, body size, outcome, activity type, user and client address', async () => {
    const res = await get('/api/devices', { headers: { 'x-user': 'u-17' } });
    const expectedBytes = Number(res.headers.get('content-length'));
    const span = await spanFor('/api/devices');
    expect(span.resource['service.name']).to.equal('cjs-fixture');
    expect(span.attributes).to.include({
      'http.request.method': 'GET',
      'url.path': '/api/devices',
      'http.response.status_code': 200,
      'http.response.body.size': expectedBytes,
      'activity.outcome': 'success',
      'activity.type': 'api_call',
      'user.id': 'u-17',
      'session.id': 'sess-42',
      'client.address': '127.0.0.1',
    });
    expect(expectedBytes).to.be.greaterThan(2000);
    expect(span.attributes['user.roles']).to.deep.equal(['admin', 'ops']);
    expect(span.attributes).to.not.have.property('error.type');
  });

  it('counts the bytes of chunked responses', async () => {
    const res = await fetch(`${app.base}/api/chunked`);
    const body = Buffer.from(await res.arrayBuffer());
    expect(res.headers.get('transfer-encoding')).to.equal('chunked');
    const span = await spanFor('/api/chunked');
    expect(span.attributes['http.response.body.size']).to.equal(body.length).and.equal(9);
  });

  it('does not guess http.route from req.route and req.baseUrl (baseUrl holds values): no template, no route', async () => {
    await get('/api/devices/7');
    const span = await spanFor('/api/devices/7');
    expect(span.attributes).to.not.have.property('http.route');
    expect(span.name).to.equal('GET');
  });

  it('takes http.route from setRoute() in an app without a framework router', async () => {
    await get('/api/orders/31');
    await get('/api/orders/32');
    const own = await spanFor('/api/orders/31');
    expect(own.attributes['http.route']).to.equal('/api/orders/:id');
    expect(own.name).to.equal('GET /api/orders/:id');
    const both = await spanFor('/api/orders/32');
    expect(both.attributes['http.route']).to.equal('/api/orders/:orderId');
    const plain = await spanFor('/api/devices');
    expect(plain.attributes).to.not.have.property('http.route');
  });

  it('sets error.type to the app code, else the status, and the outcome to failure', async () => {
    await get('/api/locked');
    await get('/api/broken');
    await get('/nope');
    expect((await spanFor('/api/locked')).attributes).to.include({ 'error.type': 'DEVICE_LOCKED', 'activity.outcome': 'failure', 'http.response.status_code': 409 });
    expect((await spanFor('/api/broken')).attributes).to.include({ 'error.type': '503', 'activity.outcome': 'failure' });
    expect((await spanFor('/nope')).attributes).to.include({ 'error.type': '404', 'activity.outcome': 'failure' });
  });

  it('classifies page views, file downloads, logins and logouts', async () => {
    await get('/page');
    await get('/api/export');
    await get('/login', { method: 'POST' });
    await get('/logout', { method: 'POST' });
    expect((await spanFor('/page')).attributes['activity.type']).to.equal('page_view');
    expect((await spanFor('/api/export')).attributes['activity.type']).to.equal('file_download');
    expect((await spanFor('/login')).attributes['activity.type']).to.equal('login');
    expect((await spanFor('/logout')).attributes['activity.type']).to.equal('logout');
  });

  it('counts only a successful HTML response as a page view', async () => {
    await get('/api/html-404');
    const span = await spanFor('/api/html-404');
    expect(span.attributes).to.include({ 'activity.type': 'api_call', 'error.type': '404', 'activity.outcome': 'failure' });
  });

  it('reports a response the client aborted (a closed SSE stream) as a failure with error.type aborted', async () => {
    const controller = new AbortController();
    const res = await fetch(`${app.base}/api/events`, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    const span = await spanFor('/api/events');
    expect(span.attributes).to.include({ 'http.response.status_code': 200, 'error.type': 'aborted', 'activity.outcome': 'failure' });
  });

  it('creates no span for health checks and static files, yet opens the request context for them', async () => {
    const dropped = ['/healthz', '/api/health', '/metrics', '/static/app.js', '/assets/x.css', '/favicon.ico', '/img/logo.PNG', '/sw-probe'];
    for (const path of dropped) {
      const res = await fetch(`${app.base}${path}`, { headers: path === '/sw-probe' ? { 'service-worker': 'script' } : {} });
      expect(((await res.json()) as { clientAddress: string }).clientAddress, path).to.equal('127.0.0.1');
    }
    await get('/api/devices?marker=after-dropped');
    await receiver.waitFor('the marker span', () => receiver.serverSpans('/api/devices').some((s) => s.attributes['url.query'] === 'marker=after-dropped'));
    for (const path of dropped) expect(receiver.serverSpans(path), path).to.have.length(0);
  });

  it('exports no secret header or query value, anywhere', async () => {
    await get('/api/devices?password=QUERY-PASSWORD-4&page=2&access_token=QUERY-TOKEN-5', {
      headers: { authorization: 'Bearer Bearer-SECRET-TOKEN-1', cookie: 'sid=COOKIE-SECRET-2', 'proxy-authorization': 'Basic PROXY-SECRET-3' },
    });
    await get('/api/outgoing');
    await receiver.waitFor('the client span', () => receiver.spans.some((s) => s.kind === 3));
    const span = receiver.serverSpans('/api/devices').find((s) => String(s.attributes['url.query']).includes('page=2'))!;
    expect(span.attributes['url.query']).to.equal('password=REDACTED&page=2&access_token=REDACTED');
    const client = receiver.spans.find((s) => s.kind === 3)!;
    expect(client.attributes['url.full']).to.match(/\/api\/devices\?api_key=REDACTED&page=3$/);
    const bytes = receiver.allBytes();
    for (const secret of [...SECRETS, 'OUTGOING-SECRET-KEY']) expect(bytes, secret).to.not.include(secret);
  });

  it('keeps the request context (user, client address) in body listeners that run after the handler returned', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(`${app.base}/api/body-context?call=1`, {
        method: 'POST', headers: { 'x-user': 'u-body', 'content-type': 'text/plain', 'transfer-encoding': 'chunked' },
      }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.write('first part;');
      // The second chunk reaches the server well after the handler returned.
      setTimeout(() => req.end('second part'), 150);
    });
    expect(JSON.parse(body)).to.deep.equal({ size: 22, clientAddress: '127.0.0.1', user: 'u-body' });
    const server = await spanFor('/api/body-context');
    expect(server.attributes).to.include({ 'user.id': 'u-body', 'http.request.method': 'POST' });
    // The trace context also survives into the body listener: its outgoing call is a child of this request.
    const inner = () => receiver.serverSpans('/api/devices').find((s) => s.attributes['url.query'] === 'from=body-listener');
    await receiver.waitFor('the inner span', () => inner() !== undefined);
    expect(inner()!.traceId).to.equal(server.traceId);
    expect(receiver.spans.some((s) => s.kind === 3 && s.traceId === server.traceId)).to.equal(true);
  });

  it('decides by its own rules under a remote parent: a client\'s traceparent neither hides its request nor forces a polling request in', async () => {
    const parent = '1f0ba1f5c0ffee00';
    // Flag 00 ("not sampled"): the request is still recorded, in the caller's trace.
    const hidden = '4bf92f3577b34da6a3ce929d0e0e4736';
    await get('/api/devices?marker=remote-not-sampled', { headers: { traceparent: `00-${hidden}-${parent}-00` } });
    // Flag 01 on a sampled polling path, with a trace id whose low 32 bits lie above the 0.1 threshold: not recorded.
    const forced = '0af7651916cd43dd8448eb21ffffffff';
    await get('/api/admin/activity/alerts?marker=remote-sampled', { headers: { traceparent: `00-${forced}-${parent}-01` } });
    await get('/api/devices?marker=after-remote');
    await receiver.waitFor('the marker span', () => receiver.serverSpans('/api/devices').some((s) => s.attributes['url.query'] === 'marker=after-remote'));
    const kept = receiver.serverSpans('/api/devices').find((s) => s.attributes['url.query'] === 'marker=remote-not-sampled');
    expect(kept, 'span of the request sent with a not-sampled traceparent').to.not.equal(undefined);
    expect(kept!.traceId).to.equal(hidden);
    expect(kept!.parentSpanId).to.equal(parent);
    expect(receiver.serverSpans('/api/admin/activity/alerts').some((s) => s.traceId === forced)).to.equal(false);
  });

  it('samples polling endpoints near the configured ratio (0.1)', async () => {
    const n = 400;
    for (let i = 0; i < n; i += 20) {
      await Promise.all(Array.from({ length: 20 }, () => get('/api/admin/activity/alerts')));
    }
    await get('/api/devices?marker=after-polling');
    await receiver.waitFor('the marker span', () => receiver.serverSpans('/api/devices').some((s) => s.attributes['url.query'] === 'marker=after-polling'));
    const sampled = receiver.serverSpans('/api/admin/activity/alerts').length;
    // Binomial(400, 0.1): mean 40, sd 6; [10, 80] is beyond 5 sd on each side.
    expect(sampled).to.be.within(10, 80);
  });
});
