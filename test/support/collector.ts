/**
 * Runs the real Collector binary (built by `npm run collector:build`) in tests:
 * finds it, starts instances on free loopback ports with the env vars the
 * configs read, waits for their health check, reads what the file-exporter
 * sink wrote, and scrapes Prometheus endpoints. Every instance started here is
 * stopped by `stop()`; tests call it in `after` hooks.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Repository root (this file lives in test/support/). */
export const repoRoot = resolve(__dirname, '..', '..');

/** Where build.sh puts the binary; CVD_ACTIVITY_OTELCOL_BIN overrides it. */
export function collectorBinary(): string {
  return process.env.CVD_ACTIVITY_OTELCOL_BIN ?? join(repoRoot, '.cache', 'otelcol', 'otelcol-cvd');
}

/**
 * Skips the calling suite when the binary is missing, or fails it when
 * CVD_ACTIVITY_REQUIRE_COLLECTOR=1 (as in .ci/run). Call from `before`.
 */
export function requireCollector(ctx: Mocha.Context): string {
  return requireBuiltBinary(ctx, { what: 'Collector', bin: collectorBinary(), build: 'npm run collector:build' });
}

/** `bin` if it exists; else skips the suite, or fails it under CVD_ACTIVITY_REQUIRE_COLLECTOR=1, saying how to build it. */
export function requireBuiltBinary(ctx: Mocha.Context, binary: { what: string; bin: string; build: string }): string {
  if (existsSync(binary.bin)) return binary.bin;
  const reason = `${binary.what} binary not found at ${binary.bin}: run \`${binary.build}\` (needs Go and the Go module proxy)`;
  if (process.env.CVD_ACTIVITY_REQUIRE_COLLECTOR === '1') {
    throw new Error(`${reason}; CVD_ACTIVITY_REQUIRE_COLLECTOR=1 forbids skipping`);
  }
  console.warn(`      skipped: ${reason}`);
  ctx.skip();
  return binary.bin;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

import { pollUntil } from './poll';
export { pollUntil };

// Children still running when the test process exits (a crash, a forced
// mocha exit) are killed rather than left holding ports on a shared machine.
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** Runs `<binary> validate --config=<file>` with env; returns exit status and output. */
export function validateConfig(bin: string, configFile: string, env: Record<string, string> = {}): { status: number | null; output: string } {
  const result = spawnSync(bin, ['validate', `--config=${configFile}`], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** One running Collector process. */
export interface RunningCollector {
  /** Name used in error messages. */
  name: string;
  /** The environment it was started with (ports, files). */
  env: Record<string, string>;
  /** Everything it logged so far (stdout + stderr). */
  log(): string;
  /** Stops it (SIGTERM, then SIGKILL after 10 s); idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `<bin> --config=<file>` with env, on free ports for the health check
 * and its own metrics, and resolves once the health check answers 200.
 */
export async function startCollector(options: { bin: string; name: string; config: string; env: Record<string, string> }): Promise<RunningCollector> {
  const healthPort = await freePort();
  const env: Record<string, string> = {
    HEALTH_CHECK_ENDPOINT: `127.0.0.1:${healthPort}`,
    OTELCOL_METRICS_PORT: String(await freePort()),
    OTELCOL_LOG_LEVEL: 'warn',
    ...options.env,
  };
  const child: ChildProcess = spawn(options.bin, [`--config=${options.config}`], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let stopped = false;
  const running: RunningCollector = {
    name: options.name,
    env,
    log: () => output,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await pollUntil(`${options.name} health check on ${env.HEALTH_CHECK_ENDPOINT}`, async () => {
      if (child.exitCode !== null) throw new Error(`${options.name} exited with ${child.exitCode}:\n${output}`);
      const res = await fetch(`http://${env.HEALTH_CHECK_ENDPOINT}/`).catch(() => undefined);
      return res?.status === 200 ? true : undefined;
    }, 60_000);
  } catch (error) {
    await running.stop();
    throw new Error(`${String(error)}\n--- ${options.name} log ---\n${output}`);
  }
  return running;
}

/** A temporary folder removed by `remove()`. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** One span as the file exporter wrote it (OTLP JSON), flattened with its resource. */
export interface SinkSpan {
  traceId: string;
  spanId: string;
  /** Empty for a trace's root span. */
  parentSpanId: string;
  name: string;
  serviceName: string;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
}

interface OtlpAnyValue { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number; arrayValue?: { values?: OtlpAnyValue[] } }
interface OtlpKeyValue { key: string; value: OtlpAnyValue }

function anyValue(v: OtlpAnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValue);
  return undefined;
}

function attributeMap(list: OtlpKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, anyValue(kv.value)]));
}

/** Parses the file exporter's JSON lines (a missing file is an empty list). */
export function readSinkSpans(file: string): SinkSpan[] {
  if (!existsSync(file)) return [];
  const spans: SinkSpan[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const data = JSON.parse(line) as { resourceSpans?: { resource?: { attributes?: OtlpKeyValue[] }; scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; attributes?: OtlpKeyValue[]; events?: { name: string; attributes?: OtlpKeyValue[] }[] }[] }[] }[] };
    for (const rs of data.resourceSpans ?? []) {
      const serviceName = String(attributeMap(rs.resource?.attributes)['service.name'] ?? '');
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          spans.push({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            name: s.name,
            serviceName,
            attributes: attributeMap(s.attributes),
            events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attributeMap(e.attributes) })),
          });
        }
      }
    }
  }
  return spans;
}

