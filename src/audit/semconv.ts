/**
 * Names of the attributes an audit event carries into a trace (span event
 * `audit`) or a log-based event (`cvd.audit`). docs/semantic-conventions.md
 * documents each; dashboards and the Collector's tail sampling rely on them.
 */

/** Name of the span event that mirrors an audit event. */
export const AUDIT_SPAN_EVENT_NAME = 'audit';
/** Event name of the log-based mirror (OpenTelemetry Logs API). */
export const AUDIT_LOG_EVENT_NAME = 'cvd.audit';
/** Instrumentation scope of our tracer and logger. */
export const AUDIT_SCOPE_NAME = 'cvd-activity/audit';

export const ATTR_AUDIT_ACTION = 'audit.action';
export const ATTR_AUDIT_EVENT_ID = 'audit.event_id';
export const ATTR_AUDIT_CATEGORY = 'audit.category';
export const ATTR_AUDIT_SEVERITY = 'audit.severity';
export const ATTR_AUDIT_OUTCOME = 'audit.outcome';
export const ATTR_AUDIT_RESOURCE_TYPE = 'audit.resource.type';
export const ATTR_AUDIT_RESOURCE_ID = 'audit.resource.id';
export const ATTR_AUDIT_AFFECTED_RECORDS = 'audit.affected_records';
export const ATTR_AUDIT_DETAILS = 'audit.details';
export const ATTR_AUDIT_OLD_VALUE = 'audit.old_value';
export const ATTR_AUDIT_NEW_VALUE = 'audit.new_value';
export const ATTR_AUDIT_REASON = 'audit.reason';
export const ATTR_AUDIT_SCHEMA_VALID = 'audit.schema_valid';
export const ATTR_AUDIT_ACTOR_TYPE = 'audit.actor.type';
/** Semantic-conventions name (development status) for the acting user. */
export const ATTR_USER_ID = 'user.id';

/** Longest JSON string mirrored into `audit.details` / `audit.old_value` / `audit.new_value` (characters). */
export const MIRROR_JSON_MAX_CHARS = 4096;
