// X-Forwarded-For is believed only as far as trustProxy says: checked in
// real child-process apps (span and request context) and in unit tests.
import { expect } from 'chai';
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClientAddress } from '../../src/instrumentation/ClientAddress';
import { startChildApp } from '../support/childApp';
import { OtlpReceiver } from '../support/otlpReceiver';

function fakeRequest(peer: string, headers: Record<string, string> = {}): IncomingMessage {
  return { socket: { remoteAddress: peer }, headers } as unknown as IncomingMessage;
}

describe('instrumentation/ClientAddress', () => {
  const xff = { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' };

  it('ignores forwarding headers by default', () => {
    expect(new ClientAddress(false).resolve(fakeRequest('::ffff:10.1.1.1', xff))).to.equal('10.1.1.1');
  });

  it('trusts the nearest N hops', () => {
    expect(new ClientAddress(1).resolve(fakeRequest('10.1.1.1', xff))).to.equal('198.51.100.7');
    expect(new ClientAddress(2).resolve(fakeRequest('10.1.1.1', xff))).to.equal('203.0.113.9');
    expect(new ClientAddress(9).resolve(fakeRequest('10.1.1.1', xff))).to.equal('203.0.113.9');
    expect(new ClientAddress(1).resolve(fakeRequest('10.1.1.1'))).to.equal('10.1.1.1');
  });

  it('walks back through trusted CIDRs only', () => {
    const trust = new ClientAddress(['10.0.0.0/8', '198.51.100.0/24']);
    expect(trust.resolve(fakeRequest('10.1.1.1', xff))).to.equal('203.0.113.9');
    // The peer is not a trusted proxy: its header is a claim, not evidence.
    expect(trust.resolve(fakeRequest('192.0.2.1', xff))).to.equal('192.0.2.1');
    // A forged left part beyond an untrusted hop is never reached.
    expect(trust.resolve(fakeRequest('10.1.1.1', { 'x-forwarded-for': '1.1.1.1, 192.0.2.50, 198.51.100.7' }))).to.equal('192.0.2.50');
  });

  it('reads RFC 7239 Forwarded with quotes, brackets and ports', () => {
    const req = fakeRequest('10.1.1.1', { forwarded: 'for="[2001:db8::1]:4711";proto=https, for=198.51.100.7:80' });
    expect(new ClientAddress(2, 'forwarded').resolve(req)).to.equal('2001:db8::1');
    expect(new ClientAddress(['10.1.1.1'], 'forwarded').resolve(req)).to.equal('198.51.100.7');
  });

  it('reads only the configured header, never whichever is present (finding 2)', () => {
    const both = fakeRequest('10.1.1.1', { forwarded: 'for=6.6.6.6', 'x-forwarded-for': '203.0.113.9' });
    expect(new ClientAddress(1).resolve(both)).to.equal('203.0.113.9');
    expect(new ClientAddress(1, 'forwarded').resolve(fakeRequest('10.1.1.1', { 'x-forwarded-for': '6.6.6.6' }))).to.equal('10.1.1.1');
  });

  it('never returns a non-address from a header', () => {
    expect(new ClientAddress(1).resolve(fakeRequest('10.1.1.1', { 'x-forwarded-for': 'evil<script>' }))).to.equal('10.1.1.1');
  });
});

describe('instrumentation: client.address in real apps', function () {
  this.timeout(60000);
  const receiver = new OtlpReceiver();
  before(() => receiver.start());
  after(() => receiver.stop());

  const cases: { name: string; trust: string | undefined; expected: string }[] = [
    { name: 'ignored when no proxy is trusted', trust: undefined, expected: '127.0.0.1' },
    { name: 'honoured by hop count', trust: '1', expected: '198.51.100.7' },
    { name: 'honoured by CIDR', trust: '127.0.0.0/8,198.51.100.0/24', expected: '203.0.113.9' },
  ];
  for (const { name, trust, expected } of cases) {
    it(`X-Forwarded-For is ${name}`, async () => {
      const app = await startChildApp('cjs-app.js', 'require', {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: `xff-${name}`,
        ...(trust === undefined ? {} : { CVD_ACTIVITY_TRUST_PROXY: trust }),
      });
      try {
        const headers = { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' };
        // A dropped request still carries the address in its request context (for audit events).
        const ctx = (await (await fetch(`${app.base}/healthz`, { headers })).json()) as { clientAddress: string };
        expect(ctx.clientAddress).to.equal(expected);
        await (await fetch(`${app.base}/api/devices`, { headers })).text();
        const mine = () => receiver.serverSpans('/api/devices').filter((s) => s.resource['service.name'] === `xff-${name}`);
        await receiver.waitFor('the span', () => mine().length === 1);
        const attributes = mine()[0].attributes;
        expect(attributes['client.address']).to.equal(expected);
        // The socket peer (the proxy) is sent only when it can differ from client.address.
        if (trust === undefined) expect(attributes).to.not.have.property('network.peer.address');
        else expect(attributes['network.peer.address']).to.equal('127.0.0.1');
        for (const key of ['network.peer.port', 'network.protocol.version', 'server.port']) expect(attributes).to.not.have.property(key);
      } finally {
        await app.stop();
      }
    });
  }
});

/** A reverse proxy as nginx's `proxy_add_x_forwarded_for` sets it up: appends the peer to XFF, passes every other header through. */
async function startXffProxy(target: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const xff = req.headers['x-forwarded-for'];
    const headers = { ...req.headers, 'x-forwarded-for': `${xff ? `${xff}, ` : ''}${req.socket.remoteAddress}` };
    const upstream = request(`${target}${req.url}`, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('instrumentation: a client behind a trusted proxy cannot choose its address (finding 2)', function () {
  this.timeout(60000);
  const receiver = new OtlpReceiver();
  before(() => receiver.start());
  after(() => receiver.stop());

  it('ignores a client-sent Forwarded header that an XFF-appending proxy passes through', async () => {
    const app = await startChildApp('cjs-app.js', 'require', {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'proxied', CVD_ACTIVITY_TRUST_PROXY: '1',
    });
    const proxy = await startXffProxy(app.base);
    try {
      const headers = { forwarded: 'for=6.6.6.6' };
      const ctx = (await (await fetch(`${proxy.url}/healthz`, { headers })).json()) as { clientAddress: string };
      expect(ctx.clientAddress).to.equal('127.0.0.1');
      await (await fetch(`${proxy.url}/api/devices`, { headers })).text();
      const mine = () => receiver.serverSpans('/api/devices').filter((s) => s.resource['service.name'] === 'proxied');
      await receiver.waitFor('the span', () => mine().length === 1);
      expect(mine()[0].attributes['client.address']).to.equal('127.0.0.1');
    } finally {
      proxy.server.close();
      await app.stop();
    }
  });
});
