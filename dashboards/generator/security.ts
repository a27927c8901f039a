/** The *Security* dashboard: the alerts (live state, instances, history) and the hash chain's health. */
import { ACTIONS, FIELDS } from '../../src/alerts/auditVocabulary';
import { ALERT_RULES } from '../../src/alerts/rules';
import { grafanaRuleSql } from '../../src/alerts/sql';
import { ALERT_SOURCE_LABEL } from '../../src/alerts/grafana';
import { DEFAULT_SCHEMA } from '../../src/store/identifiers';
import { Dashboard, FILTERABLE, TABLE_OPTIONS, TRAIL, sql, traceLinkOverride } from './grafana';

/** Builds the dashboard JSON. */
export function securityDashboard(): Record<string, unknown> {
  const d = new Dashboard(
    'cvd-security',
    'cvd-activity · Security',
    'The five alerts of the security review (failed logins, bulk operations, large exports, escalations to admin, unusual activity), audit events Postgres refused (quarantined), and whether the audit trail\'s hash chains are intact.',
  );
  d.row('Alerts now');
  d.panel({
    title: 'Alert state (Grafana alerting)',
    type: 'alertlist',
    w: 8,
    h: 10,
    description: 'Which of the provisioned alert rules are firing, pending or normal right now, as Grafana alerting evaluates them every minute.',
    options: {
      viewMode: 'list',
      groupMode: 'default',
      groupBy: [],
      maxItems: 20,
      sortOrder: 1,
      dashboardAlerts: false,
      alertName: '',
      alertInstanceLabelFilter: `{source="${ALERT_SOURCE_LABEL.source}"}`,
      stateFilter: { firing: true, pending: true, noData: true, normal: true, error: true },
    },
  });
  d.panel({
    title: 'Alert history (recorded firings)',
    type: 'state-timeline',
    w: 16,
    h: 10,
    description:
      'When each rule fired, from the SECURITY_ALERT audit events that `cvd-activity alerts check --record` writes (run it from cron). ' +
      'Empty when the check is not run with --record.',
    targets: [
      sql(
        `
SELECT $__timeGroupAlias(created_at, '5m'), ${FIELDS.alertRuleId} AS metric, count(*) AS value
FROM ${TRAIL}
WHERE action = '${ACTIONS.securityAlert}' AND $__timeFilter(created_at)
GROUP BY 1, 2 ORDER BY 1`,
        'time_series',
      ),
    ],
    options: { mergeValues: true, showValue: 'never', alignValue: 'left', rowHeight: 0.8 },
    fieldConfig: { color: { mode: 'thresholds' }, thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: 1 }] } },
  });
  d.row('Alert instances in the selected time range (same SQL as the alert rules)');
  for (const rule of ALERT_RULES) {
    d.panel({
      title: `${rule.title} (${rule.severity})`,
      type: 'table',
      w: rule.id === 'unusual-activity' ? 24 : 12,
      description: `${rule.description} Rows are the instances that fired within the selected time range, with their evidence.`,
      targets: [sql(grafanaRuleSql(rule))],
      fieldConfig: { custom: FILTERABLE },
      options: TABLE_OPTIONS,
    });
  }
  d.panel({
    title: 'Recorded security alerts',
    type: 'table',
    w: 24,
    description: 'Every SECURITY_ALERT audit event in the range: which rule fired, about whom, and the evidence at the time.',
    targets: [
      sql(`
SELECT created_at AS "time", ${FIELDS.alertRuleId} AS rule, ${FIELDS.alertSeverity} AS severity,
       ${FIELDS.alertMessage} AS message, details->'evidence' AS evidence, trace_id, event_id
FROM ${TRAIL}
WHERE action = '${ACTIONS.securityAlert}' AND $__timeFilter(created_at)
ORDER BY created_at DESC LIMIT 200`),
    ],
    fieldConfig: { custom: FILTERABLE },
    options: TABLE_OPTIONS,
    overrides: [traceLinkOverride()],
  });
  d.row('Hash chain');
  d.panel({
    title: 'Chain heads against stored rows',
    type: 'table',
    w: 24,
    description:
      'Per writer stream: the chain head recorded outside the log against the rows actually stored (plus rows removed by retention). ' +
      '"consistent" means no row is missing and none was appended behind the writer\'s back; it does NOT recompute hashes: ' +
      'run `cvd-activity audit verify` (exit 1 when a chain is broken) for the cryptographic check.',
    targets: [
      sql(`
SELECT s.stream_id, s.host, s.pid, s.head_seq, coalesce(l.stored_rows, 0) AS stored_rows,
       coalesce(r.retained_rows, 0) AS dropped_by_retention, l.max_seq, s.updated_at AS head_updated_at,
       CASE WHEN coalesce(l.stored_rows, 0) + coalesce(r.retained_rows, 0) = s.head_seq
             AND coalesce(l.max_seq, s.head_seq) = s.head_seq
            THEN 'consistent' ELSE 'MISMATCH: run cvd-activity audit verify' END AS status
FROM ${DEFAULT_SCHEMA}.audit_streams s
LEFT JOIN (SELECT stream_id, count(*) AS stored_rows, max(seq) AS max_seq FROM ${DEFAULT_SCHEMA}.audit_log GROUP BY stream_id) l USING (stream_id)
LEFT JOIN (SELECT stream_id, sum(events) AS retained_rows FROM ${DEFAULT_SCHEMA}.audit_retention GROUP BY stream_id) r USING (stream_id)
ORDER BY (CASE WHEN coalesce(l.stored_rows, 0) + coalesce(r.retained_rows, 0) = s.head_seq THEN 1 ELSE 0 END), s.updated_at DESC`),
    ],
    fieldConfig: { custom: FILTERABLE },
    options: TABLE_OPTIONS,
    overrides: [
      {
        matcher: { id: 'byName', options: 'status' },
        properties: [
          { id: 'custom.cellOptions', value: { type: 'color-background' } },
          {
            id: 'mappings',
            value: [
              { type: 'value', options: { consistent: { color: 'green', index: 0 } } },
              { type: 'regex', options: { pattern: 'MISMATCH.*', result: { color: 'red', index: 1 } } },
            ],
          },
        ],
      },
    ],
  });
  return d.toJSON();
}
