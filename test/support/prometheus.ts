/**
 * Runs the real Prometheus (built by `npm run prometheus:build`) in tests: a
 * config made from collector-config/prometheus.yml with its targets pointed at
 * loopback ports and a short scrape interval, a temporary TSDB, the HTTP API
 * on a free loopback port. `stop()` ends it and removes its data.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort, pollUntil, repoRoot, requireBuiltBinary, tempDir } from './collector';

/** Where build.sh puts the binary; CVD_ACTIVITY_PROMETHEUS_BIN overrides it. */
export function prometheusBinary(): string {
  return process.env.CVD_ACTIVITY_PROMETHEUS_BIN ?? join(repoRoot, '.cache', 'prometheus', 'prometheus');
}

/** Skips the calling suite when the binary is missing, or fails it under CVD_ACTIVITY_REQUIRE_COLLECTOR=1 (.ci/run). */
export function requirePrometheus(ctx: Mocha.Context): string {
  return requireBuiltBinary(ctx, { what: 'Prometheus', bin: prometheusBinary(), build: 'npm run prometheus:build' });
}

/** One instant query's series: labels and value. */
export interface PromSeries {
  metric: Record<string, string>;
  value: [number, string];
}

/** A running Prometheus. */
export interface RunningPrometheus {
  url: string;
  /** Runs an instant query; throws with Prometheus's error text when the query is invalid. */
  query(expr: string): Promise<PromSeries[]>;
  log(): string;
  stop(): Promise<void>;
}

/**
 * collector-config/prometheus.yml with each job's targets replaced by `targets[job]`
 * (jobs without one are left out) and every interval set to `intervalSeconds`.
 */
export function testConfig(targets: Record<string, string>, intervalSeconds: number): string {
  const model = parse(readFileSync(join(repoRoot, 'collector-config', 'prometheus.yml'), 'utf8')) as {
    global: Record<string, string>; scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
  };
  const interval = `${intervalSeconds}s`;
  return stringify({
    ...model,
    global: { ...model.global, scrape_interval: interval, evaluation_interval: interval },
    scrape_configs: model.scrape_configs
      .filter((job) => targets[job.job_name] !== undefined)
      .map((job) => ({ ...job, static_configs: [{ targets: [targets[job.job_name]!] }] })),
  });
}

/** Starts Prometheus with `config` (YAML text), listening on loopback only; resolves once it is ready. */
export async function startPrometheus(bin: string, config: string): Promise<RunningPrometheus> {
  const dir = tempDir('cvd-prometheus-');
  const configFile = join(dir.path, 'prometheus.yml');
  writeFileSync(configFile, config);
  const address = `127.0.0.1:${await freePort()}`;
  const child = spawn(bin, [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir.path, 'data')}`, `--web.listen-address=${address}`, '--log.level=warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://${address}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    dir.remove();
  };
  const query = async (expr: string): Promise<PromSeries[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { result: PromSeries[] } };
    if (body.status !== 'success') throw new Error(`Prometheus refused ${expr}: ${body.error}`);
    return body.data!.result;
  };
  try {
    await pollUntil(`Prometheus ready on ${address}`, async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${output}`);
      const res = await fetch(`${url}/-/ready`).catch(() => undefined);
      return res?.status === 200 ? true : undefined;
    }, 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, query, log: () => output, stop };
}
