// Shared helpers for tests of audit/: a recorder on a memory sink with the
// documented defaults, and a real OpenTelemetry tracer (TracerProvider +
// InMemorySpanExporter) registered globally for the duration of a suite.
import { context, diag, trace, DiagLogLevel } from '@opentelemetry/api';
import type { Context, DiagLogger, Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider, InMemorySpanExporter, SamplingDecision, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import type { Sampler, SamplingResult } from '@opentelemetry/sdk-trace';
import { ActionRegistry } from '../../src/audit/ActionRegistry';
import { createAuditRecorder } from '../../src/audit/AuditRecorder';
import type { AuditRecorder, AuditRecorderConfig } from '../../src/audit/AuditRecorder';
import { MemoryAuditSink } from '../../src/audit/MemoryAuditSink';
import type { AuditConfig } from '../../src/config/types';

/** The config room's default redaction list (config/defaults.ts), plus spellings with spaces and `authorization`. */
export const DEFAULT_REDACTION_FIELDS = ['password', 'passwd', 'secret', 'token', 'card_number', 'cardnumber', 'cvv', 'api_key', 'apikey', 'card number', 'api key', 'authorization'];

/** Audit config with the documented defaults, overridable. */
export function testAuditConfig(audit: Partial<AuditConfig> = {}, fields = DEFAULT_REDACTION_FIELDS): AuditRecorderConfig {
  return {
    serviceName: 'audit-test',
    audit: { strict: false, maxFieldBytes: 16 * 1024, mirror: 'span-event', loginFailedWindowMs: 5 * 60_000, loginMaxAttempts: 5, ...audit },
    redaction: { fields },
  };
}

let sharedRegistry: ActionRegistry | undefined;

/** A recorder writing into a fresh MemoryAuditSink (registry shared across tests unless `fresh`). */
export function newTestRecorder(audit: Partial<AuditConfig> = {}, options: { now?: () => number; freshRegistry?: boolean } = {}): { recorder: AuditRecorder; sink: MemoryAuditSink } {
  const sink = new MemoryAuditSink();
  const registry = options.freshRegistry ? new ActionRegistry() : (sharedRegistry ??= new ActionRegistry());
  const recorder = createAuditRecorder({ config: testAuditConfig(audit), sink, registry, now: options.now });
  return { recorder, sink };
}

/** Spans whose name starts with this are not sampled by the test tracer. */
export const UNSAMPLED_PREFIX = 'unsampled';

class NameSampler implements Sampler {
  shouldSample(_ctx: Context, _traceId: string, name: string): SamplingResult {
    return { decision: name.startsWith(UNSAMPLED_PREFIX) ? SamplingDecision.NOT_RECORD : SamplingDecision.RECORD_AND_SAMPLED };
  }
  toString(): string {
    return 'NameSampler';
  }
}

/** A real tracer registered as the global one; call `stop()` in after(). */
export function startTestTracing(): { tracer: Tracer; exporter: InMemorySpanExporter; stop: () => Promise<void> } {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ sampler: new NameSampler(), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  return {
    tracer: trace.getTracer('audit-test'),
    exporter,
    stop: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}

/** Collects diag messages while `fn` runs. */
export function captureDiag<T>(fn: () => T): { result: T; messages: string[] } {
  const messages: string[] = [];
  const push = (m: string) => messages.push(m);
  const logger: DiagLogger = { error: push, warn: push, info: push, debug: push, verbose: push };
  diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  try {
    return { result: fn(), messages };
  } finally {
    diag.disable();
  }
}

