/**
 * Grafana alerting provisioning built from the same rule definitions the CLI
 * evaluates (file format: apiVersion 1, groups[].rules[] with uid, title,
 * condition, data[], for, labels, annotations). dashboards/provisioning/
 * alerting/cvd-activity.yaml is generated from this by
 * `npm run dashboards:generate`; a test keeps the committed file equal to it.
 */
import type { AlertRule } from './types';
import { ALERT_RULES } from './rules';
import { grafanaRuleSql } from './sql';
import { DEFAULT_SCHEMA } from '../store/identifiers';

/** Fixed uid of the PostgreSQL datasource (dashboards/provisioning/datasources). */
export const POSTGRES_DATASOURCE_UID = 'cvd-postgres';
/** Folder and group the rules are provisioned into. */
export const ALERT_FOLDER = 'cvd-activity';
export const ALERT_GROUP = 'cvd-activity-security';
/** Label on every rule, so panels can select exactly these alerts. */
export const ALERT_SOURCE_LABEL = { source: 'cvd-activity' } as const;

/** Grafana uid of a rule (stable, so dashboards can link to it). */
export function grafanaRuleUid(rule: AlertRule): string {
  return `cvd-${rule.id}`;
}

/** The Grafana rule for one alert definition. */
function grafanaRule(rule: AlertRule, schema: string): Record<string, unknown> {
  return {
    uid: grafanaRuleUid(rule),
    title: rule.title,
    condition: 'B',
    data: [
      {
        refId: 'A',
        // The query's $__timeFrom()/$__timeTo() span the rule's window ending now.
        relativeTimeRange: { from: rule.windowSeconds, to: 0 },
        datasourceUid: POSTGRES_DATASOURCE_UID,
        model: {
          refId: 'A',
          datasource: { type: 'grafana-postgresql-datasource', uid: POSTGRES_DATASOURCE_UID },
          editorMode: 'code',
          format: 'table',
          rawQuery: true,
          // Grafana turns each row (text columns = labels, one numeric column)
          // into one alert instance; the evidence columns stay for the CLI.
          rawSql: `SELECT ${rule.labels.join(', ')}, value::float8 AS value\nFROM (\n${grafanaRuleSql(rule, schema)}\n) AS firing`,
        },
      },
      {
        refId: 'B',
        relativeTimeRange: { from: 0, to: 0 },
        datasourceUid: '__expr__',
        model: {
          refId: 'B',
          type: 'threshold',
          expression: 'A',
          datasource: { type: '__expr__', uid: '__expr__' },
          // The SQL returns only rows past the rule's threshold, so any row fires.
          conditions: [{ evaluator: { type: 'gt', params: [0] } }],
        },
      },
    ],
    // No rows means nothing fired: that is OK, not "no data".
    noDataState: 'OK',
    execErrState: 'Error',
    for: '0s',
    isPaused: false,
    labels: { ...ALERT_SOURCE_LABEL, severity: rule.severity, rule_id: rule.id },
    annotations: {
      summary: rule.title,
      description: rule.description,
    },
  };
}

/** The whole provisioning document: one rule group per evaluation interval (Grafana evaluates a group at one interval). */
export function buildAlertingProvisioning(rules: readonly AlertRule[] = ALERT_RULES, schema = DEFAULT_SCHEMA): Record<string, unknown> {
  const intervals = [...new Set(rules.map((r) => r.evaluateEverySeconds))].sort((a, b) => a - b);
  return {
    apiVersion: 1,
    groups: intervals.map((seconds, i) => ({
      orgId: 1,
      name: i === 0 ? ALERT_GROUP : `${ALERT_GROUP}-every-${seconds}s`,
      folder: ALERT_FOLDER,
      interval: `${seconds}s`,
      rules: rules.filter((r) => r.evaluateEverySeconds === seconds).map((r) => grafanaRule(r, schema)),
    })),
  };
}
