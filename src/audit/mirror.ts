/**
 * The trace mirror of an audit event: a span event `audit` on the active span,
 * and/or a log-based event `cvd.audit`. A mirror is for trace views only; the
 * recorder hands the event to the sink before it runs and catches its errors.
 */
import { SpanKind, context, trace } from '@opentelemetry/api';
import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import { SeverityNumber, logs } from '@opentelemetry/api';
import * as sc from './semconv';
import type { AuditEvent, AuditSeverity } from './types';

/** Where the mirror goes (config `audit.mirror`). */
export type MirrorMode = 'span-event' | 'log' | 'both' | 'none';

/** The span a call mirrors onto: the active recording span, or a short one of its own. */
export interface MirrorTarget {
  span: Span | undefined;
  /** True when the span was started for this event and must be ended after it. */
  own: boolean;
}

const logSeverity: Record<AuditSeverity, SeverityNumber> = {
  low: SeverityNumber.INFO,
  medium: SeverityNumber.INFO2,
  high: SeverityNumber.WARN,
  critical: SeverityNumber.ERROR,
};

// Looked up per use, not cached: a cached proxy tracer stays bound to the
// provider it first saw, and start()/shutdown() may replace the provider.
function auditTracer(): Tracer {
  return trace.getTracer(sc.AUDIT_SCOPE_NAME);
}

/**
 * Chooses the span of a call before the event is built, so an event recorded
 * outside any span still gets the trace id of its own `audit <ACTION>` span.
 * An active span that is not recording (sampled out, or a dropped request) is
 * respected: no span of our own is started under it.
 */
export function openMirrorTarget(mode: MirrorMode, action: string): MirrorTarget {
  const active = trace.getSpan(context.active());
  if (active) return { span: active, own: false };
  if (mode !== 'span-event' && mode !== 'both') return { span: undefined, own: false };
  const span = auditTracer().startSpan(`audit ${action}`, { kind: SpanKind.INTERNAL, attributes: { [sc.ATTR_AUDIT_ACTION]: action } });
  return { span, own: true };
}

/** Mirrors `event` as configured. Throws only if OpenTelemetry itself throws; the recorder catches that. */
export function mirrorEvent(mode: MirrorMode, event: AuditEvent, target: MirrorTarget): void {
  if (mode === 'none') return;
  const attributes = mirrorAttributes(event);
  if ((mode === 'span-event' || mode === 'both') && target.span?.isRecording()) {
    target.span.addEvent(sc.AUDIT_SPAN_EVENT_NAME, attributes);
  }
  if (mode === 'log' || mode === 'both') {
    logs.getLogger(sc.AUDIT_SCOPE_NAME).emit({
      eventName: sc.AUDIT_LOG_EVENT_NAME,
      severityNumber: logSeverity[event.severity],
      severityText: event.severity.toUpperCase(),
      body: `${event.action} ${event.outcome}`,
      attributes,
      context: target.span ? trace.setSpan(context.active(), target.span) : context.active(),
    });
  }
}

/** Ends a span opened for one event (no-op for the request's own span). */
export function closeMirrorTarget(target: MirrorTarget): void {
  if (target.own) target.span?.end();
}

/** The documented attribute set of one event (docs/semantic-conventions.md). */
export function mirrorAttributes(event: AuditEvent): Attributes {
  const attributes: Attributes = {
    [sc.ATTR_AUDIT_ACTION]: event.action,
    [sc.ATTR_AUDIT_EVENT_ID]: event.eventId,
    [sc.ATTR_AUDIT_CATEGORY]: event.category,
    [sc.ATTR_AUDIT_SEVERITY]: event.severity,
    [sc.ATTR_AUDIT_OUTCOME]: event.outcome,
    [sc.ATTR_AUDIT_SCHEMA_VALID]: event.schemaValid,
    [sc.ATTR_AUDIT_ACTOR_TYPE]: event.actor.type,
    [sc.ATTR_AUDIT_DETAILS]: cappedJson(event.details),
  };
  if (event.resourceType !== null) attributes[sc.ATTR_AUDIT_RESOURCE_TYPE] = event.resourceType;
  if (event.resourceId !== null) attributes[sc.ATTR_AUDIT_RESOURCE_ID] = event.resourceId;
  if (event.affectedRecords !== null) attributes[sc.ATTR_AUDIT_AFFECTED_RECORDS] = event.affectedRecords;
  if (event.oldValue !== null) attributes[sc.ATTR_AUDIT_OLD_VALUE] = cappedJson(event.oldValue);
  if (event.newValue !== null) attributes[sc.ATTR_AUDIT_NEW_VALUE] = cappedJson(event.newValue);
  if (event.reason !== null) attributes[sc.ATTR_AUDIT_REASON] = event.reason;
  if (event.actor.id !== null) attributes[sc.ATTR_USER_ID] = event.actor.id;
  return attributes;
}

function cappedJson(value: unknown): string {
  const json = JSON.stringify(value) ?? 'null';
  return json.length <= sc.MIRROR_JSON_MAX_CHARS ? json : `${json.slice(0, sc.MIRROR_JSON_MAX_CHARS - 12)}…[truncated]`;
}
