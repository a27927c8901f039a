/**
 * Renders a rule's SQL in its two forms: with bind parameters for the CLI,
 * and with Grafana macros and literals for provisioning and dashboards.
 */
import { DEFAULT_SCHEMA } from '../store/identifiers';
import type { AlertRule, AlertSqlContext } from './types';

/** The schema-qualified, quoted `audit_trail` view. */
export function trailView(schema: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(schema)) {
    throw new Error(`alerts: schema ${JSON.stringify(schema)} is not a plain SQL identifier (letters, digits, _ and $; at most 63)`);
  }
  return `"${schema}".audit_trail`;
}

/** The schema-qualified, quoted `audit_quarantine` table. */
export function quarantineTable(schema: string): string {
  return trailView(schema).replace(/audit_trail$/, 'audit_quarantine');
}

/** A rule parameter by name: `threshold`, `window` (= windowSeconds) or one of `params`. */
export function ruleParam(rule: AlertRule, name: string): number {
  const value = name === 'threshold' ? rule.threshold : name === 'window' ? rule.windowSeconds : rule.params[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`alert rule ${rule.id}: unknown parameter ${JSON.stringify(name)} (have threshold, window, ${Object.keys(rule.params).join(', ')})`);
  }
  return value;
}

/** SQL with `$1` = period start, `$2` = period end and the rule's parameters bound after them. */
export interface BoundQuery {
  text: string;
  values: unknown[];
}

/** The rule's SQL with bind parameters, for evaluation through node-postgres. */
export function bindRuleSql(rule: AlertRule, schema: string, from: Date, to: Date): BoundQuery {
  const values: unknown[] = [from.toISOString(), to.toISOString()];
  const slots = new Map<string, number>();
  const slot = (name: string): number => {
    let n = slots.get(name);
    if (n === undefined) {
      values.push(ruleParam(rule, name));
      n = values.length;
      slots.set(name, n);
    }
    return n;
  };
  const q: AlertSqlContext = {
    trail: trailView(schema),
    quarantine: quarantineTable(schema),
    from: '$1::timestamptz',
    to: '$2::timestamptz',
    num: (name) => `$${slot(name)}::float8`,
    seconds: (name) => `($${slot(name)}::float8 * interval '1 second')`,
  };
  return { text: rule.sql(q).trim(), values };
}

/** The rule's SQL for Grafana: the period is the query's time range ($__timeFrom/$__timeTo), parameters are literals. */
export function grafanaRuleSql(rule: AlertRule, schema = DEFAULT_SCHEMA): string {
  const q: AlertSqlContext = {
    trail: trailView(schema),
    quarantine: quarantineTable(schema),
    // Grafana expands these to quoted RFC 3339 text; the cast keeps arithmetic on them typed.
    from: '$__timeFrom()::timestamptz',
    to: '$__timeTo()::timestamptz',
    num: (name) => String(ruleParam(rule, name)),
    seconds: (name) => `interval '${ruleParam(rule, name)} seconds'`,
  };
  return rule.sql(q).trim();
}
