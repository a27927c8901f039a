/**
 * The recorder: turns `record()` calls into AuditEvents and hands each to the
 * installed AuditSink, synchronously, without I/O. Built from the validated
 * config and the sink in start(); the `audit` facade delegates to it.
 */
import { TraceFlags, context, diag, isSpanContextValid, trace } from '@opentelemetry/api';
import { v7 as uuidv7 } from 'uuid';
import type { AuditConfig, RedactionConfig } from '../config/types';
import type { ActionDefinition, ActionRegistry, RegisteredAction } from './ActionRegistry';
import { defaultActionRegistry } from './ActionRegistry';
import { buildEvent } from './buildEvent';
import type { BuildSettings, CallCapture } from './buildEvent';
import { currentRequestContext } from './context';
import { AuditShutdownError, AuditValidationError, formatFieldError } from './errors';
import { FailedLogins } from './FailedLogins';
import { closeMirrorTarget, mirrorEvent, openMirrorTarget } from './mirror';
import type { MirrorTarget } from './mirror';
import { Redactor } from './redact';
import type { AuditEvent, AuditSink } from './types';

/** The parts of CvdActivityConfig the recorder reads. */
export interface AuditRecorderConfig {
  serviceName: string;
  audit: AuditConfig;
  redaction: Pick<RedactionConfig, 'fields'>;
}

/** Options of `createAuditRecorder`. */
export interface AuditRecorderOptions {
  config: AuditRecorderConfig;
  /** Receives every accepted event (the Postgres pipeline, or a MemoryAuditSink). */
  sink: AuditSink;
  /** Actions known; defaults to the process-wide registry (built-ins + defineAction()). */
  registry?: ActionRegistry;
  /** Clock for the failed-login window (ms); tests replace it. */
  now?: () => number;
}

/** Fields of a failed login, as `audit.loginFailed()` takes them. */
export interface LoginFailedInput {
  /** The user name that was tried (personal data: stored apart, HMAC'd in the chain). */
  username: string;
  /** Why it failed (`bad_password`, `unknown_user`, `locked`, …). */
  reason?: string;
  /** Overrides the request's client address (e.g. a login handled off-request). */
  clientAddress?: string;
}

/** Records audit events for one running instance of cvd-activity. */
export class AuditRecorder {
  /** Name shown when flushing or shutting it down fails (start()'s lifecycle participants). */
  readonly name = 'cvd-activity audit recorder';
  readonly registry: ActionRegistry;
  private readonly sink: AuditSink;
  private readonly config: AuditRecorderConfig;
  private readonly settings: BuildSettings;
  private readonly failedLogins: FailedLogins;
  private readonly warnedActions = new Set<string>();
  private closed = false;
  /** Events the sink accepted (getActivityStats().auditEventsRecorded). */
  accepted = 0;
  private shutdownPromise: Promise<void> | undefined;

  constructor(options: AuditRecorderOptions) {
    this.config = options.config;
    this.sink = options.sink;
    this.registry = options.registry ?? defaultActionRegistry();
    this.settings = { serviceName: options.config.serviceName, maxFieldBytes: options.config.audit.maxFieldBytes, redactor: new Redactor(options.config.redaction.fields) };
    const { loginFailedWindowMs: windowMs, loginMaxAttempts: maxAttempts } = options.config.audit;
    this.failedLogins = new FailedLogins({ windowMs, maxAttempts, now: options.now });
  }

  /** Records one event and returns its id. Strict mode throws AuditValidationError on bad input. */
  record(action: string, fields?: unknown): string {
    const mode = this.config.audit.mirror;
    if (this.closed) return this.afterShutdown(action, fields, captureCall());
    let target: MirrorTarget = { span: undefined, own: false };
    try {
      if (mode !== 'none') target = this.safely(() => openMirrorTarget(mode, action), target);
      const capture = captureCall(target);
      const event = this.build(action, fields, capture, this.config.audit.strict);
      this.deliver(event);
      if (mode !== 'none') this.safely(() => mirrorEvent(mode, event, target), undefined);
      return event.eventId;
    } finally {
      if (target.own) this.safely(() => closeMirrorTarget(target), undefined);
    }
  }

  /** Records LOGIN_FAILED with attempt counts per username and per client address over the sliding window. */
  loginFailed(input: LoginFailedInput): string {
    return this.record('LOGIN_FAILED', this.failedLogins.fields(input, currentRequestContext()?.clientAddress ?? null));
  }

  /** Adds an app's own action to this recorder's registry. */
  defineAction(definition: ActionDefinition): RegisteredAction {
    return this.registry.define(definition);
  }

