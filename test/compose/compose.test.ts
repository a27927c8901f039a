/**
 * docker-compose.yml without a Docker engine: valid against the Compose
 * specification's JSON schema (vendored, see test/compose/README.md) and, when
 * Debian's docker-compose is installed, `docker-compose config -q`; every image
 * pinned; healthchecks and depends_on conditions; every mounted file in the
 * repository; and the wiring between Collector, Tempo and Prometheus consistent.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { parse } from 'yaml';

const root = resolve(__dirname, '..', '..');
const files = ['docker-compose.yml', 'docker-compose.two-tier.yml'];
// Filled by the dashboards work; checked only once they exist.
const pendingPaths = ['./dashboards/provisioning', './dashboards/json'];

interface Service {
  image?: string;
  build?: string | { context: string };
  volumes?: (string | { type: string; source: string })[];
  ports?: string[];
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }> | string[];
  command?: string[];
  environment?: Record<string, string>;
}
interface ComposeFile { services: Record<string, Service>; volumes?: Record<string, unknown> }

function load(file: string): ComposeFile {
  return parse(readFileSync(join(root, file), 'utf8'), { merge: true }) as ComposeFile;
}

/** Host-side sources of bind mounts ("./x:/y[:ro]"). */
function bindSources(service: Service): string[] {
  return (service.volumes ?? []).flatMap((v) => {
    const source = typeof v === 'string' ? v.split(':')[0]! : v.type === 'bind' ? v.source : '';
    return source.startsWith('.') || source.startsWith('/') ? [source] : [];
  });
}

