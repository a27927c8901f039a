// The demo API's own behaviour over HTTP (in-process, uninstrumented): auth,
// roles, input errors, downloads, static files. What it records is checked
// end to end in demo.test.ts.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import { createDemoServer } from '../../src/demo/server';
import { assertLoopback } from '../../src/demo/client';
// The demo imports the public package ('cvd-activity', i.e. dist/): its recorder is installed there.
import { installAuditSink, resetAuditForTests } from '../../dist/audit/audit';
import { MemoryAuditSink } from '../../dist/audit/MemoryAuditSink';
import { testAuditConfig } from '../support/audit';

describe('demo API', () => {
  let server: Server;
  let base: string;
  const tokens: Record<string, string> = {};

  async function call(method: string, path: string, opts: { as?: string; json?: unknown; text?: string } = {}) {
    const headers: Record<string, string> = {};
    if (opts.as) headers.authorization = `Bearer ${tokens[opts.as]}`;
    if (opts.json !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, body: opts.json !== undefined ? JSON.stringify(opts.json) : opts.text });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : null };
  }

  before(async () => {
    // The handlers record audit events, which needs a started recorder (here an in-memory one).
    installAuditSink(new MemoryAuditSink(), testAuditConfig());
    server = createDemoServer(7);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const user of ['alice', 'victor', 'dan']) {
      const res = await call('POST', '/api/auth/login', { json: { username: user, password: `${user}-demo` } });
      expect(res.status).to.equal(200);
      tokens[user] = res.json.token;
    }
  });
  after(async () => {
    await new Promise<void>((done) => server.close(() => done()));
    resetAuditForTests();
  });

  it('refuses a wrong password with 401 and a request without a token with 401', async () => {
    const wrong = await call('POST', '/api/auth/login', { json: { username: 'alice', password: 'nope' } });
    expect(wrong.status).to.equal(401);
    expect(wrong.json.error).to.equal('INVALID_CREDENTIALS');
    const anonymous = await call('GET', '/api/devices');
    expect(anonymous.status).to.equal(401);
    expect(anonymous.json.error).to.equal('AUTH_REQUIRED');
  });

  it('enforces roles: a viewer may read but not change prices', async () => {
    expect((await call('GET', '/api/devices/dev-0001', { as: 'victor' })).status).to.equal(200);
    const refused = await call('PUT', '/api/products/prd-0001/price', { as: 'victor', json: { priceCents: 1 } });
    expect(refused.status).to.equal(403);
    expect((await call('GET', '/api/products', { as: 'alice' })).json[0].priceCents).to.not.equal(1);
  });

  it('answers bad input with 400/404/409/422 naming what is wrong', async () => {
    const price = await call('PUT', '/api/products/prd-0001/price', { as: 'alice', json: { priceCents: 'cheap' } });
    expect(price.status).to.equal(400);
    expect(price.json.message).to.match(/priceCents.*"cheap"/);
    expect((await call('PUT', '/api/products/prd-9999/price', { as: 'alice', json: { priceCents: 100 } })).json.message).to.equal('product prd-9999 not found');
    const order = await call('POST', '/api/service-orders', { as: 'alice', json: { deviceId: 'dev-0002' } });
    expect((await call('POST', `/api/service-orders/${order.json.id}/complete`, { as: 'dan', json: { durationMinutes: 5 } })).status).to.equal(409);
    const dex = await call('POST', '/api/dex?file=junk.dex', { as: 'dan', text: 'hello' });
    expect(dex.status).to.equal(422);
    expect(dex.json.message).to.match(/junk\.dex: not a DEX file/);
    expect((await call('GET', '/api/nowhere', { as: 'alice' })).status).to.equal(404);
  });

  it('serves exports as attachments with one line per record', async () => {
    const csv = await call('GET', '/api/reports/sales/export?format=csv&from=2026-11-01&to=2026-11-02', { as: 'alice' });
    expect(csv.status).to.equal(200);
    expect(csv.headers.get('content-disposition')).to.match(/^attachment; filename="sales-2026-11-01-2026-11-02\.csv"/);
    expect(csv.text.trim().split('\n')).to.have.length(1 + 2 * 180);
    const pdf = await call('GET', '/api/reports/sales/export?format=pdf', { as: 'alice' });
    expect(pdf.headers.get('content-type')).to.equal('application/pdf');
    expect(pdf.text.startsWith('%PDF-')).to.equal(true);
  });

  it('serves health, the page and static files without a token', async () => {
    expect((await call('GET', '/health')).json.status).to.equal('ok');
    expect((await call('GET', '/')).headers.get('content-type')).to.match(/text\/html/);
    expect((await call('GET', '/static/app.js')).status).to.equal(200);
  });

  it('the simulator talks to loopback only', () => {
    expect(() => assertLoopback('http://127.0.0.1:3000')).to.not.throw();
    expect(() => assertLoopback('http://example.com')).to.throw(/loopback/);
    expect(() => assertLoopback('https://localhost:3000')).to.throw(/http:\/\//);
  });
});
