/**
 * What start() hands back: flush and shutdown over the span processors and the
 * audit participants, bound to exit signals, beforeExit and process.exit()
 * (spans left at exit are sent synchronously), in the order that keeps
 * record() from throwing into the app while it shuts down.
 */
import { diag } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { CvdActivityConfig } from './config/types';
import type { ActivitySpanProcessor } from './instrumentation/ActivitySpanProcessor';
import { installExitHandlers } from './instrumentation/exitHandlers';
import type { ExitSpanExporter } from './instrumentation/ExitSpanExporter';
import { installRequestPatches } from './instrumentation/requestState';
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

/** What lifecycle() drives besides the audit parts when tracing runs. */
export interface Tracing {
  activity: ActivitySpanProcessor;
  exit: ExitSpanExporter | null;
}

async function settleAll(participants: readonly LifecycleParticipant[], op: 'forceFlush' | 'shutdown'): Promise<void> {
  await Promise.all(participants.map((p) => p[op]().catch((err: unknown) => diag.error(`cvd-activity: ${p.name} ${op} failed`, err))));
}

/** Sends every span left before returning (the process may end right after); first ends open requests when it ends. */
function flushSync(config: CvdActivityConfig, processors: readonly SpanProcessor[], tracing: Tracing | null, ending: { fatal: unknown } | null): void {
  if (ending !== null) tracing?.activity.endOpenSpans(ending.fatal);
  // forceFlush hands each queue to its exporter in the same tick; the promises are not awaited.
  const flushQueues = (): void => processors.forEach((p) => void p.forceFlush().catch(() => undefined));
  const sent = tracing?.exit?.drainSync(flushQueues, config.shutdownTimeoutMs);
  if (sent === -1) diag.warn(`cvd-activity: the spans left at exit could not be sent to ${config.otlpTracesEndpoint} within ${config.shutdownTimeoutMs} ms`);
}

/** One stderr line when audit events this process accepted are not in the database yet: how many, and where they wait. */
function reportUnstoredAudit(parts: StartParts): void {
  const left = parts.unstoredAudit?.();
  if (left === undefined || left.count <= 0) return;
  process.stderr.write(`cvd-activity: ${left.count} audit event(s) not yet stored in the database at exit; kept in the spool ${left.dir} for the next process started with that folder to store\n`);
}

/** What lifecycle() binds together. */
export interface LifecycleOptions {
  config: CvdActivityConfig;
  /** Every span processor, in the SDK's order. */
  processors: readonly SpanProcessor[];
  parts: StartParts;
  /** Null when no spans are recorded (SDK disabled, app's own SDK, invalid configuration). */
  tracing: Tracing | null;
  /** The SDK's shutdown, when there is one. */
  stop: () => Promise<void>;
}

/**
 * Flush and shutdown over span processors and participants, bound to exit
 * signals and beforeExit.
 */
export function lifecycle({ config, processors, parts, tracing, stop }: LifecycleOptions): ActivityHandle {
  const activity = tracing?.activity ?? null;
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
    flushSync: (ending) => flushSync(config, processors, tracing, ending),
    reportUnstored: () => reportUnstoredAudit(parts),
  });
  return { config, active: activity !== null, forceFlush, shutdown };
}
