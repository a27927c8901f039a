// bench/record: what one audit.record() call costs, with validation,
// redaction and normalization, into a sink that does nothing, side by side
// with a baseline that only builds the same object and serializes it.
// Run: npm run bench:record   (writes its section of bench/RESULTS.md)
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { v7 as uuidv7 } from 'uuid';
import { ActionRegistry } from '../../src/audit/ActionRegistry';
import { createAuditRecorder } from '../../src/audit/AuditRecorder';
import type { AuditRecorder } from '../../src/audit/AuditRecorder';
import { newRequestContext, runWithRequestContext, setUser } from '../../src/audit/context';
import type { AuditEvent, AuditSink } from '../../src/audit/types';
import type { AuditConfig } from '../../src/config/types';
import { median, writeResultsSection } from '../results.mjs';

const CALLS = Number(process.env.BENCH_RECORD_CALLS ?? 100_000);
const WARMUP = 20_000;
const ROUNDS = 3;

class NoopSink implements AuditSink {
  count = 0;
  enqueue(_event: AuditEvent): void {
    this.count++;
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

class NoopExporter implements SpanExporter {
  export(_spans: ReadableSpan[], done: (r: { code: number }) => void): void {
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

const registry = new ActionRegistry();
function recorder(mirror: AuditConfig['mirror']): AuditRecorder {
  return createAuditRecorder({
    registry,
    sink: new NoopSink(),
    config: {
      serviceName: 'bench',
      audit: { strict: false, maxFieldBytes: 16_384, mirror, loginFailedWindowMs: 300_000, loginMaxAttempts: 5 },
      redaction: { fields: ['password', 'passwd', 'token', 'secret', 'card number', 'cvv', 'api key', 'authorization'] },
    },
  });
}

// A typical call: the review's PRICE_CHANGE, with before/after values.
const fields = {
  resourceId: 'p-water-500',
  details: { product: 'p-water-500', old_price: 1.5, new_price: 1.75, currency: 'EUR' },
  oldValue: { price: 1.5, updated_by: 'u-1' },
  newValue: { price: 1.75, updated_by: 'u-2' },
};
// A larger one: an export with filters and a date range.
const exportFields = {
  resourceId: 'device-sales',
  details: { dataset: 'device_sales', format: 'csv', record_count: 12_840, filters: { region: 'north', devices: ['dev-1', 'dev-2', 'dev-3'], status: 'active' }, date_range: { from: '2024-12-01', to: '2024-12-31' } },
};

/** Baseline: build an event-shaped object with an id and a time, and serialize it; no validation, redaction or context. */
function baseline(): string {
  const event = { eventId: uuidv7(), occurredAt: new Date().toISOString(), action: 'PRICE_CHANGE', ...fields, details: { ...fields.details } };
  return JSON.stringify(event);
}

interface Scenario {
  name: string;
  /** Runs `fn` `n` times in the scenario's context (request, span). */
  run: (n: number, fn: () => void) => void;
  call: () => unknown;
}

const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: new NoopExporter() })] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(provider);
const tracer = trace.getTracer('bench');

const inRequest = (n: number, fn: () => void) =>
  runWithRequestContext(newRequestContext('203.0.113.7', 'bench/1.0'), () => {
    setUser({ id: 'u-1042', roles: ['admin'], sessionId: 's-1' });
    for (let i = 0; i < n; i++) fn();
  });
// Spans keep 128 events: a fresh recording span per 100 calls, started outside the timed call.
const inRecordingSpans = (n: number, fn: () => void) =>
  runWithRequestContext(newRequestContext('203.0.113.7', 'bench/1.0'), () => {
    setUser({ id: 'u-1042' });
    for (let done = 0; done < n; done += 100) {
      tracer.startActiveSpan('POST /prices', (span) => {
        for (let i = 0; i < Math.min(100, n - done); i++) fn();
        span.end();
      });
    }
  });

const none = recorder('none');
const spanEvent = recorder('span-event');
const scenarios: Scenario[] = [
  { name: 'baseline: build object + JSON.stringify (no validation)', run: inRequest, call: baseline },
  { name: 'record() PRICE_CHANGE, mirror none', run: inRequest, call: () => none.record('PRICE_CHANGE', fields) },
  { name: 'record() DATA_EXPORT (nested filters), mirror none', run: inRequest, call: () => none.record('DATA_EXPORT', exportFields) },
  { name: 'record() invalid details (lenient, errors kept), mirror none', run: inRequest, call: () => none.record('PRICE_CHANGE', { details: { product: 'p', old_price: '1.5' } }) },
  { name: 'record() PRICE_CHANGE, span event on active recording span', run: inRecordingSpans, call: () => spanEvent.record('PRICE_CHANGE', fields) },
  { name: 'record() PRICE_CHANGE, no active span: own `audit` span', run: inRequest, call: () => spanEvent.record('PRICE_CHANGE', fields) },
];

interface Result {
  p50: number;
  p99: number;
  mean: number;
  perSecond: number;
}

function measure(s: Scenario): Result {
  s.run(WARMUP, s.call);
  const samples = new Float64Array(CALLS);
  let i = 0;
  s.run(CALLS, () => {
    const t0 = process.hrtime.bigint();
    s.call();
    samples[i++] = Number(process.hrtime.bigint() - t0) / 1000;
  });
  samples.sort();
  // Throughput without the timer calls: one timed loop.
  const t0 = process.hrtime.bigint();
  s.run(CALLS, s.call);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const mean = samples.reduce((a, b) => a + b, 0) / CALLS;
  return { p50: samples[Math.floor(CALLS * 0.5)]!, p99: samples[Math.floor(CALLS * 0.99)]!, mean, perSecond: CALLS / seconds };
}

function main(): void {
  const compileMs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    new ActionRegistry();
    compileMs.push(performance.now() - t0);
  }
  const rounds: Result[][] = scenarios.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    scenarios.forEach((s, k) => rounds[k]!.push(measure(s))); // interleaved: noise hits every scenario alike
    process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`);
  }
  const base = median(rounds[0]!.map((x) => x.p50));
  const rows = scenarios.map((s, k) => {
    const p50 = median(rounds[k]!.map((x) => x.p50));
    const p99 = median(rounds[k]!.map((x) => x.p99));
    const mean = median(rounds[k]!.map((x) => x.mean));
    const rate = median(rounds[k]!.map((x) => x.perSecond));
    return `| ${s.name} | ${p50.toFixed(2)} | ${p99.toFixed(2)} | ${mean.toFixed(2)} | ${Math.round(rate).toLocaleString('en-US')} | ${(p50 / base).toFixed(1)}x |`;
  });
  const p99Record = median(rounds[1]!.map((x) => x.p99));
  const text = [
    '## record(): cost of one audit event (bench/record)',
    '',
    `Node ${process.version}, ${new Date().toISOString().slice(0, 16)}Z, ${CALLS.toLocaleString('en-US')} calls per scenario after ${WARMUP.toLocaleString('en-US')} warm-up calls,`,
    `${ROUNDS} interleaved rounds, medians of the rounds. Per-call times from \`process.hrtime.bigint()\` around each call (includes ~0.1 µs of timer overhead);`,
    'events/s from a separate untimed loop on one core. Sink: a no-op `AuditSink` (the cost of the Postgres pipeline is bench/ingest).',
    'Strict mode off (production default), redaction with the default field list, inside a request context with a user set.',
    '',
    '| scenario | p50 µs | p99 µs | mean µs | events/s (one core) | p50 vs baseline |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `Target p99 < 20 µs for record() with validation and redaction: **${p99Record < 20 ? 'met' : 'NOT met'}** (${p99Record.toFixed(2)} µs).`,
    `Start-up: compiling the whole catalog (${registry.list().length} actions) with ajv once takes ${median(compileMs).toFixed(0)} ms (median of 5).`,
    '',
    'Command: `npm run bench:record` (set BENCH_RECORD_CALLS to change the call count).',
  ].join('\n');
  writeResultsSection('record', text);
  console.log(text);
  void provider.shutdown();
}

main();
