/**
 * The alert rules (the five of the security review and the quarantine of
 * refused audit events), defined once. Each rule's SQL holds
 * its threshold and window as parameters; `alerts check` binds them, the
 * Grafana generator writes them as literals. Nothing else decides when a rule
 * fires.
 */
import type { AlertFiring, AlertRule } from './types';
import { ACTIONS, FIELDS, adminRolesSql } from './auditVocabulary';

function when(f: AlertFiring): string {
  if (!f.firstSeen) return '';
  return f.firstSeen === f.lastSeen ? ` at ${f.firstSeen}` : ` between ${f.firstSeen} and ${f.lastSeen}`;
}

/** Failed logins > 5 in any 5-minute window, per user name and per client address. */
export const failedLogins: AlertRule = {
  id: 'failed-logins',
  title: 'Failed logins',
  severity: 'critical',
  description:
    'More than 5 failed logins within any 5-minute window for one user name (password guessing) or from one client address ' +
    '(credential stuffing across accounts). Counted from LOGIN_FAILED events, so it works whatever the app does about lock-outs.',
  windowSeconds: 300,
  evaluateEverySeconds: 60,
  threshold: 5,
  params: {},
  labels: ['key_type', 'key'],
  sql: (q) => `
WITH attempts AS (
  SELECT created_at, ${FIELDS.loginUsername} AS username, client_address
  FROM ${q.trail}
  WHERE action = '${ACTIONS.loginFailed}'
    AND created_at > ${q.from} - ${q.seconds('window')} AND created_at <= ${q.to}
), keyed AS (
  SELECT 'username' AS key_type, username AS key, client_address AS other, created_at FROM attempts WHERE username IS NOT NULL
  UNION ALL
  SELECT 'client_address', client_address, username, created_at FROM attempts WHERE client_address IS NOT NULL
), counted AS (
  SELECT key_type, key, other, created_at,
         count(*) OVER (PARTITION BY key_type, key ORDER BY created_at
                        RANGE BETWEEN ${q.seconds('window')} PRECEDING AND CURRENT ROW) AS in_window
  FROM keyed
)
SELECT key_type, key, max(in_window) AS value,
       min(created_at) AS first_seen, max(created_at) AS last_seen,
       jsonb_build_object('attempts_in_period', count(*),
                          'seen_with', coalesce(jsonb_agg(DISTINCT other) FILTER (WHERE other IS NOT NULL), '[]'::jsonb)) AS evidence
FROM counted
WHERE created_at > ${q.from}
GROUP BY key_type, key
HAVING max(in_window) > ${q.num('threshold')}
ORDER BY value DESC, key`,
  explain: (f) =>
    `${f.labels.key_type === 'username' ? 'user name' : 'client address'} ${f.labels.key}: ` +
    `${f.value} failed logins within 5 minutes (${String(f.evidence.attempts_in_period)} in the period)${when(f)}`,
};

/** Bulk operations affecting more than 100 records, per acting user. */
export const bulkOperations: AlertRule = {
  id: 'bulk-operations',
  title: 'Large bulk operation',
  severity: 'high',
  description:
    'A single BULK_OPERATION changed more than 100 records. Mass changes are legitimate but rare; each one should be someone\'s known decision.',
  windowSeconds: 300,
  evaluateEverySeconds: 60,
  threshold: 100,
  params: {},
  labels: ['user_id'],
  sql: (q) => `
SELECT coalesce(user_id, '(unknown)') AS user_id,
       max(${FIELDS.bulkAffected}) AS value,
       min(created_at) AS first_seen, max(created_at) AS last_seen,
       jsonb_build_object('operations', count(*), 'total_records', sum(${FIELDS.bulkAffected}),
         'events', jsonb_agg(jsonb_build_object('event_id', event_id, 'operation', ${FIELDS.bulkOperation},
           'target_type', ${FIELDS.bulkTarget}, 'affected_records', ${FIELDS.bulkAffected}, 'trace_id', trace_id)
           ORDER BY created_at)) AS evidence
FROM ${q.trail}
WHERE action = '${ACTIONS.bulkOperation}'
  AND created_at > ${q.from} AND created_at <= ${q.to}
  AND ${FIELDS.bulkAffected} > ${q.num('threshold')}
GROUP BY 1
ORDER BY value DESC, user_id`,
  explain: (f) =>
    `user ${f.labels.user_id}: ${String(f.evidence.operations)} bulk operation(s), largest ${f.value} records${when(f)}`,
};

