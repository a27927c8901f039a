/**
 * How `alerts check` shows its results: a table for people and cron mail,
 * JSON for machines, the exit code for cron, and the SECURITY_ALERT details.
 */
import type { AlertFiring, AlertResult, AlertSeverity } from './types';

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

/** Plain-text report: one line per rule, then one indented line per firing instance. */
export function formatTable(results: readonly AlertResult[]): string {
  const lines: string[] = [];
  const width = Math.max(...results.map((r) => r.rule.id.length));
  for (const r of results) {
    const state = r.firings.length ? `FIRING (${r.firings.length})` : 'ok';
    lines.push(`${r.rule.severity.toUpperCase().padEnd(8)} ${r.rule.id.padEnd(width)}  ${state.padEnd(12)} ${r.from} .. ${r.to}`);
    for (const f of r.firings) lines.push(`         - ${f.message}`);
  }
  return lines.join('\n') + '\n';
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

/**
 * Details of the SECURITY_ALERT audit event for one firing, so the composition
 * root can hand them to `audit.record('SECURITY_ALERT', { details })`.
 */
export function securityAlertDetails(firing: AlertFiring): Record<string, unknown> {
  return {
    rule_id: firing.ruleId,
    title: firing.title,
    alert_severity: firing.severity,
    labels: firing.labels,
    value: firing.value,
    first_seen: firing.firstSeen,
    last_seen: firing.lastSeen,
    message: firing.message,
    evidence: firing.evidence,
  };
}
