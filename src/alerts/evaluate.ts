/**
 * Evaluates alert rules against the audit trail in Postgres, the way
 * `cvd-activity alerts check` does: each rule over a period ending now (or at
 * `until`), returning every firing instance with its evidence.
 */
import type { AlertFiring, AlertResult, AlertRule } from './types';
import { ALERT_RULES } from './rules';
import { bindRuleSql, trailView } from './sql';
import { ACTIONS } from './auditVocabulary';
import { DEFAULT_SCHEMA } from '../store/identifiers';

/** What `evaluateAlerts` needs from a node-postgres Client or Pool. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** Options of one evaluation. */
export interface EvaluateOptions {
  /** Schema holding `audit_trail` (default DEFAULT_SCHEMA). */
  schema?: string;
  /** Start of the checked period; default: each rule's own window before `until`. */
  since?: Date;
  /** End of the checked period; default: now. */
  until?: Date;
  /** Rules to evaluate; default: all five. */
  rules?: readonly AlertRule[];
}

function iso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}

function toFiring(rule: AlertRule, row: Record<string, unknown>): AlertFiring {
  const labels: Record<string, string> = {};
  for (const name of rule.labels) labels[name] = String(row[name] ?? '');
  const firing: AlertFiring = {
    ruleId: rule.id,
    title: rule.title,
    severity: rule.severity,
    labels,
    value: Number(row.value),
    firstSeen: iso(row.first_seen),
    lastSeen: iso(row.last_seen),
    evidence: (row.evidence ?? {}) as Record<string, unknown>,
    message: '',
  };
  firing.message = rule.explain(firing);
  return firing;
}

/** Runs every rule once; throws (with the rule id in the message) when a query fails. */
export async function evaluateAlerts(db: Queryable, options: EvaluateOptions = {}): Promise<AlertResult[]> {
  const until = options.until ?? new Date();
  const schema = options.schema ?? DEFAULT_SCHEMA;
  if (options.since && options.since.getTime() > until.getTime()) {
    throw new Error(`alerts: --since (${options.since.toISOString()}) is after --until (${until.toISOString()})`);
  }
  const results: AlertResult[] = [];
  for (const rule of options.rules ?? ALERT_RULES) {
    const from = options.since ?? new Date(until.getTime() - rule.windowSeconds * 1000);
    const query = bindRuleSql(rule, schema, from, until);
    let rows: Record<string, unknown>[];
    try {
      ({ rows } = await db.query(query.text, query.values));
    } catch (err) {
      const e = err as Error & { code?: string };
      throw Object.assign(new Error(`alert rule ${rule.id}: query failed: ${e.message}`), { code: e.code, cause: err });
    }
    results.push({ rule, from: from.toISOString(), to: until.toISOString(), firings: rows.map((r) => toFiring(rule, r)) });
  }
  return results;
}

/**
 * Whether `alerts check --record` already stored this instance (same rule,
 * same labels) within the rule's window before `now`: cron runs that overlap
 * one burst record it once per window, not once per run.
 */
export async function recordedRecently(db: Queryable, schema: string, firing: AlertFiring, windowSeconds: number, now: Date): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM ${trailView(schema)}
     WHERE action = $1 AND resource_id = $2 AND details->'evidence'->'labels' = $3::jsonb
       AND created_at > $4::timestamptz - ($5::float8 * interval '1 second') AND created_at <= $4::timestamptz
     LIMIT 1`,
    [ACTIONS.securityAlert, firing.ruleId, JSON.stringify(firing.labels), now.toISOString(), windowSeconds],
  );
  return rows.length > 0;
}
