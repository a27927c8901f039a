/**
 * Security finding 3: secrets the Collector's redaction missed. One span
 * carrying every secret name the review found is sent through the real
 * Collector running collector-config/otelcol.yaml; nothing of any secret
 * value may reach the file sink (the stand-in for Tempo), while names stay.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { pollUntil, readSinkSpans, requireCollector, startSamplingPipeline, tempDir, type RunningCollector } from '../support/collector';
import { rawSink } from './traffic';

const QUERY_NAMES = ['client_secret', 'auth_token', 'accessToken', 'x_api_key', 'private_key', 'jwt'];

const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

describe('collector redaction of every secret name in the review (otelcol.yaml, real Collector)', function () {
  this.timeout(120_000);
  let collectors: RunningCollector[] = [];
  let dir: ReturnType<typeof tempDir>;
  const secret = (name: string) => `S3CRET${name.replace(/[^A-Za-z]/g, '')}${randomBytes(4).toString('hex')}`;
  const secrets: Record<string, string> = {};
  for (const name of [...QUERY_NAMES, 'x-auth-token', 'x-csrf-token', 'bearer', 'url-password', 'session.id', 'json-secret']) secrets[name] = secret(name);
  const query = QUERY_NAMES.map((n) => `${n}=${secrets[n]}`).join('&');

  before(async function () {
    const bin = requireCollector(this);
    dir = tempDir('cvd-otelcol-redact-');
    const pipeline = await startSamplingPipeline(bin, dir.path);
    collectors = pipeline.collectors;
    const traceId = randomBytes(16).toString('hex');
    const now = BigInt(Date.now()) * 1_000_000n;
    const body = {
      resourceSpans: [{
        resource: { attributes: [str('service.name', 'redact-test'), str('db.connection', `postgres://app:${secrets['url-password']}@db:5432/app`)] },
        scopeSpans: [{
          spans: [{
            traceId, spanId: randomBytes(8).toString('hex'), name: `GET /api/export?${query}`, kind: 2,
            startTimeUnixNano: String(now), endTimeUnixNano: String(now + 1_000_000n), status: { code: 2 },
            attributes: [
              str('url.query', `page=2&${query}`), str('url.full', `http://api.local/api/export?page=2&${query}`),
              str('http.request.header.x-auth-token', secrets['x-auth-token']!),
              str('http.request.header.x-csrf-token', secrets['x-csrf-token']!),
              str('session.id', secrets['session.id']!),
            ],
            events: [{
              name: 'audit', timeUnixNano: String(now),
              attributes: [str('audit.action', 'CONFIG_CHANGE'), str('audit.details',
                JSON.stringify({ headers: { authorization: `Bearer ${secrets.bearer}` }, client_secret: secrets['json-secret'], keep: 'visible' }))],
            }],
          }],
        }],
      }],
    };
    const res = await fetch(`http://${pipeline.otlpHttp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).to.equal(200);
    await pollUntil('the span at the sink', async () => readSinkSpans(pipeline.sinkFile).some((s) => s.traceId === traceId) || undefined, 60_000, 250);
  });

  after(async () => {
    for (const c of collectors.reverse()) await c.stop();
    dir?.remove();
  });

  it('lets no secret value through, in attributes, span name, events or resource', () => {
    const raw = rawSink([`${dir.path}/tempo.jsonl`]);
    for (const [name, value] of Object.entries(secrets)) expect(raw.includes(value), `${name} reached the backend`).to.equal(false);
    expect(raw).to.not.match(/S3CRET/);
  });

  it('keeps the names and what is not secret', () => {
    const [span] = readSinkSpans(`${dir.path}/tempo.jsonl`);
    expect(span!.attributes['url.query']).to.equal(`page=2&${QUERY_NAMES.map((n) => `${n}=REDACTED`).join('&')}`);
    expect(span!.name).to.include('client_secret=REDACTED');
    const details = JSON.parse(String(span!.events[0]!.attributes['audit.details'])) as Record<string, unknown>;
    expect(details).to.deep.include({ keep: 'visible', client_secret: 'REDACTED' });
  });
});
