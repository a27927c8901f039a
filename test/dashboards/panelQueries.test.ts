// Every SQL query of every dashboard panel and template variable runs against
// the migrated audit schema (Grafana's macros and variables expanded as
// Grafana would), returns the columns its panel needs, and shows the seeded
// events: a misspelt action, column or filter leaves a panel empty and fails.
import { expect } from 'chai';
import { auditRecord, createAuditSchema } from '../support/auditStore';
import type { AuditSchema, EventSpec } from '../support/auditStore';
import { expandGrafanaSql } from '../support/grafanaMacros';
import { dashboards, queries } from './grafanaFiles';
import type { PanelQuery } from './grafanaFiles';
import { ALERT_RULES } from '../../src/alerts/rules';

const MIN = 60_000;

/** One event of every kind a panel looks at, plus enough to make each alert fire. */
function representativeEvents(now: Date): EventSpec[] {
  const at = (minutesAgo: number) => new Date(now.getTime() - minutesAgo * MIN);
  const events: EventSpec[] = [
    { action: 'LOGIN', at: at(30), userId: 'alice', category: 'authentication', severity: 'high' },
    { action: 'DATA_EXPORT', at: at(3), userId: 'alice', resourceType: 'sales', affectedRecords: 12_000, details: { dataset: 'device_sales', format: 'csv', record_count: 12_000 } },
    { action: 'BULK_OPERATION', at: at(3), userId: 'alice', resourceType: 'product', affectedRecords: 150, details: { operation: 'price_update', target_type: 'product', affected_records: 150 } },
    { action: 'PERMISSION_CHANGE', at: at(3), userId: 'alice', resourceType: 'user', resourceId: 'u-9', details: { old_role: 'driver', new_role: 'admin', target_user_id: 'u-9' } },
    { action: 'CONFIG_CHANGE', at: at(20), userId: 'alice', resourceType: 'config', details: { setting: 'session_timeout', old_value: 30, new_value: 60 }, oldValue: 30, newValue: 60 },
    { action: 'PRICE_CHANGE', at: at(25), userId: 'alice', category: 'financial', resourceType: 'product', resourceId: 'p-1', details: { product: 'p-1', old_price: 1.5, new_price: 1.75, currency: 'EUR' }, oldValue: { price: 1.5 }, newValue: { price: 1.75 } },
    { action: 'SECURITY_ALERT', at: at(2), userId: 'system:cvd-activity-alerts', resourceType: 'alert_rule', resourceId: 'failed-logins',
      details: { rule: 'failed-logins', alert_severity: 'critical', evidence: { message: 'user name mallory: 6 failed logins', labels: { key_type: 'username', key: 'mallory' } } } },
  ];
  for (let i = 0; i < 6; i++) {
    events.push({ action: 'LOGIN_FAILED', at: at(4 - i * 0.5), userId: null, category: 'authentication', outcome: 'failure', username: 'mallory', clientAddress: '198.51.100.7' });
  }
  for (let i = 0; i < 31; i++) events.push({ action: 'DEVICE_UPDATE', at: at(50 - i), userId: 'alice', category: 'device', resourceType: 'device', resourceId: `d-${i}` });
  return events;
}

/** Columns a panel needs from its query. */
function expectedColumns(q: PanelQuery): string[] {
  if (q.panel.startsWith('variable ')) return [];
  if (q.target.format === 'time_series') return ['time', 'metric', 'value'];
  const cols = new Set<string>();
  for (const o of q.panelJson?.fieldConfig?.overrides ?? []) if (o.matcher.id === 'byName') cols.add(o.matcher.options);
  for (const s of q.panelJson?.options?.sortBy ?? []) cols.add(s.displayName);
  const rule = ALERT_RULES.find((r) => q.panel === `${r.title} (${r.severity})`);
  if (rule) ['value', 'first_seen', 'last_seen', 'evidence', ...rule.labels].forEach((c) => cols.add(c));
  if (q.panel === 'Recent events') ['time', 'user', 'action', 'resource', 'outcome', 'change', 'trace_id'].forEach((c) => cols.add(c));
  return [...cols];
}

