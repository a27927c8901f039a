/**
 * Expands what Grafana expands in a PostgreSQL panel or alert query before it
 * reaches the database: template variables and the SQL macros, the way the
 * grafana-postgresql-datasource does (macros as in its macros.go), so tests can
 * run the exact dashboard SQL against a real schema.
 */

/** Values for one expansion: the time range, the interval, and template variables (`'__all'` = All). */
export interface MacroContext {
  from: Date;
  to: Date;
  /** `$__interval` (Grafana's form, e.g. `1m`). */
  interval?: string;
  variables?: Record<string, string>;
  /** Schema to read instead of the dashboards' default `cvd_activity`. */
  schema?: string;
}

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

function seconds(interval: string): number {
  const m = /^'?(\d+)(ms|s|m|h|d)'?$/.exec(interval.trim());
  if (!m) throw new Error(`unsupported interval ${interval}`);
  return Number(m[1]) * UNIT_SECONDS[m[2]!]!;
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
const rfc3339 = (d: Date) => quote(d.toISOString().replace(/\.\d{3}Z$/, 'Z'));

/** The SQL Grafana would send. Throws on a macro or variable it does not know, so a typo cannot pass. */
export function expandGrafanaSql(sql: string, ctx: MacroContext): string {
  const vars = { ...(ctx.variables ?? {}) };
  let out = sql.replaceAll('$__interval_ms', String(seconds(ctx.interval ?? '1m') * 1000)).replaceAll('$__interval', ctx.interval ?? '1m');
  // Template variables: ${name:sqlstring} quotes; "All" with a custom all value is inserted as is.
  out = out.replace(/\$\{(\w+):sqlstring\}/g, (_, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`no value for template variable ${name}`);
    return v === '__all' ? "'__all'" : quote(v);
  });
  out = out.replace(/\$__timeFilter\(([^)]+)\)/g, (_, col: string) => `${col.trim()} BETWEEN ${rfc3339(ctx.from)} AND ${rfc3339(ctx.to)}`);
  out = out.replaceAll('$__timeFrom()', rfc3339(ctx.from)).replaceAll('$__timeTo()', rfc3339(ctx.to));
  out = out.replace(/\$__timeGroupAlias\(([^,]+),([^)]+)\)/g, (_, col: string, iv: string) => {
    const s = seconds(iv);
    return `floor(extract(epoch from ${col.trim()})/${s})*${s} AS "time"`;
  });
  out = out.replace(/\$__timeGroup\(([^,]+),([^)]+)\)/g, (_, col: string, iv: string) => {
    const s = seconds(iv);
    return `floor(extract(epoch from ${col.trim()})/${s})*${s}`;
  });
  if (ctx.schema) out = out.replace(/(^|[^\w".])"?cvd_activity"?\./g, `$1"${ctx.schema}".`);
  const left = /\$(__\w+|\{?\w+)/.exec(out);
  if (left) throw new Error(`unexpanded Grafana macro or variable ${left[0]} in:\n${out}`);
  return out;
}
