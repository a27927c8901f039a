// The committed dashboards and provisioning: they parse, they are what the
// generator makes, every datasource they use is provisioned, and every PromQL
// query names only metrics and labels the span_metrics connector emits.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { generatedFiles } from '../../dashboards/generator/main';
import { PANEL_TABLES_DOC, withPanelTables } from '../../dashboards/generator/panelTables';
import { ALERT_RULES } from '../../src/alerts/rules';
import { promqlNames } from '../support/promql';
import { alertingProvisioning, dashboards, provisionedDatasources, queries, referencedUids, ROOT } from './grafanaFiles';
import { APP_METRICS, SPAN_METRIC_LABELS, SPAN_METRICS } from './spanMetrics';

describe('dashboards: files and provisioning', () => {
  it('name the default schema through DEFAULT_SCHEMA only (store/identifiers.ts), in the generator and alerts/', () => {
    const folders = ['dashboards/generator', 'src/alerts'];
    const spelled = folders.flatMap((folder) => readdirSync(join(ROOT, folder)).filter((f) => f.endsWith('.ts'))
      .filter((f) => /(['"`])cvd_activity\1|cvd_activity\.(audit_|schema_)/.test(readFileSync(join(ROOT, folder, f), 'utf8')))
      .map((f) => `${folder}/${f}`));
    expect(spelled).to.deep.equal([]);
  });

  const all = dashboards();
  const datasources = provisionedDatasources();

  it('has the three dashboards, each parsing with a unique uid and unique panel ids', () => {
    expect([...all.keys()]).to.deep.equal(['api-activity.json', 'audit-trail.json', 'security.json']);
    const uids = [...all.values()].map((d) => d.uid);
    expect(new Set(uids).size).to.equal(3);
    for (const [file, d] of all) {
      expect(d.title, file).to.be.a('string').and.not.empty;
      const ids = d.panels.map((p: { id: number }) => p.id);
      expect(new Set(ids).size, `${file}: panel ids`).to.equal(ids.length);
      for (const p of d.panels.filter((x: { type: string }) => x.type !== 'row')) {
        // core panel types of Grafana 11/12: no plugin to install
        expect(['timeseries', 'table', 'bargauge', 'stat', 'alertlist', 'state-timeline', 'text'], `${file}: "${p.title}" type`).to.include(p.type);
        expect(p.gridPos.x + p.gridPos.w, `${file}: "${p.title}" fits the 24-column grid`).to.be.at.most(24);
        expect(p.description, `${file}: "${p.title}" says what question it answers`).to.be.a('string').with.length.greaterThan(20);
      }
    }
  });

  it('are each described, panel by panel, in docs/dashboards.md (tables generated from the panel descriptions)', () => {
    const reference = readFileSync(join(ROOT, PANEL_TABLES_DOC), 'utf8');
    expect(reference, `${PANEL_TABLES_DOC}: panel tables are stale: run npm run dashboards:generate`).to.equal(withPanelTables(reference));
    expect(reference).to.include('| Recent events | The latest 500 events');
  });

  it('are exactly what `npm run dashboards:generate` writes (alerting YAML included)', () => {
    for (const [path, content] of generatedFiles()) {
      expect(readFileSync(join(ROOT, path), 'utf8'), `${path} is stale: run npm run dashboards:generate`).to.equal(content);
    }
  });

  it('provisions Tempo, Prometheus and PostgreSQL with fixed uids, Postgres read through the reader role', () => {
    expect(Object.fromEntries(datasources)).to.deep.equal({
      prometheus: 'prometheus',
      tempo: 'tempo',
      'cvd-postgres': 'grafana-postgresql-datasource',
    });
    const doc = parse(readFileSync(join(ROOT, 'dashboards/provisioning/datasources/cvd-activity.yaml'), 'utf8'));
    expect(doc.apiVersion).to.equal(1);
    expect(doc.datasources.find((d: { uid: string }) => d.uid === 'cvd-postgres').user).to.equal('cvd_activity_reader');
  });

  it('loads dashboards from /var/lib/grafana/dashboards with a file provider', () => {
    const doc = parse(readFileSync(join(ROOT, 'dashboards/provisioning/dashboards/cvd-activity.yaml'), 'utf8'));
    expect(doc.apiVersion).to.equal(1);
    expect(doc.providers[0]).to.include({ type: 'file' });
    expect(doc.providers[0].options.path).to.equal('/var/lib/grafana/dashboards');
  });

  it('uses only provisioned datasource uids, in panels, variables, data links and alert rules', () => {
    const known = new Set([...datasources.keys(), '__expr__']);
    for (const [file, d] of all) {
      for (const uid of referencedUids(d)) expect(known.has(uid), `${file} uses datasource uid ${uid}`).to.equal(true);
    }
    for (const uid of referencedUids(alertingProvisioning())) expect(known.has(uid), `alerting uses ${uid}`).to.equal(true);
    for (const [file, d] of all) {
      for (const p of d.panels.filter((x: { type: string }) => !['row', 'alertlist', 'text'].includes(x.type))) {
        expect(p.datasource?.uid ?? p.targets?.[0]?.datasource?.uid, `${file}: "${p.title}" has a datasource`).to.be.a('string');
        for (const t of p.targets ?? []) expect(datasources.get(t.datasource.uid), `${file}: "${p.title}" datasource type`).to.equal(t.datasource.type);
      }
    }
  });

  it('names only span-metrics and app metrics and their labels in PromQL', () => {
    let checked = 0;
    for (const [file, d] of all) {
      for (const q of queries(file, d).filter((x) => x.datasourceUid === 'prometheus')) {
        const { metrics, labels } = promqlNames(q.target.expr);
        expect(metrics.size, `${file}: "${q.panel}" names a metric`).to.be.greaterThan(0);
        for (const m of metrics) {
          expect(SPAN_METRICS.has(m) || APP_METRICS.has(m), `${file}: "${q.panel}" uses ${m}, which neither span_metrics nor the app emits`).to.equal(true);
        }
        const allowed = new Set([...SPAN_METRIC_LABELS, ...[...metrics].flatMap((m) => [...(APP_METRICS.get(m) ?? [])])]);
        for (const l of labels) expect(allowed.has(l), `${file}: "${q.panel}" uses label ${l}`).to.equal(true);
        checked += 1;
      }
    }
    expect(checked).to.be.greaterThanOrEqual(10);
  });

  it('provisions every alert rule in Grafana\'s file format', () => {
    const doc = alertingProvisioning();
    expect(doc.apiVersion).to.equal(1);
    const rules = doc.groups.flatMap((g: { rules: unknown[] }) => g.rules);
    expect(rules.map((r: { uid: string }) => r.uid)).to.deep.equal(ALERT_RULES.map((r) => `cvd-${r.id}`));
    for (const group of doc.groups) {
      expect(group).to.include({ orgId: 1, folder: 'cvd-activity' });
      for (const r of group.rules) {
        const rule = ALERT_RULES.find((x) => `cvd-${x.id}` === r.uid)!;
        expect(group.interval, `${rule.id} evaluation interval`).to.equal(`${rule.evaluateEverySeconds}s`);
      }
    }
    expect(new Set(doc.groups.map((g: { name: string }) => g.name)).size).to.equal(doc.groups.length);
    for (const r of rules) {
      const rule = ALERT_RULES.find((x) => `cvd-${x.id}` === r.uid)!;
      expect(r.data.map((x: { refId: string }) => x.refId)).to.include(r.condition);
      expect(r.data[0]).to.deep.include({ datasourceUid: 'cvd-postgres', relativeTimeRange: { from: rule.windowSeconds, to: 0 } });
      expect(r.data[0].model).to.include({ format: 'table', rawQuery: true });
      expect(r.data[1].model).to.include({ type: 'threshold', expression: 'A' });
      expect(r).to.include({ for: '0s', noDataState: 'OK', execErrState: 'Error' });
      expect(r.labels).to.include({ severity: rule.severity, source: 'cvd-activity', rule_id: rule.id });
      expect(r.annotations.description).to.equal(rule.description);
    }
  });
});