describe('dashboards: every SQL query against the migrated schema', function () {
  this.timeout(60_000);
  let db: AuditSchema;
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const range = { from: new Date(now.getTime() - 6 * 60 * MIN), to: now, interval: '1m' };
  const sqlQueries = [...dashboards()].flatMap(([file, d]) => queries(file, d)).filter((q) => q.datasourceUid === 'cvd-postgres');

  before(async () => {
    db = await createAuditSchema('dash');
    await db.seed(representativeEvents(now).map(auditRecord));
    // An event Postgres refused for its content, kept in the quarantine (the quarantine alert's panel).
    await db.pool.query(`INSERT INTO "${db.schema}".audit_quarantine (event_id, stream_id, action, quarantined_at, error, event)
      VALUES ('refused-1', 'host_1_a', 'PRICE_CHANGE', $1, 'index row too large', '\\x7b7d')`, [new Date(now.getTime() - 2 * MIN)]);
  });
  after(async () => {
    await db?.drop();
  });

  it('finds the Postgres queries of all three dashboards', () => {
    expect(sqlQueries.length).to.be.greaterThanOrEqual(20);
  });

  for (const variables of [
    { service: '__all', user: '__all', action: '__all', search: '' },
    { service: 'cvd-api', user: 'alice', action: 'PRICE_CHANGE', search: "o'brien" },
  ]) {
    it(`run as the read-only Grafana role and return their columns, variables ${JSON.stringify(variables)}`, async () => {
      const reader = await db.pool.connect();
      await reader.query('SET ROLE cvd_activity_reader'); // what the Grafana datasource logs in as
      try {
        for (const q of sqlQueries) {
          const sql = expandGrafanaSql(q.target.rawSql, { ...range, variables, schema: db.schema });
          let result;
          try {
            result = await reader.query(sql);
          } catch (e) {
            throw new Error(`${q.dashboard}: "${q.panel}" fails: ${(e as Error).message}\n${sql}`);
          }
          const columns = result.fields.map((f) => f.name);
          for (const c of expectedColumns(q)) expect(columns, `${q.dashboard}: "${q.panel}"`).to.include(c);
          if (q.target.format === 'time_series') {
            for (const row of result.rows) expect(Number.isFinite(Number(row.value)), `${q.panel}: numeric value`).to.equal(true);
          }
          if (columns.includes('trace_id')) {
            const links = (q.panelJson?.fieldConfig?.overrides ?? []).find((o: { matcher: { options: string } }) => o.matcher.options === 'trace_id');
            expect(links?.properties?.[0]?.value?.[0]?.internal?.datasourceUid, `${q.panel}: trace_id opens Tempo`).to.equal('tempo');
          }
        }
      } finally {
        await reader.query('RESET ROLE');
        reader.release();
      }
    });
  }

  it('show the seeded events in every panel when no filter is set', async () => {
    const variables = { service: '__all', user: '__all', action: '__all', search: '' };
    for (const q of sqlQueries) {
      const { rowCount } = await db.pool.query(expandGrafanaSql(q.target.rawSql, { ...range, variables, schema: db.schema }));
      expect(rowCount, `${q.dashboard}: "${q.panel}" is empty on seeded data`).to.be.greaterThan(0);
    }
  });

  it('report an untouched hash chain as consistent, with its head equal to the stored rows', async () => {
    const chain = sqlQueries.find((q) => q.panel === 'Chain heads against stored rows')!;
    const { rows } = await db.pool.query(expandGrafanaSql(chain.target.rawSql, { ...range, schema: db.schema }));
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ status: 'consistent' });
    expect(Number(rows[0].head_seq)).to.equal(representativeEvents(now).length);
    expect(Number(rows[0].stored_rows)).to.equal(representativeEvents(now).length);
  });

  it('narrow to the chosen user and action', async () => {
    const recent = sqlQueries.find((q) => q.panel === 'Recent events')!;
    const run = async (variables: Record<string, string>) =>
      (await db.pool.query(expandGrafanaSql(recent.target.rawSql, { ...range, variables, schema: db.schema }))).rows;
    const rows = await run({ service: '__all', user: 'alice', action: 'PRICE_CHANGE', search: '' });
    expect(rows.map((r) => [r.user, r.action])).to.deep.equal([['alice', 'PRICE_CHANGE']]);
    expect(rows[0].change).to.equal('{"price": 1.5} → {"price": 1.75}');
    const searched = await run({ service: '__all', user: '__all', action: '__all', search: 'mallory' });
    // the six failed logins by that name, and the alert about them (its evidence names mallory)
    expect(searched.map((r) => r.action).sort()).to.deep.equal([...Array(6).fill('LOGIN_FAILED'), 'SECURITY_ALERT']);
  });

  it('show recorded security alerts with their rule, severity and message', async () => {
    const q = sqlQueries.find((x) => x.panel === 'Recorded security alerts')!;
    const { rows } = await db.pool.query(expandGrafanaSql(q.target.rawSql, { ...range, schema: db.schema }));
    expect(rows.map((r) => [r.rule, r.severity, r.message])).to.deep.equal([['failed-logins', 'critical', 'user name mallory: 6 failed logins']]);
  });
});
