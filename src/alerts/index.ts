/**
 * What the alerts room offers the CLI and the composition root: the rules,
 * their evaluation against Postgres, the SECURITY_ALERT event of a firing,
 * and the Grafana provisioning built from the same rules.
 */
export { ALERT_RULES } from './rules';
export { evaluateAlerts, recordedRecently } from './evaluate';
export type { EvaluateOptions, Queryable } from './evaluate';
export { securityAlertEvent, ALERTS_ACTOR_ID, exitCodeFor, formatJson, formatRules, FAIL_ON_CHOICES } from './report';
export type { SecurityAlertEvent, FailOn } from './report';
export { buildAlertingProvisioning, grafanaRuleUid, POSTGRES_DATASOURCE_UID } from './grafana';
export { bindRuleSql, grafanaRuleSql } from './sql';
export type { AlertRule, AlertFiring, AlertResult, AlertSeverity, AlertSqlContext, SecurityAlertRecorder } from './types';
