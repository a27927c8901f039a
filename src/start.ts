/**
 * `start()`: the one place that wires OpenTelemetry. Every SDK import lives
 * here or in instrumentation/, so moving to SDK 3.x is a contained change.
 */
import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import { getNumberFromEnv } from '@opentelemetry/core';
import { OTLPMetricExporter as OTLPJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OTLPProtobufMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, ConsoleSpanExporter, ParentBasedSampler } from '@opentelemetry/sdk-trace';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { ConfigError } from './config/ConfigError';
import { fallbackConfig, loadConfig } from './config/loadConfig';
import type { CvdActivityConfig, CvdActivityOptions, LogLevel } from './config/types';
import { ActivitySpanProcessor } from './instrumentation/ActivitySpanProcessor';
import { observeActivityCounters } from './instrumentation/activityMetrics';
import { ClientAddress } from './instrumentation/ClientAddress';
import { installExitHandlers } from './instrumentation/exitHandlers';
import { EmitterContextManager } from './instrumentation/EmitterContextManager';
import { createHttpInstrumentation } from './instrumentation/httpInstrumentation';
import type { NoiseRule } from './instrumentation/NoiseRule';
import { NoiseRules } from './instrumentation/NoiseRules';
import { NoiseSampler } from './instrumentation/NoiseSampler';
import { QueryRedactor } from './instrumentation/QueryRedactor';
import { installRequestPatches } from './instrumentation/requestState';
import { APP_SDK_FIRST_MESSAGE, SdkConflictLogger, tracerProviderRegistered } from './instrumentation/sdkOwnership';
import { activityCounters, CountingSpanExporter } from './instrumentation/stats';
import type { ActivityCounters } from './instrumentation/stats';
import { installedAuditRecorder } from './audit/audit';
import { buildSpoolOnlyParts, buildStartParts } from './startParts';
import type { LifecycleParticipant, StartParts, StartPartsBuilder } from './startParts';

/** What start() returns: flush and stop what it started. */
export interface ActivityHandle {
  /** The validated configuration; null when start-up failed and the app runs uninstrumented. */
  readonly config: CvdActivityConfig | null;
  /** Whether spans are being recorded (false when disabled or the config was invalid). */
  readonly active: boolean;
  /** Exports every finished span and flushes every participant (audit pipeline). */
  forceFlush(): Promise<void>;
  /** Flushes and stops; idempotent. The process-wide SDK cannot be started again afterwards. */
  shutdown(): Promise<void>;
}

/** Options of start(): any configuration key (highest precedence) plus code-only hooks. */
export type StartOptions = CvdActivityOptions & {
  /** Noise rules tried before the configured lists; a throwing rule is reported once via diag and skipped. */
  noiseRules?: NoiseRule[];
};

const kHandle = Symbol.for('cvd-activity.handle');
type GlobalWithHandle = typeof globalThis & { [kHandle]?: ActivityHandle };

const LEVELS: Record<LogLevel, DiagLogLevel> = {
  none: DiagLogLevel.NONE, error: DiagLogLevel.ERROR, warn: DiagLogLevel.WARN, info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG, verbose: DiagLogLevel.VERBOSE, all: DiagLogLevel.ALL,
};

function noopHandle(config: CvdActivityConfig | null): ActivityHandle {
  return { config, active: false, forceFlush: () => Promise.resolve(), shutdown: () => Promise.resolve() };
}

/** After an invalid configuration: audit events spooled (the valid settings, the rest defaults), no database. */
function startFallbackAudit(options: CvdActivityOptions): ActivityHandle {
  try {
    const config = fallbackConfig(options);
    const handle = startAuditOnly(config, buildSpoolOnlyParts);
    return { ...handle, config: null };
  } catch (err) {
    reportStartFailure(err, 'audit events are not recorded');
    return noopHandle(null);
  }
}

/** diag to the console at the configured level (or off), behind the watch for a later second SDK. */
function installDiagLogger(config: CvdActivityConfig): void {
  const console = config.logLevel === 'none' ? null : new DiagConsoleLogger();
  const logLevel = SdkConflictLogger.installLevel(LEVELS[config.logLevel]);
  diag.setLogger(new SdkConflictLogger(console), { logLevel, suppressOverrideMessage: true });
}

/** One line on stderr: the app keeps running, uninstrumented or without the failed part. */
function reportStartFailure(err: unknown, consequence: string): void {
  const message = err instanceof ConfigError ? err.message : `cvd-activity: ${(err as Error)?.message ?? String(err)}`;
  process.stderr.write(`${message}; ${consequence}\n`.replace(/[\r\n]+(?=.)/g, ' '));
}

function exporterProcessor(config: CvdActivityConfig): SpanProcessor | null {
  if (config.tracesExporter === 'none') return null;
  const exporter = config.tracesExporter === 'console'
    ? new ConsoleSpanExporter()
    : config.otlpProtocol === 'http/json'
      ? new OTLPJsonTraceExporter({ url: config.otlpTracesEndpoint })
      // Protobuf (the OTLP default) encodes straight into a buffer: much less
      // CPU and garbage per span than the JSON of exporter-trace-otlp-http.
      : new OTLPProtobufTraceExporter({ url: config.otlpTracesEndpoint });
  return new BatchSpanProcessor({ exporter: new CountingSpanExporter(exporter), ...batchOptionsFromEnv() });
}

