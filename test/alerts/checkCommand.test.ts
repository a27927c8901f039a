// `cvd-activity alerts check` end to end against a migrated schema: what it
// prints, its exit codes for cron, and --record handing firings to the
// injected SECURITY_ALERT recorder.
import { expect } from 'chai';
import { Command } from 'commander';
import pg from 'pg';
import { registerAlertCommands } from '../../src/cli/commands/alerts';
import type { AlertFiring } from '../../src/alerts/types';
import { securityAlertEvent } from '../../src/alerts/report';
import { auditRecord, createAuditSchema } from '../support/auditStore';
import type { AuditSchema } from '../support/auditStore';

interface Run {
  code: number | undefined;
  out: string;
  err: string;
  recorded: AlertFiring[];
}

describe('alerts check (CLI command)', function () {
  this.timeout(60_000);
  let db: AuditSchema;
  const now = Date.now();

  async function run(args: string[], withRecorder = true): Promise<Run> {
    const r: Run = { code: undefined, out: '', err: '', recorded: [] };
    const program = new Command().exitOverride();
    registerAlertCommands(program, {
      connect: async (url) => {
        const client = new pg.Client({ connectionString: url ?? db.url });
        await client.connect();
        return client;
      },
      schema: db.schema,
      ...(withRecorder ? { recordSecurityAlert: (f: AlertFiring) => void r.recorded.push(f) } : {}),
      stdout: (s) => void (r.out += s),
      stderr: (s) => void (r.err += s),
      setExitCode: (c) => void (r.code = c),
    });
    await program.parseAsync(['alerts', 'check', ...args], { from: 'user' });
    return r;
  }

  beforeEach(async () => {
    db = await createAuditSchema('alertcli');
  });
  afterEach(async () => {
    await db.drop();
  });

  it('exits 0 and prints every rule as ok when nothing fires', async () => {
    const r = await run([]);
    expect(r.code).to.equal(0);
    expect(r.out.trim().split('\n')).to.have.length(5);
    expect(r.out).to.match(/CRITICAL\s+failed-logins\s+ok/);
  });

  it('exits 1 when a critical rule fires, with who, how many and when', async () => {
    await db.seed([
      auditRecord({ action: 'PERMISSION_CHANGE', at: new Date(now - 60_000), userId: 'root', resourceType: 'user', resourceId: 'u-5', details: { old_role: 'viewer', new_role: 'admin', target_user_id: 'u-5' } }),
    ]);
    const r = await run([]);
    expect(r.code).to.equal(1);
    expect(r.out).to.match(/CRITICAL\s+permission-escalation\s+FIRING \(1\)/);
    expect(r.out).to.include('user u-5 made admin by root at ');
  });

  it('exits 0 when only a non-critical rule fires, and 1 with --fail-on high', async () => {
    await db.seed([auditRecord({ action: 'DATA_EXPORT', at: new Date(now - 60_000), userId: 'eve', affectedRecords: 50_000, details: { format: 'xlsx' } })]);
    expect((await run([])).code).to.equal(0);
    const r = await run(['--fail-on', 'high', '--format', 'json']);
    expect(r.code).to.equal(1);
    const report = JSON.parse(r.out);
    const exports = report.find((x: { rule: string }) => x.rule === 'data-exports');
    expect(exports).to.include({ firing: true, severity: 'high' });
    expect(exports.firings[0]).to.deep.include({ labels: { user_id: 'eve' }, value: 50_000 });
    expect(exports.firings[0].evidence.events[0]).to.include({ format: 'xlsx', records: 50_000 });
  });

  it('looks back over --since and not before it', async () => {
    await db.seed([auditRecord({ action: 'BULK_OPERATION', at: new Date(now - 50 * 60_000), userId: 'olga', affectedRecords: 500 })]);
    expect((await run(['--rule', 'bulk-operations', '--format', 'json'])).out).to.include('"firing": false');
    expect((await run(['--rule', 'bulk-operations', '--since', '1h', '--format', 'json'])).out).to.include('"firing": true');
    expect((await run(['--rule', 'bulk-operations', '--since', '1h', '--until', '55m', '--format', 'json'])).out).to.include('"firing": false');
  });

  it('--record hands each firing to the SECURITY_ALERT recorder, once per rule window', async () => {
    await db.seed(
      Array.from({ length: 6 }, (_, i) =>
        auditRecord({ action: 'LOGIN_FAILED', at: new Date(now - (i + 1) * 20_000), userId: null, outcome: 'failure', username: 'zoe', clientAddress: `10.9.0.${i}` }),
      ),
    );
    const r = await run(['--record']);
    expect(r.code).to.equal(1);
    expect(r.recorded).to.have.length(1);
    const event = securityAlertEvent(r.recorded[0]!);
    expect(event).to.deep.include({ resourceType: 'alert_rule', resourceId: 'failed-logins' });
    expect(event.details).to.include({ rule: 'failed-logins', alert_severity: 'critical' });
    expect(event.details.evidence).to.deep.include({ value: 6, labels: { key_type: 'username', key: 'zoe' } });
    expect(event.details.evidence.message).to.match(/^user name zoe: 6 failed logins/);
    // What the wired recorder does: store it as an audit event. The next cron run does not record it again.
    await db.seed([auditRecord({ action: 'SECURITY_ALERT', at: new Date(), userId: 'system:cvd-activity-alerts', ...event })]);
    const again = await run(['--record']);
    expect(again.code).to.equal(1); // still firing
    expect(again.recorded).to.have.length(0);
    expect(again.out).to.include('recorded 0 SECURITY_ALERT event(s)');
  });

  it('alerts list shows the five rules with their thresholds, as text and JSON', async () => {
    const program = new Command().exitOverride();
    let out = '';
    registerAlertCommands(program, { stdout: (s) => void (out += s), setExitCode: () => {} });
    await program.parseAsync(['alerts', 'list', '--format', 'json'], { from: 'user' });
    const rules = JSON.parse(out);
    expect(rules.map((r: { id: string; threshold: number }) => [r.id, r.threshold])).to.deep.equal([
      ['failed-logins', 5], ['bulk-operations', 100], ['data-exports', 10_000], ['permission-escalation', 0], ['unusual-activity', 3],
    ]);
    out = '';
    await program.parseAsync(['alerts', 'list'], { from: 'user' });
    expect(out).to.match(/^unusual-activity \(medium, window 3600s, threshold 3\)\n  Unusual user activity: .*median \+ 3 x 1\.4826 x MAD/m);
  });

  it('exits 2 with one clear line when it cannot check', async () => {
    const bad = await run(['--since', 'yesterday']);
    expect(bad.code).to.equal(2);
    expect(bad.err).to.equal('cvd-activity alerts check: --since "yesterday" is not a duration (e.g. 90s, 15m, 2h, 7d) or an ISO 8601 time (e.g. 2026-01-31T12:00:00Z)\n');
    const noRecorder = await run(['--record'], false);
    expect(noRecorder.code).to.equal(2);
    expect(noRecorder.err).to.match(/--record needs the audit pipeline/);
    const noSchema = await run(['--schema', 'no_such_schema']);
    expect(noSchema.code).to.equal(2);
    expect(noSchema.err).to.match(/alert rule failed-logins: query failed: relation "no_such_schema.audit_trail" does not exist/);
    const unknownRule = await run(['--rule', 'nope']);
    expect(unknownRule.err).to.match(/--rule "nope" is not a rule; rules are failed-logins, /);
  });
});
