// End to end: `cvd-activity demo` as a user runs it (the built CLI in a child
// process, the instrumented API in a grandchild under --require), then every
// number of its --json summary is checked against the database.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import type { DemoSummary } from '../../src/demo/run';
import { createTestSchema } from '../support/database';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');

/** Environment with no database configured and no traces exported, plus `extra`. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(PG[A-Z]+|DATABASE_URL|CVD_ACTIVITY_.*|OTEL_.*)$/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

function runCli(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { ...options, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), done(true)));
    socket.once('error', () => done(false));
  });
}

function parseSummary(out: { code: number; stdout: string; stderr: string }): DemoSummary {
  expect(out.code, `demo exited ${out.code}; stderr:\n${out.stderr}`).to.equal(0);
  return JSON.parse(out.stdout) as DemoSummary;
}

describe('cvd-activity demo (end to end)', function () {
  this.timeout(240_000);

  describe('against the configured PostgreSQL, in a schema of its own', () => {
    let db: Awaited<ReturnType<typeof createTestSchema>>;
    let client: pg.Client;
    let summary: DemoSummary;
    let cwd: string;

    before(async () => {
      db = await createTestSchema('demo');
      cwd = mkdtempSync(join(tmpdir(), 'cvd-demo-test-'));
      const out = await runCli(['demo', '--duration', '6', '--json', '--schema', db.schema, '--database-url', db.url], { cwd, env: cleanEnv() });
      summary = parseSummary(out);
      client = new pg.Client({ connectionString: db.url });
      await client.connect();
    });
    after(async () => {
      await client?.end();
      await db?.drop();
      if (cwd) rmSync(cwd, { recursive: true, force: true });
    });

    it('stores exactly the audit events the simulated requests caused, by action and by category', async () => {
      const s = `"${db.schema}"`;
      const byAction = Object.fromEntries(
        (await client.query(`SELECT action, count(*)::int AS n FROM ${s}.audit_log GROUP BY 1`)).rows.map((r) => [r.action, r.n]),
      );
      const byCategory = Object.fromEntries(
        (await client.query(`SELECT category, count(*)::int AS n FROM ${s}.audit_log GROUP BY 1`)).rows.map((r) => [r.category, r.n]),
      );
      expect(byAction).to.deep.equal(summary.simulator.expectedAudit);
      expect(summary.audit.byAction).to.deep.equal(byAction);
      expect(summary.audit.byCategory).to.deep.equal(byCategory);
      expect(summary.audit.total).to.equal(Object.values(byAction).reduce((a: number, b) => a + Number(b), 0));
      expect(summary.audit.schemaInvalid, 'events the catalog rejected').to.equal(0);
      expect(Object.keys(byCategory)).to.include.members(['security', 'device', 'planogram', 'service_order', 'financial', 'route']);
    });

    it('gives every change its before and after values', async () => {
      const { rows } = await client.query(
        `SELECT action, count(*)::int AS n,
                count(*) FILTER (WHERE old_value IS NULL OR old_value = 'null'::jsonb)::int AS no_old,
                count(*) FILTER (WHERE new_value IS NULL OR new_value = 'null'::jsonb)::int AS no_new
         FROM "${db.schema}".audit_log GROUP BY action`,
      );
      const changes = /_(UPDATE|CHANGE|ASSIGN|COMPLETE|CANCEL|ADJUST|OPTIMIZE)$|^BULK_OPERATION$|^ROUTE_STOP_/;
      const checked = rows.filter((r) => changes.test(r.action) || /_(CREATE|DELETE)$/.test(r.action));
      expect(checked.length, 'change actions in the trail').to.be.greaterThan(15);
      for (const r of checked) {
        // A cabinet that is added has no before; every other change has both sides.
        const needsOld = !/_CREATE$/.test(r.action) && r.action !== 'CABINET_UPDATE';
        const needsNew = !/_DELETE$/.test(r.action);
        if (needsOld) expect(r.no_old, `${r.action} without oldValue`).to.equal(0);
        if (needsNew) expect(r.no_new, `${r.action} without newValue`).to.equal(0);
      }
    });

    it('records the brute-force burst as LOGIN_FAILED rows from one address with rising attempt counts', async () => {
      const { rows } = await client.query(
        `SELECT p.client_address, p.fields->>'username' AS username, (l.details->>'attempt_count')::int AS attempt, (l.details->>'max_attempts')::int AS max
         FROM "${db.schema}".audit_log l JOIN "${db.schema}".audit_personal p USING (event_id)
         WHERE l.action = 'LOGIN_FAILED' ORDER BY l.seq`,
      );
      const burst = summary.simulator.bruteForce;
      expect(burst.attempts).to.be.greaterThan(5);
      expect(rows).to.have.length(burst.attempts);
      expect(rows.map((r) => r.client_address)).to.deep.equal(rows.map(() => burst.ip));
      expect(rows.map((r) => r.username)).to.deep.equal(rows.map(() => burst.username));
      expect(rows.map((r) => r.attempt)).to.deep.equal(rows.map((_, i) => i + 1));
      expect(rows[0].max).to.be.greaterThan(0);
      expect(summary.audit.failedLogins.map((f) => f.attemptCount)).to.deep.equal(rows.map((r) => r.attempt));
    });

    it('keeps each actor\'s own address (X-Forwarded-For trusted from loopback only)', async () => {
      const { rows } = await client.query(
        `SELECT l.user_id, p.client_address FROM "${db.schema}".audit_log l JOIN "${db.schema}".audit_personal p USING (event_id)
         WHERE l.action = 'LOGIN' ORDER BY l.seq`,
      );
      const addresses = Object.fromEntries(rows.map((r) => [r.user_id, r.client_address]));
      expect(addresses).to.include({ alice: '198.51.100.10', mona: '198.51.100.11', dan: '198.51.100.21' });
    });

    it('records the incidents the alerts watch, with before/after values', async () => {
      const s = `"${db.schema}"`;
      const exports = (await client.query(`SELECT (details->>'record_count')::int AS n FROM ${s}.audit_log WHERE action = 'DATA_EXPORT'`)).rows;
      expect(Math.max(...exports.map((r) => r.n))).to.equal(summary.simulator.largeExport.records).and.to.be.greaterThan(10_000);
      const escalation = (await client.query(`SELECT details, old_value, new_value FROM ${s}.audit_log WHERE action = 'PERMISSION_CHANGE'`)).rows;
      expect(escalation).to.have.length(1);
      expect(escalation[0].details).to.include({ old_role: 'viewer', new_role: 'admin' });
      expect(escalation[0].new_value).to.deep.equal({ roles: ['admin'] });
      const price = (await client.query(`SELECT old_value, new_value FROM ${s}.audit_log WHERE action = 'PRICE_CHANGE' LIMIT 1`)).rows[0];
      expect(price.old_value).to.have.property('price_cents').that.is.a('number');
      expect(price.new_value).to.have.property('price_cents').that.is.a('number');
      expect(summary.alerts.map((a) => a.name)).to.include.members(['failed-logins', 'bulk-operations', 'data-exports', 'permission-escalation']);
    });

    it('stores the web UI\'s browser sessions under the server\'s users, with browser, OS and device', async () => {
      const s = `"${db.schema}"`;
      const sent = summary.simulator.browser;
      expect(sent.sessions).to.be.greaterThan(0);
      const stored = (await client.query(`SELECT count(*)::int AS n FROM ${s}.browser_events`)).rows[0].n;
      expect(stored).to.equal(sent.events);
      expect(summary.browser.total).to.equal(stored);
      expect(summary.browser.users).to.deep.equal([...sent.users].sort());
      expect(summary.browser.byType).to.include.keys('page_view', 'vital', 'search', 'form_start', 'scroll');
      const browsers = (await client.query(`SELECT DISTINCT browser, os, device FROM ${s}.browser_events ORDER BY 1`)).rows;
      expect(browsers.length).to.be.greaterThan(1);
      expect(browsers.every((b) => b.browser && b.os && b.device)).to.equal(true);
    });

    it('reports a verified chain and the server\'s own counters', () => {
      expect(summary.verification.ok, summary.verification.message).to.equal(true);
      expect(summary.verification.events).to.equal(summary.audit.total);
      expect(summary.activity, 'activity counters of the demo API').to.not.equal(null);
      expect(summary.activity!.requests).to.equal(summary.simulator.requests - summary.simulator.networkErrors);
      expect(summary.activity!.auditEventsRecorded).to.equal(summary.audit.total);
      expect(summary.activity!.spansDropped, 'health checks and static files').to.be.greaterThan(0);
      expect(summary.traces.exporter).to.equal('none');
    });
  });

  describe('with no database configured', () => {
    let cwd: string;
    before(() => {
      cwd = mkdtempSync(join(tmpdir(), 'cvd-demo-embedded-'));
      // As root the embedded server runs as user `postgres`, which must reach its data folder.
      chmodSync(cwd, 0o755);
    });
    after(() => rmSync(cwd, { recursive: true, force: true }));

    it('runs on an embedded PostgreSQL kept under .cvd-activity, twice, and records where it is', async () => {
      const port = String(55000 + Math.floor(Math.random() * 900));
      const env = cleanEnv();
      const first = parseSummary(await runCli(['demo', '--duration', '3', '--json', '--pg-port', port], { cwd, env }));
      expect(first.database.kind).to.equal('embedded');
      expect(first.verification.ok, first.verification.message).to.equal(true);
      const info = JSON.parse(readFileSync(join(cwd, '.cvd-activity', 'demo.json'), 'utf8'));
      expect(info).to.include({ port: Number(port), schema: 'cvd_activity' });
      expect(existsSync(join(cwd, '.cvd-activity', 'demo-pg', 'PG_VERSION'))).to.equal(true);

      const second = parseSummary(await runCli(['demo', '--duration', '3', '--json', '--pg-port', port], { cwd, env }));
      expect(second.audit.total, 'the second run adds to the first run\'s trail').to.be.greaterThan(first.audit.total);
      expect(second.verification.ok, second.verification.message).to.equal(true);
      expect(second.verification.events).to.equal(second.audit.total);
      expect(await portOpen(Number(port)), 'the demo stops its embedded server').to.equal(false);

      // After the demo: the CLI, with no database configured, reads the demo's embedded database.
      const burst = second.simulator.bruteForce;
      const query = await runCli(['audit', 'query', '--action', 'LOGIN_FAILED'], { cwd, env });
      expect(query.code, query.stderr).to.equal(0);
      expect(query.stderr).to.match(/^cvd-activity: no database configured; using the demo's embedded PostgreSQL \(.*demo-pg, port \d+, schema cvd_activity\)\n$/);
      const rows = query.stdout.split('\n').filter((l) => l.includes('LOGIN_FAILED'));
      const failedLogins = second.audit.failedLogins.length; // both runs': the summary reads the whole schema
      expect(failedLogins).to.equal(2 * burst.attempts);
      expect(rows, query.stdout).to.have.length(failedLogins);
      expect(query.stdout).to.include(`${failedLogins} event(s)`);
      for (let attempt = 1; attempt <= burst.attempts; attempt++) {
        const line = new RegExp(`LOGIN_FAILED\\s+failure\\s+.*${burst.ip.replace(/\./g, '\\.')}\\s+username=${burst.username} attempt=${attempt}/${second.audit.failedLogins[0]!.maxAttempts}\\b`);
        expect(rows.filter((l) => line.test(l)), `attempt ${attempt} from ${burst.ip} in:\n${query.stdout}`).to.have.length(2);
      }
      expect(await portOpen(Number(port)), 'the CLI stops the server it started').to.equal(false);

      // The read was itself audited in the demo's trail, and json output is complete.
      const json = await runCli(['audit', 'query', '--action', 'VIEW_ACTIVITY_MONITOR,LOGIN_FAILED', '--format', 'json', '--limit', '1'], { cwd, env });
      expect(json.code, json.stderr).to.equal(0);
      const [latest] = JSON.parse(json.stdout);
      expect(latest).to.deep.include({ action: 'VIEW_ACTIVITY_MONITOR', category: 'monitoring', details: { view: 'audit query --action LOGIN_FAILED' } });

      // Exit codes survive the embedded server's exit hook: 1 for firing alerts, 3 for a missing schema.
      const alerts = await runCli(['alerts', 'check'], { cwd, env });
      expect(alerts.code, alerts.stderr).to.equal(1);
      expect(alerts.stderr).to.match(/alerts firing: failed-logins \(critical\)/);
      const missing = await runCli(['--schema', 'nope', 'audit', 'verify'], { cwd, env });
      expect(missing.code, missing.stderr).to.equal(3);
      expect(missing.stderr).to.include('schema nope)').and.include('schema "nope" at 127.0.0.1:');
      expect(await portOpen(Number(port)), 'stopped after a failing command too').to.equal(false);
    });
  });

  it('fails with one clear line: exit 2 for a bad flag, 3 for an unreachable database', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'cvd-demo-fail-'));
    try {
      const bad = await runCli(['demo', '--duration', 'soon'], { cwd, env: cleanEnv() });
      expect(bad.code).to.equal(2);
      expect(bad.stderr.trim().split('\n')).to.have.length(1);
      expect(bad.stderr).to.match(/--duration must be a whole number from 1 to 3600, got "soon"/);
      const down = await runCli(['demo', '--duration', '1', '--database-url', 'postgres://nobody:secret@127.0.0.1:9/none'], { cwd, env: cleanEnv() });
      expect(down.code).to.equal(3);
      expect(down.stderr.trim().split('\n').pop()).to.match(/^cvd-activity: demo: cannot connect to PostgreSQL at postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:9\/none/);
      expect(down.stderr).to.not.match(/\n\s+at |secret/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