/** Sum of a Prometheus counter's samples whose labels include every given label. */
export function sumSamples(exposition: string, metric: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    const rest = line.slice(metric.length);
    const labelText = rest.match(/^\{(.*)\}/)?.[1] ?? '';
    const have = Object.fromEntries([...labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) {
      // "name{labels} value [timestamp]": the value follows the label block.
      sum += Number(rest.slice(labelText ? labelText.length + 2 : 0).trim().split(/\s+/)[0]);
    }
  }
  return sum;
}

/** A stand-in for Tempo (a file-exporter Collector) behind a Collector running collector-config/otelcol.yaml. */
export interface SamplingPipeline {
  collectors: RunningCollector[];
  /** Where the stand-in writes what reached "Tempo" (OTLP JSON lines). */
  sinkFile: string;
  /** host:port of otelcol.yaml's OTLP/HTTP receiver. */
  otlpHttp: string;
  /** host:port of its Prometheus endpoint (span metrics and app metrics). */
  metricsEndpoint: string;
}

/** Starts the sink and otelcol.yaml on free loopback ports; `env` adds or overrides otelcol.yaml's variables. */
export async function startSamplingPipeline(bin: string, dir: string, env: Record<string, string> = {}): Promise<SamplingPipeline> {
  const sinkFile = join(dir, 'tempo.jsonl');
  const sinkGrpc = `127.0.0.1:${await freePort()}`;
  const collectors = [await startCollector({
    bin, name: 'sink', config: join(repoRoot, 'test/collector/fixtures/otelcol-sink.yaml'),
    env: { SINK_GRPC_ENDPOINT_A: sinkGrpc, SINK_GRPC_ENDPOINT_B: `127.0.0.1:${await freePort()}`, SINK_FILE_A: sinkFile, SINK_FILE_B: join(dir, 'unused.jsonl') },
  })];
  const metricsEndpoint = `127.0.0.1:${await freePort()}`;
  const otlpHttp = `127.0.0.1:${await freePort()}`;
  const sampling = startCollector({
    bin, name: 'collector', config: join(repoRoot, 'collector-config/otelcol.yaml'),
    env: {
      OTLP_GRPC_ENDPOINT: `127.0.0.1:${await freePort()}`,
      OTLP_HTTP_ENDPOINT: otlpHttp,
      TEMPO_ENDPOINT: sinkGrpc,
      SPAN_METRICS_PROMETHEUS_ENDPOINT: metricsEndpoint,
      SPAN_METRICS_FLUSH_INTERVAL: '1s',
      TAIL_SAMPLING_DECISION_WAIT: '5s', // spans of a trace arrive up to ~0.5 s apart; room for a loaded machine
      ...env,
    },
  });
  // The caller's after() only knows collectors that were returned: stop the sink if the second fails.
  collectors.push(await sampling.catch(async (err: unknown) => {
    await collectors[0]!.stop();
    throw err;
  }));
  return { collectors, sinkFile, otlpHttp, metricsEndpoint };
}