/** Data exports of more than 10,000 records, per exporting user. */
export const dataExports: AlertRule = {
  id: 'data-exports',
  title: 'Large data export',
  severity: 'high',
  description:
    'A single DATA_EXPORT contained more than 10,000 records: a possible bulk exfiltration of customer, sales or device data.',
  windowSeconds: 300,
  evaluateEverySeconds: 60,
  threshold: 10000,
  params: {},
  labels: ['user_id'],
  sql: (q) => `
SELECT coalesce(user_id, '(unknown)') AS user_id,
       max(${FIELDS.exportRecordCount}) AS value,
       min(created_at) AS first_seen, max(created_at) AS last_seen,
       jsonb_build_object('exports', count(*), 'total_records', sum(${FIELDS.exportRecordCount}),
         'events', jsonb_agg(jsonb_build_object('event_id', event_id, 'format', ${FIELDS.exportFormat},
           'resource_type', resource_type, 'records', ${FIELDS.exportRecordCount}, 'trace_id', trace_id)
           ORDER BY created_at)) AS evidence
FROM ${q.trail}
WHERE action = '${ACTIONS.dataExport}'
  AND created_at > ${q.from} AND created_at <= ${q.to}
  AND ${FIELDS.exportRecordCount} > ${q.num('threshold')}
GROUP BY 1
ORDER BY value DESC, user_id`,
  explain: (f) =>
    `user ${f.labels.user_id}: ${String(f.evidence.exports)} export(s), largest ${f.value} records${when(f)}`,
};

/** Any successful permission change that makes a non-admin an admin. */
export const permissionEscalations: AlertRule = {
  id: 'permission-escalation',
  title: 'Permission escalation to admin',
  severity: 'critical',
  description:
    'A successful PERMISSION_CHANGE gave a user the admin role they did not have before. Every escalation fires; confirm it was intended.',
  windowSeconds: 300,
  evaluateEverySeconds: 60,
  threshold: 0,
  params: {},
  labels: ['target_user_id', 'changed_by'],
  sql: (q) => `
SELECT coalesce(${FIELDS.targetUser}, '(unknown)') AS target_user_id,
       coalesce(user_id, '(unknown)') AS changed_by,
       count(*) AS value,
       min(created_at) AS first_seen, max(created_at) AS last_seen,
       jsonb_build_object('events', jsonb_agg(jsonb_build_object('event_id', event_id,
         'old_role', ${FIELDS.oldRole}, 'new_role', ${FIELDS.newRole}, 'trace_id', trace_id) ORDER BY created_at)) AS evidence
FROM ${q.trail}
WHERE action = '${ACTIONS.permissionChange}' AND outcome = 'success'
  AND created_at > ${q.from} AND created_at <= ${q.to}
  AND lower(${FIELDS.newRole}) IN (${adminRolesSql()})
  AND lower(coalesce(${FIELDS.oldRole}, '')) NOT IN (${adminRolesSql()})
GROUP BY 1, 2
HAVING count(*) > ${q.num('threshold')}
ORDER BY last_seen DESC`,
  explain: (f) => `user ${f.labels.target_user_id} made admin by ${f.labels.changed_by}${when(f)}`,
};

/**
 * A user far busier than usual: the hour's action count against the user's
 * own median and median absolute deviation (MAD) over the previous days.
 */
