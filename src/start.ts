/**
 * `start()`: the one place that wires OpenTelemetry. Every SDK import lives
 * here or in instrumentation/, so moving to SDK 3.x is a contained change.
 */
import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, ConsoleSpanExporter, ParentBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ConfigError } from './config/ConfigError';
import { loadConfig } from './config/loadConfig';
import type { CvdActivityConfig, CvdActivityOptions, LogLevel } from './config/types';
import { ActivitySpanProcessor } from './instrumentation/ActivitySpanProcessor';
import { ClientAddress } from './instrumentation/ClientAddress';
import { installExitHandlers } from './instrumentation/exitHandlers';
import { EmitterContextManager } from './instrumentation/EmitterContextManager';
import { createHttpInstrumentation } from './instrumentation/httpInstrumentation';
import type { NoiseRule } from './instrumentation/NoiseRule';
import { NoiseRules } from './instrumentation/NoiseRules';
import { NoiseSampler } from './instrumentation/NoiseSampler';
import { QueryRedactor } from './instrumentation/QueryRedactor';
import { installRequestPatches } from './instrumentation/requestState';
import { buildStartParts } from './startParts';
import type { LifecycleParticipant, StartParts } from './startParts';

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
      // Protobuf encodes straight into a buffer: less garbage per span than JSON.
      : new OTLPProtobufTraceExporter({ url: config.otlpTracesEndpoint });
  return new BatchSpanProcessor(exporter);
}

async function settleAll(participants: readonly LifecycleParticipant[], op: 'forceFlush' | 'shutdown'): Promise<void> {
  await Promise.all(participants.map((p) => p[op]().catch((err: unknown) => diag.error(`cvd-activity: ${p.name} ${op} failed`, err))));
}

function startSdk(config: CvdActivityConfig, noiseRules: readonly NoiseRule[]): ActivityHandle {
  const redactor = new QueryRedactor(config.redaction.queryParams);
  const noise = new NoiseRules(config.noise, noiseRules);
  const activity = new ActivitySpanProcessor(redactor);

  let parts: StartParts = { spanProcessors: [], participants: [] };
  try {
    parts = buildStartParts(config);
  } catch (err) {
    reportStartFailure(err, 'tracing runs without it');
  }
  const exporter = exporterProcessor(config);
  // Enrichment first (its onEnding runs before anyone's onEnd), the exporter last.
  const processors: SpanProcessor[] = [activity, ...parts.spanProcessors, ...(exporter ? [exporter] : [])];

  installRequestPatches({ clientAddress: new ClientAddress(config.trustProxy), noise });
  const sdk = new NodeSDK({
    resource: defaultResource().merge(resourceFromAttributes({ ...config.resourceAttributes, 'service.name': config.serviceName })),
    autoDetectResources: false,
    contextManager: new EmitterContextManager(),
    instrumentations: [createHttpInstrumentation({ redactor, processor: activity })],
    sampler: new ParentBasedSampler({ root: new NoiseSampler(noise, config.noise.sampleRatio) }),
    spanProcessors: processors,
    // No metrics or logs pipelines: without these, sdk-node builds OTLP ones from env defaults.
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

  const forceFlush = async (): Promise<void> => {
    activity.dirty = false;
    await Promise.all(processors.map((p) => p.forceFlush().catch((err: unknown) => diag.error('cvd-activity: span flush failed', err))));
    await settleAll(parts.participants, 'forceFlush');
  };
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      uninstallExitHandlers();
      await sdk.shutdown().catch((err: unknown) => diag.error('cvd-activity: SDK shutdown failed', err));
      await settleAll(parts.participants, 'shutdown');
      installRequestPatches(null);
    })();
    return stopping;
  };
  const uninstallExitHandlers = installExitHandlers({
    timeoutMs: config.shutdownTimeoutMs,
    flush: forceFlush,
    shutdown,
    hasPending: () => activity.dirty,
  });
  return { config, active: true, forceFlush, shutdown };
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
    if (config.logLevel !== 'none') {
      diag.setLogger(new DiagConsoleLogger(), { logLevel: LEVELS[config.logLevel], suppressOverrideMessage: true });
    }
    handle = config.disabled ? noopHandle(config) : startSdk(config, noiseRules);
  } catch (err) {
    reportStartFailure(err, 'the app runs without activity tracking');
    handle = noopHandle(null);
  }
  g[kHandle] = handle;
  return handle;
}
