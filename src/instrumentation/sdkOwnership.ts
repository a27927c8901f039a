/**
 * Who owns OpenTelemetry's process-wide globals when the app also starts an
 * SDK of its own. The API keeps one tracer provider per process and refuses a
 * second registration (only a diag error), so two SDKs never both work: the
 * later one's processors and exporters get nothing. The SDK 3.x
 * tracer provider takes its span processors only in its constructor, so ours
 * cannot be attached to the app's; instead each case gets one stderr line that
 * says what happens and what to do (docs/opentelemetry.md).
 */
import { DiagLogLevel } from '@opentelemetry/api';
import type { DiagLogger } from '@opentelemetry/api';

/** The line when the app's SDK was registered first: cvd-activity starts no SDK, the audit trail still runs. */
export const APP_SDK_FIRST_MESSAGE = 'cvd-activity: the app registered its own OpenTelemetry tracer provider before cvd-activity started, so cvd-activity starts no second SDK: '
  + 'audit events are recorded (on the app\'s traces) but cvd-activity\'s activity spans are not; '
  + 'to get them, remove the app\'s own SDK start and let cvd-activity export (OTEL_* and CVD_ACTIVITY_* settings)';

/** The line when the app starts an SDK after ours: the API refused its globals. */
export const APP_SDK_LATER_MESSAGE = 'cvd-activity: the app started a second OpenTelemetry SDK after cvd-activity; the OpenTelemetry API keeps cvd-activity\'s globals and refused the second SDK\'s, '
  + 'so its span processors and exporters receive no spans (cvd-activity\'s export them all); '
  + 'remove the app\'s own SDK start, or start it before cvd-activity (then cvd-activity records audit events only)';

// The API's own global registry key (one per API major version); both its CJS and ESM builds use it.
const kGlobalApi = Symbol.for('opentelemetry.js.api.1');
// What the API logs for each global (trace, context, propagation, logs, metrics) a
// second SDK tries to register (api/src/internal/global-utils.ts).
const DUPLICATE_REGISTRATION = 'Attempted duplicate registration of API: ';

/** Whether a tracer provider is already registered globally (the app, or a library, started an SDK). */
export function tracerProviderRegistered(): boolean {
  const registry = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[kGlobalApi];
  return registry?.trace !== undefined;
}

/**
 * A diag logger in front of ours that turns the API's refusals of a later
 * SDK's globals into APP_SDK_LATER_MESSAGE on stderr (once), at any
 * configured log level: they are otherwise one stack trace per global in
 * diag, or nothing at all with logging off.
 */
export class SdkConflictLogger implements DiagLogger {
  private reported = false;

  /** `inner` receives everything else (null when logging is off). */
  constructor(private readonly inner: DiagLogger | null) {}

  /** The level to install this logger at: at least ERROR, so the refusal always reaches it. */
  static installLevel(configured: DiagLogLevel): DiagLogLevel {
    return Math.max(configured, DiagLogLevel.ERROR);
  }

  error(message: string, ...args: unknown[]): void {
    if (message.includes(DUPLICATE_REGISTRATION)) {
      if (!this.reported) process.stderr.write(`${APP_SDK_LATER_MESSAGE}\n`);
      this.reported = true;
      return;
    }
    this.inner?.error(message, ...args);
  }

  warn(message: string, ...args: unknown[]): void {
    this.inner?.warn(message, ...args);
  }

  info(message: string, ...args: unknown[]): void {
    this.inner?.info(message, ...args);
  }

  debug(message: string, ...args: unknown[]): void {
    this.inner?.debug(message, ...args);
  }

  verbose(message: string, ...args: unknown[]): void {
    this.inner?.verbose(message, ...args);
  }
}