export const unusualActivity: AlertRule = {
  id: 'unusual-activity',
  title: 'Unusual user activity',
  severity: 'medium',
  description:
    'A user performed more actions in one hour than is normal FOR THAT USER: more than median + 3 x 1.4826 x MAD of their ' +
    'hourly action counts over the previous 7 days (counting only hours in which they were active; 1.4826 x MAD estimates ' +
    'one standard deviation robustly, so a few past bursts do not raise the bar), and more than 30 actions (a floor, so quiet ' +
    'users and brand-new accounts do not alert on a handful of clicks). Plain statistics in SQL, no external ML service.',
  windowSeconds: 3600,
  // Its query reads a week of history per run (~0.4 s at 200k events); every 5 minutes is plenty for an hourly signal.
  evaluateEverySeconds: 300,
  threshold: 3,
  params: { floor: 30, baselineSeconds: 7 * 86400 },
  labels: ['user_id'],
  sql: (q) => `
WITH span AS (
  SELECT greatest(1, ceil(extract(epoch FROM (${q.to} - ${q.from})) / extract(epoch FROM ${q.seconds('window')})))::int AS evaluated
), hourly AS (
  SELECT user_id,
         floor(extract(epoch FROM (${q.to} - created_at)) / extract(epoch FROM ${q.seconds('window')}))::int AS bucket,
         count(*) AS n
  FROM ${q.trail}
  WHERE user_id IS NOT NULL AND action <> '${ACTIONS.securityAlert}'
    AND created_at <= ${q.to}
    AND created_at > ${q.to} - (SELECT evaluated FROM span) * ${q.seconds('window')} - ${q.seconds('baselineSeconds')}
  GROUP BY 1, 2
), baseline AS (
  SELECT user_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY n) AS median, count(*) AS active_hours
  FROM hourly WHERE bucket >= (SELECT evaluated FROM span) GROUP BY user_id
), spread AS (
  SELECT h.user_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(h.n - b.median)) AS mad
  FROM hourly h JOIN baseline b USING (user_id)
  WHERE h.bucket >= (SELECT evaluated FROM span) GROUP BY h.user_id
), judged AS (
  SELECT h.user_id, h.bucket, h.n, coalesce(b.median, 0) AS median, coalesce(s.mad, 0) AS mad,
         coalesce(b.active_hours, 0) AS active_hours,
         greatest(${q.num('floor')}, coalesce(b.median, 0) + ${q.num('threshold')} * 1.4826 * coalesce(s.mad, 0)) AS limit_n
  FROM hourly h LEFT JOIN baseline b USING (user_id) LEFT JOIN spread s USING (user_id)
  WHERE h.bucket < (SELECT evaluated FROM span)
)
SELECT user_id, n AS value,
       ${q.to} - (bucket + 1) * ${q.seconds('window')} AS first_seen,
       ${q.to} - bucket * ${q.seconds('window')} AS last_seen,
       jsonb_build_object('median', median, 'mad', mad, 'limit', round(limit_n::numeric, 2),
                          'baseline_active_hours', active_hours) AS evidence
FROM judged
WHERE n > limit_n
ORDER BY value DESC, user_id`,
  explain: (f) =>
    `user ${f.labels.user_id}: ${f.value} actions in the hour ${f.firstSeen} – ${f.lastSeen}; usual hour ` +
    `median ${String(f.evidence.median)}, MAD ${String(f.evidence.mad)} over ${String(f.evidence.baseline_active_hours)} ` +
    `active hours, limit ${String(f.evidence.limit)}`,
};

/**
 * Audit events Postgres refused for their content: each is kept in the
 * quarantine (audit_quarantine) instead of the trail, so the stream flows on,
 * but it is evidence missing from the chain until someone deals with it.
 */
export const quarantinedEvents: AlertRule = {
  id: 'audit-events-quarantined',
  title: 'Audit events quarantined',
  severity: 'critical',
  description:
    'Postgres refused audit events for their content (a value out of range or too large for an index). Each is kept in ' +
    'the table audit_quarantine, outside the hash chain, and the other events are stored. Find out what produced it; ' +
    '`cvd-activity audit verify` lists them.',
  windowSeconds: 300,
  evaluateEverySeconds: 60,
  threshold: 0,
  params: {},
  labels: ['stream_id'],
  sql: (q) => `
SELECT stream_id, count(*) AS value,
       min(quarantined_at) AS first_seen, max(quarantined_at) AS last_seen,
       jsonb_build_object('events', jsonb_agg(jsonb_build_object('event_id', event_id, 'action', action,
         'sql_state', sql_state, 'error', error) ORDER BY quarantined_at)) AS evidence
FROM ${q.quarantine}
WHERE quarantined_at > ${q.from} AND quarantined_at <= ${q.to}
GROUP BY stream_id
HAVING count(*) > ${q.num('threshold')}
ORDER BY last_seen DESC`,
  explain: (f) => `${f.value} audit event(s) of stream ${f.labels.stream_id} quarantined${when(f)}`,
};

/** Every alert rule: the five of the security review and the trail's own health, grouped by evaluation interval. */
export const ALERT_RULES: readonly AlertRule[] = [
  failedLogins, bulkOperations, dataExports, permissionEscalations, quarantinedEvents, unusualActivity,
];