describe('docker-compose.yml', () => {
  const base = load('docker-compose.yml');

  it('is valid against the Compose specification schema (both files)', () => {
    const schema = JSON.parse(readFileSync(join(__dirname, 'compose-spec.json'), 'utf8')) as object;
    // The vendored schema declares draft 2019-09 but still uses draft-04 `id`.
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false, validateSchema: false });
    ajv.removeKeyword('id');
    ajv.addKeyword('id');
    const validate = ajv.compile(schema);
    for (const file of files) {
      expect(validate(load(file)), `${file}: ${ajv.errorsText(validate.errors)}`).to.equal(true);
    }
    const broken = load('docker-compose.yml');
    (broken.services.postgres!.healthcheck as Record<string, unknown>).intervall = '5s';
    expect(validate(broken), 'a misspelt key must fail the schema').to.equal(false);
  });

  it('passes `docker-compose config -q` (Debian docker-compose), alone and with the two-tier file', function () {
    const probe = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
    if (probe.error) {
      console.warn('      skipped: docker-compose is not installed (apt-get install -y --no-install-recommends docker-compose)');
      this.skip();
    }
    for (const args of [['-f', 'docker-compose.yml'], ['-f', 'docker-compose.yml', '-f', 'docker-compose.two-tier.yml']]) {
      const result = spawnSync('docker-compose', [...args, 'config', '-q'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
      expect(result.status, `docker-compose ${args.join(' ')} config -q:\n${result.stderr}`).to.equal(0);
    }
  });

  it('runs postgres, migrate, collector, tempo, prometheus, grafana and the demo app', () => {
    expect(Object.keys(base.services)).to.include.members(['postgres', 'migrate', 'collector', 'tempo', 'prometheus', 'grafana', 'demo']);
    expect(base.services.collector!.image).to.equal('otel/opentelemetry-collector-contrib:0.161.0');
    expect(base.services.migrate!.command).to.deep.equal(['node', 'dist/cli/main.js', 'migrate']);
    // `cvd-activity demo` runs the demo API as `node --require <package>/dist/register.js dist/demo/server.js`.
    expect(base.services.demo!.command!.slice(0, 3)).to.deep.equal(['node', 'dist/cli/main.js', 'demo']);
    expect(base.services.demo!.environment).to.include({ CVD_DEMO_HOST: '0.0.0.0', CVD_ACTIVITY_DATABASE_URL: 'postgres://cvd:cvd@postgres:5432/cvd' });
  });

  it("lets Grafana read the audit trail only as the migration's SELECT-only role", () => {
    const datasources = readFileSync(join(root, 'dashboards/provisioning/datasources/cvd-activity.yaml'), 'utf8');
    expect(datasources).to.match(/user: cvd_activity_reader/);
    const reader = base.services['reader-login']!;
    expect(reader.command!.join(' ')).to.include("ALTER ROLE cvd_activity_reader LOGIN PASSWORD :'pw'");
    // The same password on both sides, and Grafana starts only once the role can log in.
    expect(reader.environment!.CVD_POSTGRES_READER_PASSWORD).to.equal(base.services.grafana!.environment!.CVD_POSTGRES_READER_PASSWORD);
    expect(base.services.grafana!.environment).to.not.have.property('CVD_POSTGRES_PASSWORD');
    expect(base.services.grafana!.depends_on).to.deep.include({ 'reader-login': { condition: 'service_completed_successfully' } });
    expect(reader.depends_on).to.deep.include({ migrate: { condition: 'service_completed_successfully' } });
  });

  it('pins every image to a version (no latest, no bare names)', () => {
    for (const file of files) {
      for (const [name, service] of Object.entries(load(file).services)) {
        if (service.build && service.image === 'cvd-activity:local') continue; // built here
        if (!service.image) continue; // an override that only changes settings
        expect(service.image, `${file} ${name}`).to.match(/^[\w./-]+:v?\d+(\.\d+)+(-[\w.]+)?$/);
      }
    }
  });

  it('gives every long-running service a healthcheck, and every dependency a condition', () => {
    // The contrib Collector image has no shell or HTTP client to probe with;
    // migrate and reader-login are one-shot jobs that dependents wait to complete.
    const noHealthcheck = new Set(['collector', 'migrate', 'reader-login']);
    for (const [name, service] of Object.entries(base.services)) {
      if (!noHealthcheck.has(name)) expect(service.healthcheck, `${name} healthcheck`).to.be.an('object');
      for (const [dep, spec] of Object.entries(service.depends_on ?? {})) {
        expect(spec, `${name} → ${dep}`).to.have.property('condition');
        expect(base.services, `${name} depends on unknown ${dep}`).to.have.property(dep);
        if (spec.condition === 'service_healthy') expect(base.services[dep]!.healthcheck, `${dep} must have a healthcheck`).to.be.an('object');
      }
    }
    expect(base.services.demo!.depends_on).to.deep.include({ migrate: { condition: 'service_completed_successfully' } });
  });

  it('keeps data in named volumes that are declared', () => {
    const declared = Object.keys(base.volumes ?? {});
    const used = Object.values(base.services).flatMap((s) => (s.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[0]! : v.source)).filter((src) => !/^[./]/.test(src)));
    expect(used).to.include.members(['postgres-data', 'tempo-data', 'prometheus-data', 'grafana-data']);
    expect(used.filter((v) => !declared.includes(v)), 'undeclared named volumes').to.deep.equal([]);
  });

  it('mounts and builds only from paths that exist in the repository', () => {
    for (const file of files) {
      for (const [name, service] of Object.entries(load(file).services)) {
        for (const source of bindSources(service)) {
          if (pendingPaths.includes(source) && !existsSync(join(root, source))) continue;
          expect(existsSync(join(root, source)), `${file} ${name} mounts ${source}`).to.equal(true);
        }
        const context = typeof service.build === 'string' ? service.build : service.build?.context;
        if (context) expect(existsSync(join(root, context, 'Dockerfile')), `${name} builds ${context}`).to.equal(true);
      }
    }
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    for (const [, sources] of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of sources!.split(/\s+/)) expect(existsSync(join(root, source)), `Dockerfile copies ${source}`).to.equal(true);
    }
  });

  it('wires the Collector, Tempo and Prometheus to each other', () => {
    const otelcol = readFileSync(join(root, 'collector-config/otelcol.yaml'), 'utf8');
    const tempo = parse(readFileSync(join(root, 'collector-config/tempo.yaml'), 'utf8')) as { distributor: { receivers: { otlp: { protocols: { grpc: { endpoint: string } } } } }; server: { http_listen_port: number } };
    const prometheus = readFileSync(join(root, 'collector-config/prometheus.yml'), 'utf8');
    const tempoEndpoint = base.services.collector!.environment?.TEMPO_ENDPOINT ?? otelcol.match(/TEMPO_ENDPOINT:-([^}]+)/)![1]!;
    expect(tempoEndpoint).to.equal(`tempo:${tempo.distributor.receivers.otlp.protocols.grpc.endpoint.split(':')[1]}`);
    const spanMetricsPort = otelcol.match(/SPAN_METRICS_PROMETHEUS_ENDPOINT:-[^:}]+:(\d+)/)![1];
    expect(prometheus).to.include(`collector:${spanMetricsPort}`);
    expect(base.services.collector!.ports).to.include(`${spanMetricsPort}:${spanMetricsPort}`);
    expect(base.services.tempo!.ports).to.include(`${tempo.server.http_listen_port}:${tempo.server.http_listen_port}`);
    expect(base.services.demo!.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).to.equal('http://collector:4318');
  });

  it('lists every published port in docs/deployment.md', () => {
    const deployment = readFileSync(join(root, 'docs', 'deployment.md'), 'utf8');
    const section = deployment.split(/^## /m).find((s) => s.startsWith('Run the full stack')) ?? '';
    expect(section, 'docs/deployment.md section "Run the full stack"').to.not.equal('');
    for (const [name, service] of Object.entries(base.services)) {
      for (const port of service.ports ?? []) {
        const published = port.replace(/^\$\{[A-Z_]+:-(\d+)\}/, '$1').split(':')[0];
        expect(section, `${name} port ${published}`).to.include(published);
      }
    }
  });
});
