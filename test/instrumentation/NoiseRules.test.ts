import { expect } from 'chai';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { defaultConfig } from '../../src/config/defaults';
import { NoiseRules } from '../../src/instrumentation/NoiseRules';
import { QueryRedactor } from '../../src/instrumentation/QueryRedactor';
import { Redactor } from '../../src/audit/redact';

describe('instrumentation/NoiseRules', () => {
  const noise = new NoiseRules(defaultConfig({}).noise);

  it('drops health checks, metrics, static folders, asset extensions and favicon', () => {
    for (const path of ['/health', '/healthz', '/readyz', '/livez', '/metrics', '/api/health', '/static/a/b.txt', '/assets/x', '/app.JS', '/x/y.woff2', '/favicon.ico']) {
      expect(noise.classify('GET', path, {}), path).to.equal('drop');
    }
  });

  it('drops service-worker fetches only', () => {
    expect(noise.classify('GET', '/sw', { 'service-worker': 'script' })).to.equal('drop');
    expect(noise.classify('GET', '/sw', { 'sec-fetch-dest': 'serviceworker' })).to.equal('drop');
    expect(noise.classify('GET', '/sw', { 'sec-fetch-dest': 'document' })).to.equal('keep');
  });

  it('samples polling reads but never writes, and supports prefix patterns', () => {
    expect(noise.classify('GET', '/api/admin/activity/alerts', {})).to.equal('sample');
    expect(noise.classify('POST', '/api/admin/activity/alerts', {})).to.equal('keep');
    const custom = new NoiseRules({ ...defaultConfig({}).noise, sampledPaths: ['/api/poll/*'] });
    expect(custom.classify('GET', '/api/poll/status', {})).to.equal('sample');
    expect(custom.classify('GET', '/api/polling', {})).to.equal('keep');
  });

  it('keeps API calls, including paths that only look like assets', () => {
    for (const path of ['/api/devices', '/api/devices/12', '/api/v1.2/devices', '/healthzz', '/static']) {
      expect(noise.classify('GET', path, {}), path).to.equal('keep');
    }
  });

  it('lets user rules decide first, and skips a throwing rule, reporting it once through diag', () => {
    const errors: string[] = [];
    diag.setLogger({ error: (m: string) => errors.push(m), warn() {}, info() {}, debug() {}, verbose() {} }, DiagLogLevel.ERROR);
    try {
      const rules = new NoiseRules(defaultConfig({}).noise, [
        { name: 'broken', decide: () => { throw new Error('boom'); } },
        { name: 'internal', decide: (r) => (r.path.startsWith('/internal/') ? 'drop' : undefined) },
      ]);
      expect(rules.classify('GET', '/internal/x', {})).to.equal('drop');
      expect(rules.classify('GET', '/api/devices', {})).to.equal('keep');
      expect(rules.classify('GET', '/healthz', {})).to.equal('drop');
      expect(errors.filter((m) => m.includes('"broken"'))).to.have.length(1);
    } finally {
      diag.disable();
    }
  });
});

describe('instrumentation/QueryRedactor', () => {
  const redactor = new QueryRedactor(defaultConfig({}).redaction.queryParams);

  it('masks sensitive names case-insensitively, by fragment, and keeps the rest byte for byte', () => {
    expect(redactor.redactQuery('Password=a&page=2&X-Amz-Signature=s&q=caf%C3%A9&access_token=t&apiKey=k'))
      .to.equal('Password=REDACTED&page=2&X-Amz-Signature=REDACTED&q=caf%C3%A9&access_token=REDACTED&apiKey=REDACTED');
    expect(redactor.redactQuery('sessionId=1&oauth_code=2&credentials=3&passwd=4&client_secret=5'))
      .to.equal('sessionId=REDACTED&oauth_code=REDACTED&credentials=REDACTED&passwd=REDACTED&client_secret=REDACTED');
    expect(redactor.redactQuery('%74oken=encoded-name')).to.equal('%74oken=REDACTED');
  });

  it('matches names as detail redaction does, ignoring separators: a configured api_key masks apiKey and api-key', () => {
    const apiKeyOnly = new QueryRedactor(['api_key']);
    expect(apiKeyOnly.redactQuery('apiKey=1&api-key=2&API_KEY=3&page=4')).to.equal('apiKey=REDACTED&api-key=REDACTED&API_KEY=REDACTED&page=4');
    const detail = new Redactor(['api_key']);
    for (const name of ['apiKey', 'api-key', 'API_KEY', 'page']) expect(apiKeyOnly.isSensitive(name), name).to.equal(detail.isSecret(name));
  });

  it('redacts full URLs, including token fragments', () => {
    expect(redactor.redactUrl('https://h/p?token=1&a=b#access_token=2')).to.equal('https://h/p?token=REDACTED&a=b#access_token=REDACTED');
    expect(redactor.redactUrl('https://h/p')).to.equal('https://h/p');
  });
});
