/**
 * Runs the traffic generator (fixtures/traffic.ts) as a child process and
 * compares what a sink received with what was sent. Shared by the pipeline
 * and two-tier tests.
 */
import { execFile } from 'node:child_process';
import { readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil, readSinkSpans, repoRoot, type SinkSpan } from '../support/collector';
import type { TrafficClass, TrafficManifest } from './fixtures/traffic';

/** Sends the given number of requests of each class to an OTLP/HTTP endpoint; resolves with the manifest. */
export function sendTraffic(options: { otlpHttp: string; service: string; counts: Record<TrafficClass, number>; slowMs?: number }): Promise<TrafficManifest> {
  return new Promise((resolveManifest, reject) => {
    execFile(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'traffic.ts')], {
      cwd: repoRoot,
      env: {
        ...process.env,
        TRAFFIC_OTLP_URL: `http://${options.otlpHttp}/v1/traces`,
        TRAFFIC_SERVICE: options.service,
        TRAFFIC_COUNTS: JSON.stringify(options.counts),
        TRAFFIC_SLOW_MS: String(options.slowMs ?? 1500),
      },
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`traffic generator failed: ${error.message}\n${stderr}`));
      try {
        resolveManifest(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as TrafficManifest);
      } catch (parseError) {
        reject(new Error(`traffic generator printed no manifest: ${String(parseError)}\n${stdout}\n${stderr}`));
      }
    });
  });
}

/** Trace ids that every policy but the probabilistic one must keep. */
export function mustKeep(manifest: TrafficManifest): string[] {
  return (['audit', 'error', 'slow', 'denied'] as TrafficClass[]).flatMap((k) => manifest.traces[k]);
}

/** Groups sink spans by trace id. */
export function byTrace(spans: SinkSpan[]): Map<string, SinkSpan[]> {
  const traces = new Map<string, SinkSpan[]>();
  for (const span of spans) {
    const list = traces.get(span.traceId) ?? [];
    list.push(span);
    traces.set(span.traceId, list);
  }
  return traces;
}

/** Span ids of a trace that were sent but are missing in `received` (empty when whole). */
export function missingSpans(manifest: TrafficManifest, traceId: string, received: SinkSpan[] | undefined): string[] {
  const have = new Set((received ?? []).map((s) => s.spanId));
  return (manifest.spans[traceId] ?? []).filter((id) => !have.has(id));
}

/**
 * Waits until every must-keep trace is whole in the sink files and the files
 * have stopped growing (the last decisions are out); after the deadline it
 * returns what arrived.
 */
export async function waitForSink(manifest: TrafficManifest, files: string[], timeoutMs = 90_000): Promise<SinkSpan[]> {
  const keep = mustKeep(manifest);
  let lastSize = -1;
  let stableSince = 0;
  const settled = pollUntil('the sink to receive every must-keep trace and settle', () => {
    const size = files.reduce((n, f) => n + (existsSync(f) ? statSync(f).size : 0), 0);
    if (size !== lastSize) {
      lastSize = size;
      stableSince = Date.now();
      return undefined;
    }
    const spans = files.flatMap((f) => readSinkSpans(f));
    const traces = byTrace(spans);
    const complete = keep.every((id) => missingSpans(manifest, id, traces.get(id)).length === 0);
    // Quiet for longer than the batch timeout + file flush after the last keep arrived.
    return complete && Date.now() - stableSince > 3_000 ? spans : undefined;
  }, timeoutMs, 500);
  // On timeout return what did arrive: the test's assertions then name what is missing.
  return settled.catch(() => files.flatMap((f) => readSinkSpans(f)));
}

/** Raw bytes of the sink files, for grepping secrets. */
export function rawSink(files: string[]): string {
  return files.map((f) => (existsSync(f) ? readFileSync(f, 'utf8') : '')).join('\n');
}

/**
 * Bounds for a binomial count at 5 standard deviations: a correct sampler
 * falls outside with probability below 1e-6, so the test does not flake.
 */
export function binomialBounds(n: number, p: number, sigmas = 5): [number, number] {
  const mean = n * p;
  const sd = Math.sqrt(n * p * (1 - p));
  return [Math.max(0, Math.floor(mean - sigmas * sd)), Math.ceil(mean + sigmas * sd)];
}
