/** Reads the committed Grafana files and walks dashboards for their queries (shared by the dashboards tests). */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const ROOT = join(__dirname, '..', '..');
export const DASHBOARD_DIR = join(ROOT, 'dashboards/json');

export type Json = Record<string, any>;

/** Every committed dashboard, by file name. */
export function dashboards(): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const f of readdirSync(DASHBOARD_DIR).filter((n) => n.endsWith('.json')).sort()) {
    out.set(f, JSON.parse(readFileSync(join(DASHBOARD_DIR, f), 'utf8')));
  }
  return out;
}

/** Provisioned datasources: uid → type. */
export function provisionedDatasources(): Map<string, string> {
  const dir = join(ROOT, 'dashboards/provisioning/datasources');
  const out = new Map<string, string>();
  for (const f of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n))) {
    const doc = parse(readFileSync(join(dir, f), 'utf8'));
    for (const ds of doc.datasources) out.set(ds.uid, ds.type);
  }
  return out;
}

/** The committed alerting provisioning. */
export function alertingProvisioning(): Json {
  return parse(readFileSync(join(ROOT, 'dashboards/provisioning/alerting/cvd-activity.yaml'), 'utf8'));
}

/** One query of one panel (or template variable), with where it came from. */
export interface PanelQuery {
  dashboard: string;
  panel: string;
  datasourceUid: string;
  target: Json;
  panelJson: Json | null;
}

/** Every query in a dashboard: panel targets and query variables. */
export function queries(file: string, dashboard: Json): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const p of dashboard.panels ?? []) {
    for (const t of p.targets ?? []) {
      out.push({ dashboard: file, panel: p.title, datasourceUid: (t.datasource ?? p.datasource)?.uid, target: t, panelJson: p });
    }
  }
  for (const v of dashboard.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const text = typeof v.query === 'string' ? v.query : v.query.query;
    out.push({ dashboard: file, panel: `variable ${v.name}`, datasourceUid: v.datasource.uid, target: { rawSql: text, expr: text, format: 'table' }, panelJson: null });
  }
  return out;
}

/** Every datasource uid mentioned anywhere in a JSON tree (datasource refs, data links, alert data). */
export function referencedUids(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => referencedUids(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'datasource' && v && typeof v === 'object' && 'uid' in v) out.add(String((v as Json).uid));
      else if (k === 'datasourceUid') out.add(String(v));
      referencedUids(v, out);
    }
  }
  return out;
}
