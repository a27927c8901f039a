// `cvd-activity alerts check` end to end against a migrated schema, through
// the real CLI program: what it prints, its exit codes for cron, and --record
// storing SECURITY_ALERT events (by default through the store's writer, or
// through an injected recorder).
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import { alertCommands } from '../../src/cli/commands/alerts';
import { defaultConfig } from '../../src/config/defaults';
import { resolveConnection } from '../../src/cli/connection';
import { runCli } from '../../src/cli/program';
import type { CliContext } from '../../src/cli/program';
import type { AlertFiring } from '../../src/alerts/types';
import { securityAlertEvent } from '../../src/alerts/report';
import { auditRecord, createAuditSchema } from '../support/auditStore';
import type { AuditSchema } from '../support/auditStore';

function sink(): { stream: Writable; text(): string } {
  let text = '';
  const stream = new Writable({ write: (chunk: Buffer, _enc, done) => void ((text += chunk.toString()), done()) });
  return { stream, text: () => text };
}

describe('alerts check (CLI command)', function () {
  this.timeout(60_000);
  let db: AuditSchema;
  const now = Date.now();
  const ago = (ms: number) => new Date(now - ms);

  /** Runs the real program in-process; resolves to exit code and output. */
  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out = sink();
    const err = sink();
    const code = await runCli(['node', 'cvd-activity', '--schema', db.schema, ...args], { stdout: out.stream, stderr: err.stream, env: { CVD_ACTIVITY_DATABASE_URL: db.url } });
    return { code, out: out.text(), err: err.text() };
  }

  beforeEach(async () => {
    db = await createAuditSchema('alertcli');
  });
  afterEach(async () => {
    await db.drop();
  });

  it('exits 0 and prints every rule as ok when nothing fires', async () => {
    const r = await cli('alerts', 'check');
    expect(r.code).to.equal(0);
    expect(r.out.trim().split('\n')).to.have.length(6);
    expect(r.out).to.match(/CRITICAL\s+failed-logins\s+ok/);
  });

  it('exits 1 when a critical rule fires, saying who, how many and when', async () => {
    await db.seed([auditRecord({ action: 'PERMISSION_CHANGE', at: ago(60_000), userId: 'root', resourceType: 'user', resourceId: 'u-5', details: { old_role: 'viewer', new_role: 'admin', target_user_id: 'u-5' } })]);
    const r = await cli('alerts', 'check');
    expect(r.code).to.equal(1);
    expect(r.out).to.match(/CRITICAL\s+permission-escalation\s+FIRING \(1\)/);
    expect(r.out).to.include('user u-5 made admin by root at ');
    expect(r.err).to.equal('cvd-activity: alerts firing: permission-escalation (critical)\n');
  });

  it('exits 0 when only a non-critical rule fires, and 1 with --fail-on high', async () => {
    await db.seed([auditRecord({ action: 'DATA_EXPORT', at: ago(60_000), userId: 'eve', affectedRecords: 50_000, details: { format: 'xlsx' } })]);
    expect((await cli('alerts', 'check')).code).to.equal(0);
    const r = await cli('alerts', 'check', '--fail-on', 'high', '--format', 'json');
    expect(r.code).to.equal(1);
    const exports = JSON.parse(r.out).find((x: { rule: string }) => x.rule === 'data-exports');
    expect(exports).to.include({ firing: true, severity: 'high' });
    expect(exports.firings[0]).to.deep.include({ labels: { user_id: 'eve' }, value: 50_000 });
    expect(exports.firings[0].evidence.events[0]).to.include({ format: 'xlsx', records: 50_000 });
  });

  it('looks back over --since and not before it', async () => {
    await db.seed([auditRecord({ action: 'BULK_OPERATION', at: ago(50 * 60_000), userId: 'olga', affectedRecords: 500 })]);
    const firing = async (...a: string[]) => JSON.parse((await cli('alerts', 'check', '--rule', 'bulk-operations', '--format', 'json', ...a)).out)[0].firing;
    expect(await firing()).to.equal(false);
    expect(await firing('--since', '1h')).to.equal(true);
    expect(await firing('--since', '1h', '--until', '55m')).to.equal(false);
  });

  it('--record stores a SECURITY_ALERT the Security dashboard shows, once per rule window', async () => {
    await db.seed(
      Array.from({ length: 6 }, (_, i) =>
        auditRecord({ action: 'LOGIN_FAILED', at: ago((i + 1) * 20_000), userId: null, outcome: 'failure', username: 'zoe', clientAddress: `10.9.0.${i}` }),
      ),
    );
    const first = await cli('alerts', 'check', '--record');
    expect(first.code).to.equal(1);
    expect(first.out).to.include('recorded 1 SECURITY_ALERT event(s)');
    const { rows } = await db.pool.query(`SELECT user_id, resource_id, severity, details FROM "${db.schema}".audit_trail WHERE action = 'SECURITY_ALERT'`);
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ user_id: 'system:cvd-activity-alerts', resource_id: 'failed-logins', severity: 'critical' });
    expect(rows[0].details).to.deep.include({ rule: 'failed-logins', alert_severity: 'critical' });
    expect(rows[0].details.evidence).to.deep.include({ value: 6, labels: { key_type: 'username', key: 'zoe' } });
    const again = await cli('alerts', 'check', '--record');
    expect(again.code).to.equal(1); // still firing…
    expect(again.out).to.include('recorded 0 SECURITY_ALERT event(s)'); // …but already recorded
  });

  it('hands firings to an injected recorder (how the composition root routes them through the audit pipeline)', async () => {
    await db.seed([auditRecord({ action: 'BULK_OPERATION', at: ago(60_000), userId: 'pat', affectedRecords: 101, details: { operation: 'delete', target_type: 'device' } })]);
    const recorded: AlertFiring[] = [];
    const out = sink();
    const program = new Command().exitOverride();
    const context: CliContext = {
      group: (name, description) => program.command(name).description(description).exitOverride(),
      connection: () => resolveConnection({ databaseUrl: db.url, schema: db.schema }, {}),
      config: () => defaultConfig({}),
      recordAudit: async () => {},
      stdout: out.stream,
      stderr: sink().stream,
    };
    alertCommands({ recordSecurityAlert: async (f) => void recorded.push(f) })(program, context);
    await program.parseAsync(['alerts', 'check', '--record'], { from: 'user' });
    expect(recorded.map((f) => [f.ruleId, f.labels.user_id, f.value])).to.deep.equal([['bulk-operations', 'pat', 101]]);
    expect(securityAlertEvent(recorded[0]!).details.evidence).to.deep.include({ operations: 1, total_records: 101 });
  });

  it('alerts list shows every rule with its threshold, as text and JSON', async () => {
    const rules = JSON.parse((await cli('alerts', 'list', '--format', 'json')).out);
    expect(rules.map((r: { id: string; threshold: number }) => [r.id, r.threshold])).to.deep.equal([
      ['failed-logins', 5], ['bulk-operations', 100], ['data-exports', 10_000], ['permission-escalation', 0], ['audit-events-quarantined', 0],
      ['unusual-activity', 3],
    ]);
    expect((await cli('alerts', 'list')).out).to.match(/^unusual-activity \(medium, window 3600s, threshold 3\)\n  Unusual user activity: .*median \+ 3 x 1\.4826 x MAD/m);
  });

  it('exits 2 on bad flags and 3 when the database cannot be read, with one line each', async () => {
    const bad = await cli('alerts', 'check', '--since', 'yesterday');
    expect(bad.code).to.equal(2);
    expect(bad.err).to.match(/^cvd-activity: --since: "yesterday" is not valid; use an ISO 8601 date/);
    const unknownRule = await cli('alerts', 'check', '--rule', 'nope');
    expect(unknownRule.code).to.equal(2);
    expect(unknownRule.err).to.match(/--rule: "nope" is not valid; use one of: failed-logins, bulk-operations/);
    const badFormat = await cli('alerts', 'check', '--format', 'xml');
    expect(badFormat.code).to.equal(2);
    const out = sink();
    const err = sink();
    const noSchema = await runCli(['node', 'cvd-activity', '--schema', 'no_such_schema', 'alerts', 'check'], { stdout: out.stream, stderr: err.stream, env: { CVD_ACTIVITY_DATABASE_URL: db.url } });
    expect(noSchema).to.equal(3);
    expect(err.text()).to.match(/schema "no_such_schema" .* has no audit trail; run `cvd-activity migrate` first/);
  });

  it('as a process, ends with the exit code cron sees', async () => {
    await db.seed([auditRecord({ action: 'PERMISSION_CHANGE', at: ago(60_000), userId: 'root', resourceType: 'user', resourceId: 'u-6', details: { old_role: 'driver', new_role: 'admin', target_user_id: 'u-6' } })]);
    const root = join(__dirname, '..', '..');
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), '--schema', db.schema, 'alerts', 'check'], {
      cwd: root,
      env: { ...process.env, CVD_ACTIVITY_DATABASE_URL: db.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).to.equal(1);
    expect(stdout).to.include('user u-6 made admin by root');
  });
});
