// Every alert fires on seeded data just above its threshold and stays quiet
// just below, both as `alerts check` evaluates it and as the generated Grafana
// provisioning would (the committed YAML's SQL, macros expanded).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PoolClient } from 'pg';
import { parse } from 'yaml';
import { evaluateAlerts } from '../../src/alerts/evaluate';
import { ALERT_RULES } from '../../src/alerts/rules';
import type { AlertRule } from '../../src/alerts/types';
import { auditRecord, createAuditSchema } from '../support/auditStore';
import type { AuditSchema, EventSpec } from '../support/auditStore';
import { expandGrafanaSql } from '../support/grafanaMacros';

const provisioning = parse(readFileSync(join(__dirname, '../../dashboards/provisioning/alerting/cvd-activity.yaml'), 'utf8'));
const rule = (id: string): AlertRule => ALERT_RULES.find((r) => r.id === id)!;
const MIN = 60_000;

/** Who fires, as `alerts check` and as the provisioned Grafana rule see it (they must agree). */
async function firing(db: AuditSchema, r: AlertRule, until: Date): Promise<string[]> {
  // Both run as the read-only role Grafana and a cron job would use.
  const reader = await db.pool.connect();
  await reader.query('SET ROLE cvd_activity_reader');
  try {
    return await compare(reader, db, r, until);
  } finally {
    await reader.query('RESET ROLE');
    reader.release();
  }
}

async function compare(reader: PoolClient, db: AuditSchema, r: AlertRule, until: Date): Promise<string[]> {
  const [result] = await evaluateAlerts(reader, { schema: db.schema, until, rules: [r] });
  const cli = result!.firings.map((f) => r.labels.map((l) => f.labels[l]).join('|')).sort();
  const grafanaRule = provisioning.groups.flatMap((g: { rules: unknown[] }) => g.rules).find((g: { uid: string }) => g.uid === `cvd-${r.id}`);
  const query = grafanaRule.data[0];
  const from = new Date(until.getTime() - query.relativeTimeRange.from * 1000);
  const sql = expandGrafanaSql(query.model.rawSql, { from, to: until, schema: db.schema });
  const { rows } = await reader.query(sql);
  const grafana = rows.map((row) => r.labels.map((l) => String(row[l])).join('|')).sort();
  expect(grafana, `Grafana's ${r.id} rule disagrees with alerts check`).to.deep.equal(cli);
  for (const row of rows) expect(Number(row.value)).to.be.greaterThan(0); // the threshold expression is "> 0"
  return cli;
}

/** `n` events of one kind, spread evenly over `spanMs` ending at `end`. */
function series(n: number, end: Date, spanMs: number, spec: (i: number) => Omit<EventSpec, 'at'>): EventSpec[] {
  return Array.from({ length: n }, (_, i) => ({ ...spec(i), at: new Date(end.getTime() - spanMs + ((i + 1) * spanMs) / (n + 1)) }));
}