/**
 * OTEL_BSP_* (documented as still applying): the 3.x BatchSpanProcessor no
 * longer reads them itself, only sdk-node's env-built processor does, and we
 * build ours. Unset or invalid values leave the processor's defaults.
 */
function batchOptionsFromEnv(): { maxQueueSize?: number; maxExportBatchSize?: number; scheduledDelayMillis?: number; exportTimeoutMillis?: number } {
  const read = (name: string): number | undefined => {
    const value = getNumberFromEnv(name);
    return value !== undefined && value >= 0 ? value : undefined;
  };
  return {
    maxQueueSize: read('OTEL_BSP_MAX_QUEUE_SIZE'),
    maxExportBatchSize: read('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
    scheduledDelayMillis: read('OTEL_BSP_SCHEDULE_DELAY'),
    exportTimeoutMillis: read('OTEL_BSP_EXPORT_TIMEOUT'),
  };
}

/**
 * The activity counters as OTLP metrics, on a MeterProvider of our own that is
 * deliberately NOT registered globally: instrumentation-http then keeps the
 * no-op meter and records no per-request duration histogram (its cost would
 * land on every request; span metrics in the Collector give latencies anyway).
 */
function activityMetricsParticipant(config: CvdActivityConfig, resource: Resource): LifecycleParticipant | null {
  if (config.metricsExporter === 'none') return null;
  const exporter = config.otlpProtocol === 'http/json'
    ? new OTLPJsonMetricExporter({ url: config.otlpMetricsEndpoint })
    : new OTLPProtobufMetricExporter({ url: config.otlpMetricsEndpoint });
  const interval = config.metricsExportIntervalMs;
  const provider = new MeterProvider({
    resource,
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: interval, exportTimeoutMillis: Math.min(interval, 30000) })],
  });
  observeActivityCounters(provider.getMeter('cvd-activity'));
  return { name: 'activity metrics', forceFlush: () => provider.forceFlush(), shutdown: () => provider.shutdown() };
}

async function settleAll(participants: readonly LifecycleParticipant[], op: 'forceFlush' | 'shutdown'): Promise<void> {
  await Promise.all(participants.map((p) => p[op]().catch((err: unknown) => diag.error(`cvd-activity: ${p.name} ${op} failed`, err))));
}

/** The audit parts of start(); a failure is reported in one line and the rest still starts. */
function auditParts(config: CvdActivityConfig, build: StartPartsBuilder): StartParts {
  try {
    return build(config);
  } catch (err) {
    reportStartFailure(err, 'audit events are not recorded');
    return { spanProcessors: [], participants: [] };
  }
}

/**
 * Flush and shutdown over span processors and participants, bound to exit
 * signals and beforeExit. `stop` is the SDK's shutdown when there is one.
 */
function lifecycle(config: CvdActivityConfig, processors: readonly SpanProcessor[], parts: StartParts, activity: ActivitySpanProcessor | null, stop: () => Promise<void>): ActivityHandle {
  const forceFlush = async (): Promise<void> => {
    if (activity) activity.dirty = false;
    await Promise.all(processors.map((p) => p.forceFlush().catch((err: unknown) => diag.error('cvd-activity: span flush failed', err))));
    await settleAll(parts.participants, 'forceFlush');
  };
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      uninstallExitHandlers();
      // The recorder closes first: the SDK's shutdown closes the audit pipeline
      // (a span processor), and a record() reaching a closed pipeline would
      // throw into the app; a closed recorder reports it instead (lenient mode).
      const [recorders, others] = [parts.participants.filter((p) => p.closesIntake), parts.participants.filter((p) => !p.closesIntake)];
      await settleAll(recorders, 'shutdown');
      await stop().catch((err: unknown) => diag.error('cvd-activity: shutdown failed', err));
      await settleAll(others, 'shutdown');
      installRequestPatches(null);
    })();
    return stopping;
  };
  const uninstallExitHandlers = installExitHandlers({
    timeoutMs: config.shutdownTimeoutMs,
    flush: forceFlush,
    shutdown,
    hasPending: () => activity?.dirty === true || parts.participants.some((p) => p.hasPending?.() === true),
  });
  return { config, active: activity !== null, forceFlush, shutdown };
}

/** Whether any proxy may name the client (trustProxy is a hop count above 0 or a non-empty CIDR list). */
function trustsProxies(config: CvdActivityConfig): boolean {
  const trust = config.trustProxy;
  return typeof trust === 'number' ? trust > 0 : Array.isArray(trust) && trust.length > 0;
}

