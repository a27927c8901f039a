/**
 * `start()`: the one place that wires OpenTelemetry (with startExporters.ts
 * and startLifecycle.ts beside it). Every SDK import lives in these files or
 * in instrumentation/.
 */
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ParentBasedSampler } from '@opentelemetry/sdk-trace';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { ConfigError } from './config/ConfigError';
import { fallbackConfig, loadConfig } from './config/loadConfig';
import type { CvdActivityConfig, CvdActivityOptions, LogLevel } from './config/types';
import { ActivitySpanProcessor } from './instrumentation/ActivitySpanProcessor';
import { ClientAddress } from './instrumentation/ClientAddress';
import { EmitterContextManager } from './instrumentation/EmitterContextManager';
import { StderrDiagLogger } from './instrumentation/StderrDiagLogger';
import { createHttpInstrumentation } from './instrumentation/httpInstrumentation';
import type { NoiseRule } from './instrumentation/NoiseRule';
import { NoiseRules } from './instrumentation/NoiseRules';
import { NoiseSampler } from './instrumentation/NoiseSampler';
import { QueryRedactor } from './instrumentation/QueryRedactor';
import { RouteInstrumentation } from './instrumentation/routes/RouteInstrumentation';
import { installRequestPatches } from './instrumentation/requestState';
import { APP_SDK_FIRST_MESSAGE, SdkConflictLogger, tracerProviderRegistered } from './instrumentation/sdkOwnership';
import { activityCounters } from './instrumentation/stats';
import type { ActivityCounters } from './instrumentation/stats';
import { installedAuditRecorder } from './audit/audit';
import { buildSpoolOnlyParts, buildStartParts } from './startParts';
import type { StartParts, StartPartsBuilder } from './startParts';
import { activityMetricsParticipant, exportParts } from './startExporters';
import { lifecycle } from './startLifecycle';
import type { ActivityHandle } from './startLifecycle';

export type { ActivityHandle } from './startLifecycle';

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

/** diag to stderr (never the app's stdout) at the configured level (or off), behind the watch for a later second SDK. */
function installDiagLogger(config: CvdActivityConfig): void {
  const stderr = config.logLevel === 'none' ? null : new StderrDiagLogger();
  const logLevel = SdkConflictLogger.installLevel(LEVELS[config.logLevel]);
  diag.setLogger(new SdkConflictLogger(stderr), { logLevel, suppressOverrideMessage: true });
}

/** One line on stderr: the app keeps running, uninstrumented or without the failed part. */
function reportStartFailure(err: unknown, consequence: string): void {
  const message = err instanceof ConfigError ? err.message : `cvd-activity: ${(err as Error)?.message ?? String(err)}`;
  process.stderr.write(`${message}; ${consequence}\n`.replace(/[\r\n]+(?=.)/g, ' '));
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

/** Whether any proxy may name the client (trustProxy is a hop count above 0 or a non-empty CIDR list). */
function trustsProxies(config: CvdActivityConfig): boolean {
  const trust = config.trustProxy;
  return typeof trust === 'number' ? trust > 0 : Array.isArray(trust) && trust.length > 0;
}

/**
 * The server is the edge: a client's `traceparent` (a browser page sends one)
 * links the span into the caller's trace but must not decide whether the
 * request is recorded. With ParentBasedSampler's defaults a flag of 00 would
 * hide the request from activity tracking and 01 would force polling noise in,
 * so remote parents go through the noise rules like roots; local children
 * follow their parent.
 */
function edgeSampler(noise: NoiseSampler): ParentBasedSampler {
  return new ParentBasedSampler({ root: noise, remoteParentSampled: noise, remoteParentNotSampled: noise });
}

/** Runs `fn` with the environment variable `name` hidden, then puts it back. */
function withoutEnv<T>(name: string, fn: () => T): T {
  const saved = process.env[name];
  delete process.env[name];
  try {
    return fn();
  } finally {
    if (saved !== undefined) process.env[name] = saved;
  }
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
  const exporter = exportParts(config);
  // Enrichment first (its onEnding runs before anyone's onEnd), the exporter last.
  const processors: SpanProcessor[] = [activity, ...parts.spanProcessors, ...(exporter ? [exporter.processor] : [])];

  installRequestPatches({ clientAddress: new ClientAddress(config.trustProxy, config.proxyHeader), noise });
  // NodeSDK's constructor replaces the diag logger with a console one (stdout for
  // info/debug) when OTEL_LOG_LEVEL is set; ours, installed from the same setting, stays.
  const sdk = withoutEnv('OTEL_LOG_LEVEL', () => new NodeSDK({
    resource,
    autoDetectResources: false,
    contextManager: new EmitterContextManager(),
    instrumentations: [createHttpInstrumentation({ redactor, processor: activity, trustsProxies: trustsProxies(config) }), new RouteInstrumentation()],
    sampler: edgeSampler(new NoiseSampler(noise, config.noise.sampleRatio)),
    spanProcessors: processors,
    // No SDK metrics or logs pipelines (without these, sdk-node builds OTLP ones
    // from env defaults and registers a global MeterProvider, which would turn
    // on instrumentation-http's per-request histogram). Ours is above.
    metricReaders: [],
    logRecordProcessors: [],
  }));
  sdk.start();
  // instrumentation-http patches http/https when they are next require()d. An
  // app that loaded them before start() — every ESM app calling start() from
  // code, whose imports are hoisted — would otherwise never get server spans.
  // Requiring them here patches the shared Server prototypes for everyone.
  require('http');
  require('https');
  return lifecycle({ config, processors, parts, tracing: { activity, exit: exporter?.exit ?? null }, stop: () => sdk.shutdown() });
}

/**
 * Audit without tracing: OTEL_SDK_DISABLED turns OpenTelemetry off, not the
 * audit trail, and an invalid configuration still keeps every audit event
 * (spooled in the configured folder when that setting is valid, no database)
 * for a correctly configured start to drain. Requests still open the request context for the actor.
 */
function startAuditOnly(config: CvdActivityConfig, build: StartPartsBuilder): ActivityHandle {
  const parts = auditParts(config, build);
  installRequestPatches({ clientAddress: new ClientAddress(config.trustProxy, config.proxyHeader), noise: new NoiseRules(config.noise, []) });
  return lifecycle({ config, processors: parts.spanProcessors, parts, tracing: null, stop: () => Promise.resolve() });
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
