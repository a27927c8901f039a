import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/ConfigError';
import { databaseConnectionConfig } from '../../src/config/database';
import { defaultConfig } from '../../src/config/defaults';
import { fallbackConfig, loadConfig } from '../../src/config/loadConfig';

function failure(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('config/loadConfig', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cvd-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('returns the defaults, with the spool folder resolved against cwd', () => {
    const config = loadConfig({}, { env: {}, cwd: '/srv/app' });
    expect(config.noise.sampleRatio).to.equal(0.1);
    expect(config.noise.dropPaths).to.include('/healthz');
    expect(config.pipeline.spoolDir).to.equal('/srv/app/.cvd-activity/spool');
    expect(config.audit.strict).to.equal(false);
    expect(config.otlpTracesEndpoint).to.equal('http://localhost:4318/v1/traces');
    expect(loadConfig({}, { env: { NODE_ENV: 'test' } }).audit.strict).to.equal(true);
  });

  it('reads retention.archiveDir from CVD_ACTIVITY_ARCHIVE_DIR, resolved against cwd; null by default', () => {
    expect(loadConfig({}, { env: {}, cwd: '/srv/app' }).retention.archiveDir).to.equal(null);
    expect(loadConfig({}, { env: { CVD_ACTIVITY_ARCHIVE_DIR: 'var/archive' }, cwd: '/srv/app' }).retention.archiveDir).to.equal('/srv/app/var/archive');
    expect(() => loadConfig({ retention: { archiveDir: '' } }, { env: {} })).to.throw(/retention .*archiveDir/);
  });

  it('merges file < CVD_ACTIVITY_* < OTEL_* < start() options', () => {
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ serviceName: 'from-file', noise: { sampleRatio: 0.5 }, batch: undefined, shutdownTimeoutMs: 100 }));
    const env = {
      CVD_ACTIVITY_CONFIG: file,
      CVD_ACTIVITY_NOISE_SAMPLE_RATIO: '0.25',
      CVD_ACTIVITY_TRUST_PROXY: '10.0.0.0/8, 192.168.1.1',
      OTEL_SERVICE_NAME: 'from-env',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,team=a%20b',
    };
    const config = loadConfig({ shutdownTimeoutMs: 200, noise: { dropServiceWorker: false } }, { env });
    expect(config.serviceName).to.equal('from-env');
    expect(config.noise.sampleRatio).to.equal(0.25);
    expect(config.noise.dropServiceWorker).to.equal(false);
    expect(config.noise.dropPaths).to.include('/metrics', 'a section merges key by key');
    expect(config.shutdownTimeoutMs).to.equal(200);
    expect(config.trustProxy).to.deep.equal(['10.0.0.0/8', '192.168.1.1']);
    expect(config.otlpTracesEndpoint).to.equal('http://collector:4318/v1/traces');
    expect(config.resourceAttributes).to.deep.equal({ 'deployment.environment': 'prod', team: 'a b' });
  });

  it('uses OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, and parses hop counts and booleans', () => {
    const config = loadConfig({}, {
      env: {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://x:1/custom',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
        CVD_ACTIVITY_TRUST_PROXY: '2',
        CVD_ACTIVITY_AUTO_MIGRATE: 'yes',
        OTEL_SDK_DISABLED: 'TRUE',
        OTEL_TRACES_EXPORTER: 'Console',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      },
    });
    expect(config.otlpProtocol).to.equal('http/json');
    expect(config.otlpTracesEndpoint).to.equal('http://x:1/custom');
    expect(config.trustProxy).to.equal(2);
    expect(config.database.autoMigrate).to.equal(true);
    expect(config.disabled).to.equal(true);
    expect(config.tracesExporter).to.equal('console');
  });

  it('exports metrics where traces go, unless told otherwise', () => {
    const base = loadConfig({}, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' } });
    expect(base).to.include({ metricsExporter: 'otlp', otlpMetricsEndpoint: 'http://collector:4318/v1/metrics', metricsExportIntervalMs: 60000 });
    const own = loadConfig({}, { env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m:9/x', OTEL_METRIC_EXPORT_INTERVAL: '1500' } });
    expect(own).to.include({ otlpMetricsEndpoint: 'http://m:9/x', metricsExportIntervalMs: 1500 });
    // No OTLP traces: no OTLP metrics either, unless asked for.
    expect(loadConfig({}, { env: { OTEL_TRACES_EXPORTER: 'console' } }).metricsExporter).to.equal('none');
    expect(loadConfig({}, { env: { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'OTLP' } }).metricsExporter).to.equal('otlp');
    expect(loadConfig({}, { env: { OTEL_METRICS_EXPORTER: 'none' } }).metricsExporter).to.equal('none');
    const err = failure(() => loadConfig({}, { env: { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_METRIC_EXPORT_INTERVAL: 'soon' } }));
    expect(err.message).to.include('metricsExporter (from env OTEL_METRICS_EXPORTER) is "prometheus": allowed one of otlp, none');
    expect(err.message).to.include('metricsExportIntervalMs (from env OTEL_METRIC_EXPORT_INTERVAL)');
  });

  it('reports every bad value in one line, naming key, source variable, value and what is allowed', () => {
    const err = failure(() =>
      loadConfig({ audit: { mirror: 'pigeon' as never } }, {
        env: { CVD_ACTIVITY_NOISE_SAMPLE_RATIO: 'lots', OTEL_TRACES_EXPORTER: 'zipkin', CVD_ACTIVITY_NOISE_DROP_PATHS: 'healthz' },
      }),
    );
    expect(err.message).to.not.match(/\n/);
    expect(err.problems.map((p) => p.key).sort()).to.deep.equal(['audit.mirror', 'noise.dropPaths', 'noise.sampleRatio', 'tracesExporter']);
    expect(err.message).to.include('noise.sampleRatio (from env CVD_ACTIVITY_NOISE_SAMPLE_RATIO) is "lots": allowed a number from 0 to 1');
    expect(err.message).to.include('tracesExporter (from env OTEL_TRACES_EXPORTER) is "zipkin": allowed one of otlp, console, none');
    expect(err.message).to.include('audit.mirror (from start() options) is "pigeon"');
    expect(err.message).to.include('noise.dropPaths (from env CVD_ACTIVITY_NOISE_DROP_PATHS) is ["healthz"]: allowed a list of paths starting with /');
  });

  it('names unknown keys and unreadable files', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ noise: { sampleRate: 0.2 }, trustProxy: true }));
    const err = failure(() => loadConfig({}, { env: { CVD_ACTIVITY_CONFIG: file } }));
    expect(err.message).to.include(`noise.sampleRate (from file ${file}) is 0.2: allowed no such option; known keys here:`);
    expect(err.message).to.include(`trustProxy (from file ${file}) is true: allowed false, a hop count`);
    const missing = failure(() => loadConfig({}, { env: { CVD_ACTIVITY_CONFIG: join(dir, 'nope.json') } }));
    expect(missing.message).to.include('CVD_ACTIVITY_CONFIG (from env CVD_ACTIVITY_CONFIG)').and.include('ENOENT');
  });

  it('rejects out-of-range numbers and malformed resource attributes', () => {
    const err = failure(() =>
      loadConfig({ pipeline: { batchSize: 0 } }, { env: { OTEL_RESOURCE_ATTRIBUTES: 'ok=1,broken', CVD_ACTIVITY_TRUST_PROXY: '99' } }),
    );
    expect(err.problems.map((p) => p.key).sort()).to.deep.equal(['pipeline.batchSize', 'resourceAttributes.broken', 'trustProxy']);
  });

  it('takes DATABASE_URL only when it is a Postgres URL', () => {
    expect(loadConfig({}, { env: { DATABASE_URL: 'postgres://a@b/c' } }).database.url).to.equal('postgres://a@b/c');
    expect(loadConfig({}, { env: { DATABASE_URL: 'mysql://a@b/c' } }).database.url).to.equal(null);
  });

  it('fallbackConfig() keeps the valid settings of an invalid configuration and defaults the bad ones', () => {
    const env = {
      CVD_ACTIVITY_NOISE_SAMPLE_RATIO: '2', OTEL_TRACES_EXPORTER: 'jaeger', CVD_ACTIVITY_SPOOL_DIR: 'var/spool',
      CVD_ACTIVITY_REDACT_FIELDS: 'iban,password', CVD_ACTIVITY_NOISE_SAMPLED_PATHS: '/api/poll',
    };
    failure(() => loadConfig({}, { env, cwd: '/srv/app' }));
    const config = fallbackConfig({ serviceName: 'billing', audit: { strict: 'yes' as never } }, { env, cwd: '/srv/app' });
    expect(config.pipeline.spoolDir).to.equal('/srv/app/var/spool');
    expect(config.redaction.fields).to.deep.equal(['iban', 'password']);
    expect(config.noise).to.deep.include({ sampleRatio: 0.1, sampledPaths: ['/api/poll'] });
    expect(config).to.include({ tracesExporter: 'otlp', serviceName: 'billing' });
    expect(config.audit.strict).to.equal(false);
    expect(fallbackConfig({}, { env: {}, cwd: '/srv/app' })).to.deep.equal(loadConfig({}, { env: {}, cwd: '/srv/app' }));
  });

  it('defaultConfig() is itself valid', () => {
    expect(() => loadConfig(defaultConfig({}), { env: {} })).to.not.throw();
  });
});

describe('config/databaseConnectionConfig', () => {
  it('prefers CVD_ACTIVITY_DATABASE_URL, then DATABASE_URL, then PG*', () => {
    expect(databaseConnectionConfig({ CVD_ACTIVITY_DATABASE_URL: 'postgres://a/x', DATABASE_URL: 'postgres://b/y' })).to.deep.equal({
      connectionString: 'postgres://a/x', source: 'CVD_ACTIVITY_DATABASE_URL',
    });
    expect(databaseConnectionConfig({ DATABASE_URL: 'postgres://b/y' }).source).to.equal('DATABASE_URL');
    expect(databaseConnectionConfig({ PGHOST: 'h' })).to.deep.equal({ source: 'PG*' });
  });
});
