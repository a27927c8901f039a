/**
 * Every Collector config file is valid for the built binary, and the binary
 * holds exactly the components the configs use (the build recipe's promise).
 */
import { expect } from 'chai';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { repoRoot, requireCollector, tempDir, validateConfig } from '../support/collector';

const configDir = join(repoRoot, 'collector-config');
const sinkConfig = join(repoRoot, 'test/collector/fixtures/otelcol-sink.yaml');
const sinkEnv = {
  SINK_GRPC_ENDPOINT_A: '127.0.0.1:14317', SINK_GRPC_ENDPOINT_B: '127.0.0.1:14318',
  SINK_FILE_A: '/tmp/a.jsonl', SINK_FILE_B: '/tmp/b.jsonl', HEALTH_CHECK_ENDPOINT: '127.0.0.1:13133',
};
const kinds = ['receivers', 'processors', 'exporters', 'connectors', 'extensions'] as const;

/** Collector config files shipped in collector-config/ (not Tempo's or Prometheus's). */
function shippedConfigs(): string[] {
  return readdirSync(configDir).filter((f) => /^otelcol.*\.ya?ml$/.test(f)).map((f) => join(configDir, f));
}

/** Component types a config uses, as "kind/type" (the "/name" suffix dropped). */
function usedComponents(file: string): string[] {
  const doc = parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown> | undefined>;
  return kinds.flatMap((kind) => Object.keys(doc[kind] ?? {}).map((id) => `${kind}/${id.split('/')[0]}`));
}

describe('collector configs', function () {
  this.timeout(120_000);
  let bin: string;

  before(function () {
    bin = requireCollector(this);
  });

  it('ships otelcol.yaml and the two-tier otelcol-lb.yaml', () => {
    expect(shippedConfigs().map((f) => f.slice(configDir.length + 1))).to.include.members(['otelcol.yaml', 'otelcol-lb.yaml']);
  });

  it('validates every config file with its defaults', () => {
    for (const file of shippedConfigs()) {
      const { status, output } = validateConfig(bin, file);
      expect(status, `${file}:\n${output}`).to.equal(0);
    }
    const sink = validateConfig(bin, sinkConfig, sinkEnv);
    expect(sink.status, sink.output).to.equal(0);
  });

  it('validates with the values the tests and compose set', () => {
    const { status, output } = validateConfig(bin, join(configDir, 'otelcol.yaml'), {
      TEMPO_ENDPOINT: '127.0.0.1:24317', TAIL_SAMPLING_DECISION_WAIT: '2s', TAIL_SAMPLING_ROUTINE_PERCENTAGE: '25',
      TAIL_SAMPLING_LATENCY_THRESHOLD_MS: '500', SPAN_METRICS_FLUSH_INTERVAL: '1s',
    });
    expect(status, output).to.equal(0);
    const lb = validateConfig(bin, join(configDir, 'otelcol-lb.yaml'), { SAMPLING_COLLECTORS: '[127.0.0.1:1, 127.0.0.1:2, 127.0.0.1:3]' });
    expect(lb.status, lb.output).to.equal(0);
  });

  // validate catches unknown keys and types, not OTTL syntax (parsed at start-up):
  // the pipeline tests start the Collector on these files, which covers that.
  it('rejects a broken config (validate is not a no-op)', () => {
    const dir = tempDir('cvd-otelcol-bad-');
    try {
      const broken = join(dir.path, 'broken.yaml');
      writeFileSync(broken, readFileSync(join(configDir, 'otelcol.yaml'), 'utf8').replace('decision_wait:', 'decision_wiat:'));
      const { status, output } = validateConfig(bin, broken);
      expect(status).to.not.equal(0);
      expect(output).to.match(/decision_wiat/);
    } finally {
      dir.remove();
    }
  });

  it('reads every env var with a default, and documents it in the file header', () => {
    for (const file of shippedConfigs()) {
      const text = readFileSync(file, 'utf8');
      const header = text.split('\n').filter((l) => l.startsWith('#')).join('\n');
      for (const [, name, fallback] of text.matchAll(/\$\{env:([A-Z0-9_]+)(:-[^}]*)?\}/g)) {
        expect(fallback, `${file}: \${env:${name}} has no default`).to.be.a('string');
        expect(header, `${file}: ${name!} is not documented in the header`).to.include(name!);
      }
    }
  });

  it('holds exactly the components the configs use, at one release', () => {
    const result = spawnSync(bin, ['components'], { encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stderr).to.equal(0);
    const listed = parse(result.stdout) as Record<string, { name: string }[] | undefined>;
    const inBinary = kinds.flatMap((kind) => (listed[kind] ?? []).map((c) => `${kind}/${c.name}`)).sort();
    const used = [...new Set([...shippedConfigs(), sinkConfig].flatMap(usedComponents))].sort();
    expect(inBinary).to.deep.equal(used);
    const manifest = readFileSync(join(configDir, 'build/manifest.yaml'), 'utf8');
    const versions = [...manifest.matchAll(/gomod: (\S+) (v\S+)/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(versions.filter((v) => !/ (v0\.161\.0|v1\.67\.0)$/.test(v)), 'modules off the v0.161.0 / v1.67.0 release').to.deep.equal([]);
  });
});