function startSdk(config: CvdActivityConfig, noiseRules: readonly NoiseRule[]): ActivityHandle {
  const redactor = new QueryRedactor(config.redaction.queryParams);
  const noise = new NoiseRules(config.noise, noiseRules);
  const activity = new ActivitySpanProcessor(redactor);
  const parts = auditParts(config, buildStartParts);
  const resource = defaultResource().merge(resourceFromAttributes({ ...config.resourceAttributes, 'service.name': config.serviceName }));
  const metrics = activityMetricsParticipant(config, resource);
  // Flushed with the audit participants (after the span processors) and shut down after the SDK.
  if (metrics) parts.participants.push(metrics);
  const exporter = exporterProcessor(config);
  // Enrichment first (its onEnding runs before anyone's onEnd), the exporter last.
  const processors: SpanProcessor[] = [activity, ...parts.spanProcessors, ...(exporter ? [exporter] : [])];

  installRequestPatches({ clientAddress: new ClientAddress(config.trustProxy), noise });
  // NodeSDK's constructor installs a logger from OTEL_LOG_LEVEL and warns when it
  // replaces one; startSync() puts ours back after start().
  diag.disable();
  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    contextManager: new EmitterContextManager(),
    instrumentations: [createHttpInstrumentation({ redactor, processor: activity, trustsProxies: trustsProxies(config) })],
    sampler: new ParentBasedSampler({ root: new NoiseSampler(noise, config.noise.sampleRatio) }),
    spanProcessors: processors,
    // No SDK metrics or logs pipelines (without these, sdk-node builds OTLP ones
    // from env defaults and registers a global MeterProvider, which would turn
    // on instrumentation-http's per-request histogram). Ours is above.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  // instrumentation-http patches http/https when they are next require()d. An
  // app that loaded them before start() — every ESM app calling start() from
  // code, whose imports are hoisted — would otherwise never get server spans.
  // Requiring them here patches the shared Server prototypes for everyone.
  require('http');
  require('https');
  return lifecycle(config, processors, parts, activity, () => sdk.shutdown());
}

/**
 * Audit without tracing: OTEL_SDK_DISABLED turns OpenTelemetry off, not the
 * audit trail, and an invalid configuration still keeps every audit event
 * (spooled in the configured folder when that setting is valid, no database)
 * for a correctly configured start to drain. Requests still open the request context for the actor.
 */
function startAuditOnly(config: CvdActivityConfig, build: StartPartsBuilder): ActivityHandle {
  const parts = auditParts(config, build);
  installRequestPatches({ clientAddress: new ClientAddress(config.trustProxy), noise: new NoiseRules(config.noise, []) });
  return lifecycle(config, parts.spanProcessors, parts, null, () => Promise.resolve());
}

/**
 * The app started its own SDK first: a second one would not get the globals,
 * so only the audit trail starts (its events take the app's trace context).
 */
function startBesideAppSdk(config: CvdActivityConfig): ActivityHandle {
  process.stderr.write(`${APP_SDK_FIRST_MESSAGE}\n`);
  return startAuditOnly(config, buildStartParts);
}

/**
 * Starts activity tracking once per process: http spans with noise rules,
 * enrichment and redaction, exported over OTLP/HTTP, flushed on exit. A second
 * call is a no-op (diag warning) returning the first handle. An invalid
 * configuration prints one line on stderr and returns a no-op handle.
 */
export function start(options: StartOptions = {}): Promise<ActivityHandle> {
  return Promise.resolve(startSync(options));
}

/** start() without the promise, for the register entry points. */
export function startSync(options: StartOptions = {}): ActivityHandle {
  const g = globalThis as GlobalWithHandle;
  const existing = g[kHandle];
  if (existing !== undefined) {
    diag.warn('cvd-activity: start() called again; the SDK is already started, returning the existing handle');
    return existing;
  }
  const { noiseRules = [], ...configOptions } = options;
  let handle: ActivityHandle;
  try {
    const config = loadConfig(configOptions);
    // Before the parts are built, or their start-up warnings (no database
    // configured: audit events stay on disk) go to the no-op logger unseen.
    installDiagLogger(config);
    handle = config.disabled ? startAuditOnly(config, buildStartParts)
      : tracerProviderRegistered() ? startBesideAppSdk(config)
        : startSdk(config, noiseRules);
    // Again after the SDK: NodeSDK installs its own logger from OTEL_LOG_LEVEL;
    // ours (which also honours the file and start() options) replaces it silently.
    installDiagLogger(config);
  } catch (err) {
    reportStartFailure(err, 'the app runs without activity tracking; audit events are kept in the spool folder until a valid configuration starts');
    handle = startFallbackAudit(configOptions);
  }
  g[kHandle] = handle;
  return handle;
}

/** What this process's tracking did since start(): requests, span fates, audit events. */
export interface ActivityStats extends ActivityCounters {
  /** Audit events accepted into the spool (or the installed sink). */
  auditEventsRecorded: number;
}

/** Counters of this process since start(), for summaries and health endpoints. */
export function getActivityStats(): ActivityStats {
  return { ...activityCounters, auditEventsRecorded: installedAuditRecorder()?.accepted ?? 0 };
}