describe('alert rules against the audit trail', function () {
  this.timeout(60_000);
  let db: AuditSchema;
  const until = new Date(Math.floor(Date.now() / 1000) * 1000);
  const seed = (specs: EventSpec[]) => db.seed(specs.map(auditRecord));

  beforeEach(async () => {
    db = await createAuditSchema('alerts');
  });
  afterEach(async () => {
    await db.drop();
  });

  describe('failed-logins (> 5 in 5 minutes)', () => {
    const r = rule('failed-logins');
    const login = (username: string, ip: string): Omit<EventSpec, 'at'> => ({
      action: 'LOGIN_FAILED', category: 'authentication', severity: 'high', outcome: 'failure', userId: null, username, clientAddress: ip,
    });

    it('fires for a user name with 6 failures from different addresses, not for any address', async () => {
      await seed(series(6, until, 4 * MIN, (i) => login('alice', `10.1.0.${i}`)));
      expect(await firing(db, r, until)).to.deep.equal(['username|alice']);
    });

    it('stays quiet at 5 failures', async () => {
      await seed(series(5, until, 4 * MIN, (i) => login('alice', `10.1.0.${i}`)));
      expect(await firing(db, r, until)).to.deep.equal([]);
    });

    it('fires for a client address trying 6 user names (credential stuffing)', async () => {
      await seed(series(6, until, 4 * MIN, (i) => login(`user${i}`, '203.0.113.9')));
      expect(await firing(db, r, until)).to.deep.equal(['client_address|203.0.113.9']);
    });

    it('counts within a sliding 5-minute window: 6 failures spread over 12 minutes stay quiet', async () => {
      await seed(series(6, until, 12 * MIN, () => login('bob', '10.2.0.1')));
      const [result] = await evaluateAlerts(db.pool, { schema: db.schema, until, since: new Date(until.getTime() - 15 * MIN), rules: [r] });
      expect(result!.firings).to.deep.equal([]);
    });

    it('reports who, how many and when', async () => {
      await seed(series(7, until, 4 * MIN, () => login('carol', '10.3.0.1')));
      const [result] = await evaluateAlerts(db.pool, { schema: db.schema, until, rules: [r] });
      const byName = result!.firings.find((f) => f.labels.key_type === 'username')!;
      expect(byName.value).to.equal(7);
      expect(byName.evidence.seen_with).to.deep.equal(['10.3.0.1']);
      expect(byName.message).to.match(/user name carol: 7 failed logins/);
      expect(Date.parse(byName.firstSeen!)).to.be.lessThan(Date.parse(byName.lastSeen!));
    });
  });

  describe('bulk-operations (> 100 records)', () => {
    const r = rule('bulk-operations');
    const bulk = (n: number, userId = 'dana'): EventSpec => ({
      action: 'BULK_OPERATION', at: new Date(until.getTime() - MIN), userId, affectedRecords: n, resourceType: 'product', details: { operation: 'price_update' },
    });

    it('fires at 101 records and names the user', async () => {
      await seed([bulk(101), bulk(100, 'erin')]);
      expect(await firing(db, r, until)).to.deep.equal(['dana']);
    });

    it('stays quiet at 100 records', async () => {
      await seed([bulk(100), bulk(5)]);
      expect(await firing(db, r, until)).to.deep.equal([]);
    });
  });

  describe('data-exports (> 10,000 records)', () => {
    const r = rule('data-exports');
    const exp = (n: number | null, details: Record<string, unknown> = {}, userId = 'frank'): EventSpec => ({
      action: 'DATA_EXPORT', at: new Date(until.getTime() - MIN), userId, affectedRecords: n, resourceType: 'sales', details: { format: 'csv', ...details },
    });

    it('fires at 10,001 records, also when only details.record_count holds the count', async () => {
      await seed([exp(10_001), exp(null, { record_count: 20_000 }, 'gina'), exp(10_000, {}, 'hank')]);
      expect(await firing(db, r, until)).to.deep.equal(['frank', 'gina']);
    });

    it('stays quiet at 10,000 records', async () => {
      await seed([exp(10_000), exp(null, { record_count: 10_000 }, 'gina')]);
      expect(await firing(db, r, until)).to.deep.equal([]);
    });
  });

  describe('permission-escalation (to admin)', () => {
    const r = rule('permission-escalation');
    const change = (oldRole: string, newRole: string, target: string, outcome: 'success' | 'failure' = 'success'): EventSpec => ({
      action: 'PERMISSION_CHANGE', at: new Date(until.getTime() - MIN), userId: 'root-admin', outcome, resourceType: 'user', resourceId: target,
      details: { old_role: oldRole, new_role: newRole, target_user_id: target },
    });

    it('fires when a non-admin becomes admin', async () => {
      await seed([change('operator', 'admin', 'u-17')]);
      expect(await firing(db, r, until)).to.deep.equal(['u-17|root-admin']);
    });

    it('stays quiet for other role changes, admin to admin, and refused changes', async () => {
      await seed([change('operator', 'manager', 'u-1'), change('admin', 'admin', 'u-2'), change('driver', 'admin', 'u-3', 'failure')]);
      expect(await firing(db, r, until)).to.deep.equal([]);
    });
  });

  describe('unusual-activity (per-user median + k x MAD)', () => {
    const r = rule('unusual-activity');
    const HOUR = 60 * MIN;
    /** Baseline hours 30, 40, 50, 40, 45 actions: median 40, MAD 5, limit 40 + 3 x 1.4826 x 5 = 62.24. */
    async function seedBaseline(user: string, lastHour: number): Promise<void> {
      const specs: EventSpec[] = [];
      [30, 40, 50, 40, 45].forEach((n, i) => {
        const end = new Date(until.getTime() - (i * 24 + 3) * HOUR);
        specs.push(...series(n, end, HOUR, () => ({ action: 'DEVICE_UPDATE', category: 'device', userId: user })));
      });
      specs.push(...series(lastHour, until, HOUR, () => ({ action: 'DEVICE_UPDATE', category: 'device', userId: user })));
      await seed(specs);
    }

    it('fires at 63 actions in the hour for a user whose limit is 62.24', async () => {
      await seedBaseline('ivan', 63);
      expect(await firing(db, r, until)).to.deep.equal(['ivan']);
      const [result] = await evaluateAlerts(db.pool, { schema: db.schema, until, rules: [r] });
      expect(result!.firings[0]!.evidence).to.include({ median: 40, mad: 5, limit: 62.24, baseline_active_hours: 5 });
    });

    it('stays quiet at 62 actions', async () => {
      await seedBaseline('ivan', 62);
      expect(await firing(db, r, until)).to.deep.equal([]);
    });

    it('judges a user without history against the floor of 30 actions', async () => {
      await seed(series(31, until, HOUR, () => ({ action: 'ORDER_CREATE', userId: 'new-1' })));
      await seed(series(30, until, HOUR, () => ({ action: 'ORDER_CREATE', userId: 'new-2' })));
      expect(await firing(db, r, until)).to.deep.equal(['new-1']);
    });
  });

  describe('audit-events-quarantined (> 0 in 5 minutes)', () => {
    const r = rule('audit-events-quarantined');
    const quarantine = (eventId: string, stream: string, at: Date) => db.pool.query(
      `INSERT INTO "${db.schema}".audit_quarantine (event_id, stream_id, action, quarantined_at, sql_state, error, event)
       VALUES ($1, $2, 'PRICE_CHANGE', $3, '54000', 'index row too large', '\\x7b7d')`, [eventId, stream, at]);

    it('fires per stream for events quarantined in the window, and stays quiet for older ones', async () => {
      await quarantine('e-1', 'host_1_a', new Date(until.getTime() - MIN));
      await quarantine('e-2', 'host_2_b', new Date(until.getTime() - 10 * MIN));
      expect(await firing(db, r, until)).to.deep.equal(['host_1_a']);
      const [result] = await evaluateAlerts(db.pool, { schema: db.schema, until, rules: [r] });
      expect(result!.firings[0]!.message).to.equal(`1 audit event(s) of stream host_1_a quarantined at ${result!.firings[0]!.firstSeen}`);
    });
  });
});
