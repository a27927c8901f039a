/**
 * The two-tier set-up with real Collectors: traffic → otelcol-lb.yaml
 * (load_balancing by trace id) → two Collectors running otelcol.yaml → a sink
 * with one file per sampling Collector. Each trace must be decided by exactly
 * one sampling Collector, on all of its spans.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { postMetrics, requestCounterExport } from '../support/otlpMetrics';
import {
  freePort, pollUntil, readSinkSpans, sumSamples, repoRoot, requireCollector, startCollector, tempDir, type RunningCollector, type SinkSpan,
} from '../support/collector';
import type { TrafficManifest } from './fixtures/traffic';
import { byTrace, missingSpans, mustKeep, rawSink, sendTraffic, waitForSink } from './traffic';

describe('collector two-tier (otelcol-lb.yaml → 2 × otelcol.yaml, real Collectors)', function () {
  this.timeout(240_000);
  const collectors: RunningCollector[] = [];
  let dir: ReturnType<typeof tempDir>;
  let files: [string, string];
  let manifest: TrafficManifest;
  let perSampler: [Map<string, SinkSpan[]>, Map<string, SinkSpan[]>];
  const samplerMetrics: string[] = [];
  let lbHttp: string;

  before(async function () {
    const bin = requireCollector(this);
    dir = tempDir('cvd-otelcol-lb-');
    files = [join(dir.path, 'from-sampler-1.jsonl'), join(dir.path, 'from-sampler-2.jsonl')];
    const sinkA = `127.0.0.1:${await freePort()}`;
    const sinkB = `127.0.0.1:${await freePort()}`;
    collectors.push(await startCollector({
      bin, name: 'sink', config: join(repoRoot, 'test/collector/fixtures/otelcol-sink.yaml'),
      env: { SINK_GRPC_ENDPOINT_A: sinkA, SINK_GRPC_ENDPOINT_B: sinkB, SINK_FILE_A: files[0], SINK_FILE_B: files[1] },
    }));
    const samplers: string[] = [];
    for (const [i, tempo] of [sinkA, sinkB].entries()) {
      const grpc = `127.0.0.1:${await freePort()}`;
      samplers.push(grpc);
      samplerMetrics.push(`127.0.0.1:${await freePort()}`);
      collectors.push(await startCollector({
        bin, name: `sampler-${i + 1}`, config: join(repoRoot, 'collector-config/otelcol.yaml'),
        env: {
          OTLP_GRPC_ENDPOINT: grpc,
          OTLP_HTTP_ENDPOINT: `127.0.0.1:${await freePort()}`,
          TEMPO_ENDPOINT: tempo,
          SPAN_METRICS_PROMETHEUS_ENDPOINT: samplerMetrics[i]!,
          SPAN_METRICS_FLUSH_INTERVAL: '1s',
          TAIL_SAMPLING_DECISION_WAIT: '5s', // spans of a trace arrive up to ~0.5 s apart; room for a loaded machine
        },
      }));
    }
    lbHttp = `127.0.0.1:${await freePort()}`;
    collectors.push(await startCollector({
      bin, name: 'load-balancer', config: join(repoRoot, 'collector-config/otelcol-lb.yaml'),
      env: {
        OTLP_GRPC_ENDPOINT: `127.0.0.1:${await freePort()}`,
        OTLP_HTTP_ENDPOINT: lbHttp,
        SAMPLING_COLLECTORS: `[${samplers.join(', ')}]`,
      },
    }));
    manifest = await sendTraffic({
      otlpHttp: lbHttp,
      service: `cvd-two-tier-${process.pid}`,
      counts: { audit: 15, error: 15, slow: 15, denied: 15, routine: 200 },
    });
    await waitForSink(manifest, files);
    perSampler = [byTrace(readSinkSpans(files[0])), byTrace(readSinkSpans(files[1]))];
  });

  after(async () => {
    for (const c of collectors.reverse()) await c.stop();
    dir?.remove();
  });

  it('keeps every audit, error, slow and 401/403 trace whole', () => {
    const incomplete = mustKeep(manifest)
      .map((id) => ({ id, missing: missingSpans(manifest, id, [...(perSampler[0].get(id) ?? []), ...(perSampler[1].get(id) ?? [])]) }))
      .filter((t) => t.missing.length > 0);
    expect(incomplete).to.deep.equal([]);
  });

  it('sends all spans of a trace through one sampling Collector', () => {
    const split = [...perSampler[0].keys()].filter((id) => perSampler[1].has(id));
    expect(split, 'traces exported by both sampling Collectors').to.deep.equal([]);
    for (const sampler of perSampler) {
      for (const [id, spans] of sampler) {
        expect(missingSpans(manifest, id, spans), `trace ${id} in one sampler's output`).to.deep.equal([]);
      }
    }
  });

  it('spreads traces over both sampling Collectors', () => {
    // 60 kept traces all landing on one of two Collectors by chance: probability 2^-59.
    expect(perSampler[0].size).to.be.above(0);
    expect(perSampler[1].size).to.be.above(0);
  });

  it('redacts in the sampling tier too', () => {
    const raw = rawSink(files);
    for (const secret of manifest.secrets) expect(raw.includes(secret), secret).to.equal(false);
  });

  it("routes each service's app metrics to one sampling Collector, whole", async () => {
    // Cumulative counters of one service must be exposed by one endpoint, never split.
    const services = Array.from({ length: 8 }, (_, i) => `cvd-two-tier-metrics-${i}-${process.pid}`);
    for (const [i, service] of services.entries()) {
      expect(await postMetrics(lbHttp, requestCounterExport(service, { kept: 100 + i, dropped: 10 + i, sampled_out: i }))).to.equal(200);
    }
    const scrape = () => Promise.all(samplerMetrics.map(async (m) => (await fetch(`http://${m}/metrics`)).text()));
    const texts = await pollUntil('every service counter on a sampling Collector', async () => {
      const t = await scrape();
      return services.every((s) => t.some((x) => x.includes(`service_name="${s}"`))) ? t : undefined;
    }, 60_000, 500);
    for (const [i, service] of services.entries()) {
      const holders = texts.filter((t) => t.includes(`service_name="${service}"`));
      expect(holders, `${service} exposed by`).to.have.length(1);
      expect(sumSamples(holders[0]!, 'cvd_activity_http_requests_total', { service_name: service, cvd_activity_fate: 'kept' })).to.equal(100 + i);
      expect(sumSamples(holders[0]!, 'cvd_activity_http_requests_total', { service_name: service })).to.equal(110 + 3 * i);
    }
  });
});
