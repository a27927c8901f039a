/**
 * Types of the alert rules. A rule is defined once (rules.ts) as data plus one
 * SQL text; the same definition is evaluated by `cvd-activity alerts check`
 * (evaluate.ts) and turned into Grafana alerting provisioning (grafana.ts).
 */

/** How urgent a firing rule is; `alerts check` fails (exit 1) on `critical` by default. */
export type AlertSeverity = 'low' | 'medium' | 'high' | 'critical';

/**
 * What a rule's SQL is written against. The same rule text renders to bind
 * parameters for the CLI and to Grafana macros and literals for provisioning,
 * so the two can never drift apart.
 */
export interface AlertSqlContext {
  /** The `audit_trail` view, schema-qualified and quoted. */
  trail: string;
  /** The `audit_quarantine` table (events Postgres refused for their content), schema-qualified and quoted. */
  quarantine: string;
  /** Start of the evaluated period (a timestamptz expression). */
  from: string;
  /** End of the evaluated period (a timestamptz expression). */
  to: string;
  /** A numeric parameter of the rule (`threshold` or one of `params`). */
  num(name: string): string;
  /** A parameter given in seconds, as an SQL interval (`window` or one of `params`). */
  seconds(name: string): string;
}

/** One alert rule: what it watches, when it fires, and how it explains itself. */
export interface AlertRule {
  /** Stable id (kebab-case); also the Grafana rule uid suffix and the `rule_id` of SECURITY_ALERT events. */
  id: string;
  /** Short human title. */
  title: string;
  severity: AlertSeverity;
  /** What the rule means and why it fires, for people reading the alert. */
  description: string;
  /** Length of the sliding window or look-back, in seconds. */
  windowSeconds: number;
  /** How often Grafana evaluates the rule (seconds); rules sharing an interval form one rule group. */
  evaluateEverySeconds: number;
  /** The number the rule compares against (meaning stated in `description`). */
  threshold: number;
  /** Further numeric parameters the SQL uses (names ending in `Seconds` are durations). */
  params: Record<string, number>;
  /**
   * Text columns that say WHO or WHAT fired (one alert instance per distinct
   * combination). Become Grafana alert labels.
   */
  labels: string[];
  /**
   * The query. Returns one row per firing instance, with the `labels` columns
   * (text), `value` (numeric), `first_seen` and `last_seen` (timestamptz) and
   * `evidence` (jsonb). Rows are returned only when the rule fires: the
   * threshold lives in this SQL and nowhere else.
   */
  sql(q: AlertSqlContext): string;
  /** One line saying who, how many and when, for a firing instance. */
  explain(firing: AlertFiring): string;
}

/** One firing instance of a rule, with its evidence. */
export interface AlertFiring {
  ruleId: string;
  title: string;
  severity: AlertSeverity;
  /** Values of the rule's `labels` columns: who or what fired. */
  labels: Record<string, string>;
  /** The measured number (attempts, records, actions …) that crossed the threshold. */
  value: number;
  /** First and last event behind this instance (ISO 8601). */
  firstSeen: string | null;
  lastSeen: string | null;
  /** Rule-specific evidence (event ids, baseline figures, …). */
  evidence: Record<string, unknown>;
  /** Human sentence from the rule's `explain`. */
  message: string;
}

/** The outcome of one rule over one period. */
export interface AlertResult {
  rule: AlertRule;
  /** Evaluated period (ISO 8601). */
  from: string;
  to: string;
  firings: AlertFiring[];
}

/** Stores a firing as a SECURITY_ALERT audit event; the composition root wires it to the audit pipeline. */
export type SecurityAlertRecorder = (firing: AlertFiring) => void | Promise<void>;
