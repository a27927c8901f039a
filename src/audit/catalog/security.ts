/**
 * Security events the review lists as gaps. Their detail fields are what the
 * five alerts read: attempt counts, record counts, affected records, roles.
 */
import { anyValue, count, dateRange, details, fileFormat, ident, looseObject, text } from './schema';
import type { ActionSpec } from './schema';

/** Failed logins, exports, bulk operations, permission and configuration changes. */
export const securityActions = {
  LOGIN_FAILED: {
    category: 'security',
    severity: 'high',
    resourceType: 'user',
    description: 'An authentication attempt failed (audit.loginFailed() counts the attempts).',
    details: details(
      { username: text, attempt_count: { type: 'integer', minimum: 1 }, max_attempts: { type: 'integer', minimum: 1 }, address_attempt_count: count, limit_reached: { type: 'boolean' } },
      ['username', 'attempt_count', 'max_attempts'],
    ),
    personal: ['username'],
    example: { details: { username: 'maria.lopez', attempt_count: 3, max_attempts: 5, address_attempt_count: 3, limit_reached: false } },
  },
  DATA_EXPORT: {
    category: 'security',
    severity: 'high',
    resourceType: 'report',
    description: 'Data left the system as a file (what, how much, which filters).',
    details: details({ dataset: text, format: fileFormat, record_count: count, filters: looseObject, date_range: dateRange }, ['dataset', 'format', 'record_count']),
    affectedRecordsFrom: 'record_count',
    example: {
      resourceId: 'device-sales',
      details: { dataset: 'device_sales', format: 'csv', record_count: 12840, filters: { region: 'north' }, date_range: { from: '2024-12-01', to: '2024-12-31' } },
    },
  },
  BULK_OPERATION: {
    category: 'security',
    severity: 'high',
    resourceType: null,
    description: 'One operation changed or deleted many records.',
    details: details({ operation: text, target_type: text, affected_records: count, filters: looseObject }, ['operation', 'target_type', 'affected_records']),
    affectedRecordsFrom: 'affected_records',
    example: { details: { operation: 'deactivate', target_type: 'device', affected_records: 140, filters: { region: 'south' } } },
  },
  PERMISSION_CHANGE: {
    category: 'security',
    severity: 'critical',
    resourceType: 'user',
    description: "A user's role changed (escalations to admin are alerted).",
    details: details({ target_user_id: ident, old_role: { anyOf: [text, { type: 'null' }] }, new_role: text }, ['target_user_id', 'old_role', 'new_role']),
    example: { resourceId: 'u-2001', details: { target_user_id: 'u-2001', old_role: 'driver', new_role: 'admin' } },
  },
  CONFIG_CHANGE: {
    category: 'security',
    severity: 'high',
    resourceType: 'setting',
    description: 'A system setting changed (values of secret-looking settings are redacted).',
    details: details({ setting: text, old_value: anyValue, new_value: anyValue }, ['setting', 'old_value', 'new_value']),
    secretNameField: 'setting',
    example: { resourceId: 'session_timeout_minutes', details: { setting: 'session_timeout_minutes', old_value: 30, new_value: 240 } },
  },
  FILE_DOWNLOAD: {
    category: 'data_access',
    severity: 'low',
    resourceType: 'file',
    description: 'A file (PDF, CSV, image) was downloaded.',
    details: details({ file_name: text, content_type: text, size_bytes: count }, ['file_name']),
    example: { resourceId: 'f-901', details: { file_name: 'invoice-2024-12.pdf', content_type: 'application/pdf', size_bytes: 88213 } },
  },
  PERSONAL_DATA_ERASURE: {
    category: 'security',
    severity: 'high',
    resourceType: 'user',
    description: "A user's personal data was erased from the trail and the spool, and their browser events deleted (a data-subject request; `cvd-activity gdpr erase`).",
    details: details({ target_user_id: ident, events_erased: count, spool_events_erased: count, browser_events_deleted: count }, ['target_user_id', 'events_erased']),
    affectedRecordsFrom: 'events_erased',
    example: { resourceId: 'u-2001', details: { target_user_id: 'u-2001', events_erased: 42, spool_events_erased: 0 } },
  },
  AUDIT_IMPORT: {
    category: 'security',
    severity: 'high',
    resourceType: 'audit_trail',
    description: 'Rows of an older audit system were imported into the trail (`cvd-activity audit import`).',
    details: details(
      { source: text, format: { enum: ['ndjson', 'csv'] }, lines: count, imported: count, already_stored: count, bad_lines: count, first_event_at: text, last_event_at: text },
      ['source', 'format', 'imported', 'already_stored', 'bad_lines'],
    ),
    affectedRecordsFrom: 'imported',
    example: { resourceId: 'legacy-audit_log.csv', details: { source: 'legacy-audit_log.csv', format: 'csv', lines: 2528, imported: 2526, already_stored: 0, bad_lines: 2, first_event_at: '2023-01-04T08:12:00.000Z', last_event_at: '2025-12-31T17:40:10.000Z' } },
  },
  RETENTION_APPLY: {
    category: 'security',
    severity: 'high',
    resourceType: 'audit_trail',
    description: 'Retention ran: expired partitions dropped per class, old months archived, old personal data erased (`cvd-activity retention apply`).',
    details: details(
      { as_of: text, events_dropped: count, partitions_dropped: { type: 'array', items: text }, months: { type: 'object' }, personal_data_erased: count, policy: { type: 'object' },
        events_archived: count, partitions_compacted: { type: 'array', items: text }, events_compacted: count, archive_files_removed: { type: 'array', items: text }, partitions_archived: { type: 'array', items: text }, archive_dir: text },
      ['as_of', 'events_dropped', 'partitions_dropped', 'personal_data_erased'],
    ),
    affectedRecordsFrom: 'events_dropped',
    example: { resourceId: 'cvd_activity.audit_log', details: { as_of: '2026-12-04T03:00:00.000Z', events_dropped: 1840, partitions_dropped: ['audit_log_p202411_other'], months: { other: ['2024-11'] }, personal_data_erased: 950, policy: { securityDays: 730, otherDays: 365, anonymizeDays: 365 } } },
  },
  SECURITY_ALERT: {
    category: 'security',
    severity: 'critical',
    resourceType: 'alert_rule',
    description: 'An alert rule fired: how many and when in evidence; who (labels, message, seen_with) as personal data, erasable.',
    details: details(
      { rule: text, alert_severity: { enum: ['low', 'medium', 'high', 'critical'] }, evidence: looseObject, labels: looseObject, message: { type: 'string' }, seen_with: { type: 'array' } },
      ['rule', 'evidence'],
    ),
    personal: ['labels', 'message', 'seen_with'],
    example: {
      resourceId: 'failed-logins',
      details: { rule: 'failed-logins', alert_severity: 'critical', evidence: { value: 7, attempts_in_period: 7 }, labels: { key_type: 'username', key: 'maria.lopez' }, message: 'user name maria.lopez: 7 failed logins within 5 minutes' },
    },
  },
  AUDIT_CHECKPOINT: {
    category: 'monitoring',
    severity: 'low',
    resourceType: 'audit_trail',
    description: 'A signed checkpoint of the audit trail is being taken (`cvd-activity audit checkpoint`); recorded just before its snapshot, so the checkpoint covers it.',
    details: details({ origin: text, key: text, sequence: { type: 'integer', minimum: 1 }, previous: { anyOf: [text, { type: 'null' }] } }, ['origin', 'key', 'sequence', 'previous']),
    example: { resourceId: 'cvd_activity', details: { origin: 'cvd-activity/db.example:5432/cvd/cvd_activity', key: 'ops-host/cvd-activity+1c713d60', sequence: 42, previous: 'q2b9…=' } },
  },
} as const satisfies Record<string, ActionSpec>;
