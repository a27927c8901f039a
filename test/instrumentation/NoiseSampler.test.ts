// The sampler takes a request's noise decision from the attributes its own
// server span starts with (set by startIncomingSpanHook), not from a value
// another call left behind: a decision of one request never decides another
// request's span, whatever order the hooks and the sampler run in.
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace';
import { expect } from 'chai';
import { defaultConfig } from '../../src/config/defaults';
import { ActivitySpanProcessor } from '../../src/instrumentation/ActivitySpanProcessor';
import { ClientAddress } from '../../src/instrumentation/ClientAddress';
import { createHttpInstrumentation } from '../../src/instrumentation/httpInstrumentation';
import { NoiseRules } from '../../src/instrumentation/NoiseRules';
import { NoiseSampler } from '../../src/instrumentation/NoiseSampler';
import { QueryRedactor } from '../../src/instrumentation/QueryRedactor';
import { installRequestPatches } from '../../src/instrumentation/requestState';

const HIGH_TRACE = `${'0'.repeat(24)}ffffffff`; // sampled out at any ratio below 1

describe('instrumentation/NoiseSampler', () => {
  // A code rule samples requests that say they poll; the configured path lists know nothing of them.
  const noise = new NoiseRules(defaultConfig({}).noise, [{ name: 'pollers', decide: (r) => (r.headers['x-poll'] ? 'sample' : undefined) }]);
  const sampler = new NoiseSampler(noise, 0.5);
  const redactor = new QueryRedactor([]);
  const instrumentation = createHttpInstrumentation({ redactor, processor: new ActivitySpanProcessor(redactor), trustsProxies: false });
  instrumentation.disable(); // only its hooks are used here
  const startHook = instrumentation.getConfig().startIncomingSpanHook!;
  const received = new Map<string, IncomingMessage>();
  let server: http.Server;
  let base: string;

  before(async () => {
    installRequestPatches({ clientAddress: new ClientAddress(0), noise });
    server = http.createServer((req, res) => {
      received.set(req.url!, req);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    installRequestPatches(null);
    await new Promise((resolve) => server.close(resolve));
  });

  const serverSpan = (attributes: Attributes) => sampler.shouldSample(ROOT_CONTEXT, HIGH_TRACE, 'GET', SpanKind.SERVER, attributes, []).decision;

  it('decides each server span from its own start attributes, in any call order', async () => {
    await fetch(`${base}/poll`, { headers: { 'x-poll': '1' } });
    await fetch(`${base}/orders`);
    const poll = startHook(received.get('/poll')!);
    const orders = startHook(received.get('/orders')!);
    expect(poll).to.have.property('activity.noise', 'sampled');
    // The polling request's hook ran last: its decision must not reach the orders span.
    startHook(received.get('/poll')!);
    expect(serverSpan(orders)).to.equal(SamplingDecision.RECORD_AND_SAMPLED);
    expect(serverSpan(poll)).to.equal(SamplingDecision.NOT_RECORD);
    expect(serverSpan(poll)).to.equal(SamplingDecision.NOT_RECORD); // and again: nothing was consumed
  });

  it('without our hook (a server span from elsewhere), the configured paths decide', () => {
    expect(serverSpan({ 'url.path': '/api/admin/activity/alerts', 'http.request.method': 'GET' })).to.equal(SamplingDecision.NOT_RECORD);
    expect(serverSpan({ 'url.path': '/api/orders', 'http.request.method': 'GET' })).to.equal(SamplingDecision.RECORD_AND_SAMPLED);
  });
});