  /** Builds events captured before this recorder existed (pre-start buffer) and enqueues them; never throws. */
  replay(action: string, fields: unknown, capture: CallCapture): void {
    try {
      this.deliver(this.build(action, fields, capture, false));
    } catch (err) {
      diag.error(`cvd-activity: audit event ${capture.eventId} (${action}) recorded before start() could not be replayed: ${String(err)}`);
    }
  }

  /** Resolves when the sink has stored everything recorded so far. */
  forceFlush(): Promise<void> {
    return this.sink.forceFlush();
  }

  /** Stops accepting events, then shuts the sink down. Idempotent. */
  shutdown(): Promise<void> {
    this.closed = true;
    return (this.shutdownPromise ??= this.sink.shutdown());
  }

  /** True once shutdown() was called. */
  get isShutdown(): boolean {
    return this.closed;
  }

  private build(action: string, fields: unknown, capture: CallCapture, strict: boolean): AuditEvent {
    let built: ReturnType<typeof buildEvent>;
    try {
      const registered = this.registry.get(action);
      const hint = registered ? undefined : this.registry.suggest(action);
      built = buildEvent({ name: action, action: registered, fields, capture, hint }, this.settings);
    } catch (err) {
      // A bug of ours must not cost the app its event: keep what is certain, say what failed.
      if (strict) throw err;
      built = buildEvent({ name: String(action), action: undefined, fields: { details: { _unprocessable: String(err) } }, capture }, this.settings);
    }
    const { event, errors, unknownAction } = built;
    if (errors.length > 0) {
      if (strict) throw new AuditValidationError(unknownAction ? 'ERR_AUDIT_UNKNOWN_ACTION' : 'ERR_AUDIT_INVALID_EVENT', action, errors);
      event.schemaErrors = errors.map(formatFieldError);
      if (!this.warnedActions.has(action) && this.warnedActions.size < 1000) {
        this.warnedActions.add(action);
        diag.warn(`cvd-activity: audit event ${action} kept but marked schema-invalid (further ones of this action are not reported): ${event.schemaErrors.join('; ')}`);
      }
    }
    return event;
  }

  // A sink that refuses an event (spool full, disk error) means the event was
  // NOT accepted: record() says so by throwing the sink's typed error, in both
  // modes, instead of returning an id for an event that will never be stored.
  private deliver(event: AuditEvent): void {
    try {
      this.sink.enqueue(event);
    } catch (err) {
      diag.error(`cvd-activity: the audit sink refused event ${event.eventId} (${event.action}): ${String(err)}`);
      throw err;
    }
    this.accepted++;
  }

  // Never lose an event silently: strict mode throws; lenient mode reports the
  // whole (already redacted) event through diag and a process warning, which
  // Node prints to stderr by default.
  private afterShutdown(action: string, fields: unknown, capture: CallCapture): string {
    if (this.config.audit.strict) throw new AuditShutdownError(action);
    let json = '';
    try {
      json = JSON.stringify(this.build(action, fields, capture, false));
    } catch {
      json = JSON.stringify({ eventId: capture.eventId, action });
    }
    const message = `cvd-activity: audit.record('${action}'): cannot record after shutdown; event not stored: ${json}`;
    diag.error(message);
    process.emitWarning(message, { code: 'CVD_AUDIT_AFTER_SHUTDOWN' });
    return capture.eventId;
  }

  private safely<T>(fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (err) {
      diag.warn(`cvd-activity: audit trace mirror failed (the event itself is recorded): ${String(err)}`);
      return fallback;
    }
  }
}

/** What record() reads from the current request and trace, synchronously. */
export function captureCall(target?: MirrorTarget): CallCapture {
  const ctx = currentRequestContext();
  const spanContext = (target?.span ?? trace.getSpan(context.active()))?.spanContext();
  // A span of our own that was not sampled is never exported: do not point the row at it.
  const exported = !target?.own || (spanContext !== undefined && (spanContext.traceFlags & TraceFlags.SAMPLED) !== 0);
  const valid = spanContext !== undefined && exported && isSpanContextValid(spanContext);
  return {
    eventId: uuidv7(),
    occurredAt: Date.now(),
    user: ctx?.user ? { id: ctx.user.id, roles: ctx.user.roles, sessionId: ctx.user.sessionId } : null,
    clientAddress: ctx?.clientAddress ?? null,
    userAgent: ctx?.userAgent ?? null,
    traceId: valid ? spanContext.traceId : null,
    spanId: valid ? spanContext.spanId : null,
  };
}

/** Creates the recorder start() installs with `installAuditRecorder()`. */
export function createAuditRecorder(options: AuditRecorderOptions): AuditRecorder {
  return new AuditRecorder(options);
}
