/**
 * How `alerts check` shows its results: a table for people and cron mail,
 * JSON for machines, the exit code for cron, and the SECURITY_ALERT details.
 */
import type { AlertFiring, AlertResult, AlertRule, AlertSeverity } from './types';

const RANK: Record<AlertSeverity, number> = { low: 1, medium: 2, high: 3, critical: 4 };

/** Severities accepted by `--fail-on`; `never` makes the exit code ignore firings. */
export const FAIL_ON_CHOICES = ['low', 'medium', 'high', 'critical', 'never'] as const;
export type FailOn = (typeof FAIL_ON_CHOICES)[number];

/** 1 when a rule of at least `failOn` severity fired, else 0. */
export function exitCodeFor(results: readonly AlertResult[], failOn: FailOn = 'critical'): 0 | 1 {
  if (failOn === 'never') return 0;
  const fired = results.some((r) => r.firings.length > 0 && RANK[r.rule.severity] >= RANK[failOn]);
  return fired ? 1 : 0;
}

/** The rules themselves, for `alerts list`: id, severity, window, threshold and what they mean. */
export function formatRules(rules: readonly AlertRule[]): string {
  return rules
    .map((r) => `${r.id} (${r.severity}, window ${r.windowSeconds}s, threshold ${r.threshold})\n  ${r.title}: ${r.description}\n`)
    .join('\n');
}

/** JSON report: every rule with its period and firings (evidence included). */
export function formatJson(results: readonly AlertResult[]): string {
  const out = results.map((r) => ({
    rule: r.rule.id,
    title: r.rule.title,
    severity: r.rule.severity,
    from: r.from,
    to: r.to,
    firing: r.firings.length > 0,
    firings: r.firings,
  }));
  return JSON.stringify(out, null, 2) + '\n';
}

/** Actor id to record SECURITY_ALERT events under (a system job, not a person). */
export const ALERTS_ACTOR_ID = 'system:cvd-activity-alerts';

/** The SECURITY_ALERT audit event for one firing, in the catalog's shape (details: rule, alert_severity, evidence). */
export interface SecurityAlertEvent {
  resourceType: 'alert_rule';
  /** The rule id. */
  resourceId: string;
  details: { rule: string; alert_severity: AlertSeverity; evidence: Record<string, unknown> };
}

/**
 * What the composition root passes to `audit.record('SECURITY_ALERT', …)` for
 * one firing: who/what fired, the number, when, the sentence and the rule's
 * own evidence all go into `evidence`.
 */
export function securityAlertEvent(firing: AlertFiring): SecurityAlertEvent {
  return {
    resourceType: 'alert_rule',
    resourceId: firing.ruleId,
    details: {
      rule: firing.ruleId,
      alert_severity: firing.severity,
      evidence: {
        labels: firing.labels,
        value: firing.value,
        first_seen: firing.firstSeen,
        last_seen: firing.lastSeen,
        message: firing.message,
        ...firing.evidence,
      },
    },
  };
}
