/**
 * Just enough PromQL reading for tests: the metric names and label names a
 * query uses, so dashboards can be checked against what the Collector emits.
 */
const KEYWORDS = new Set([
  // aggregation operators (their `by (...)` is removed before names are read)
  'sum', 'min', 'max', 'avg', 'count', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'limitk',
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'inf', 'nan']);

/** Metric names and label names used by a PromQL expression (Grafana variables like $service are left in label values only). */
export function promqlNames(expr: string): { metrics: Set<string>; labels: Set<string> } {
  // Grafana's label_values(selector, label) variable query.
  const lv = /^\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/.exec(expr);
  if (lv) {
    const inner = promqlNames(lv[1]!);
    inner.labels.add(lv[2]!);
    return inner;
  }
  const metrics = new Set<string>();
  const labels = new Set<string>();
  let s = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""'); // string literals
  s = s.replace(/\[[^\]]*\]/g, ''); // range selectors, [$__rate_interval]
  s = s.replace(/\{([^}]*)\}/g, (_, body: string) => {
    for (const m of body.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)/g)) labels.add(m[1]!);
    return ' ';
  });
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_, kw: string, list: string) => {
    for (const l of list.split(',').map((x) => x.trim()).filter(Boolean)) labels.add(l);
    return ` ${kw} `;
  });
  for (const m of s.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const name = m[1]!;
    if (m[2] || KEYWORDS.has(name.toLowerCase()) || /^\d/.test(name)) continue; // functions and keywords
    metrics.add(name);
  }
  return { metrics, labels };
}
