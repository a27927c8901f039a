import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { createPgAuditWriter } from '../../src/store/PgAuditWriter';
import { createTestSchema } from '../support/database';
import { auditRecord, TEST_PII_KEY } from '../support/auditRecords';
import { runCliProcess } from '../support/cli';

describe('cvd-activity CLI (dist/cli/main.js in a child process)', function () {
  this.timeout(120_000);
  let test: Awaited<ReturnType<typeof createTestSchema>>;
  let client: pg.Client;
  let env: Record<string, string>;
  const bob = auditRecord({ actor: { id: 'bob', roles: ['ops'], sessionId: 's1', type: 'user' }, action: 'DEVICE_UPDATE',
    resourceType: 'device', resourceId: 'D-17', details: { field: 'location', note: 'a,b "c"' } });

  before(async function () {
    if (!existsSync(join(__dirname, '..', '..', 'dist', 'cli', 'main.js'))) throw new Error('dist/cli/main.js is missing: run `npm run build` first (npm test does)');
    test = await createTestSchema('cli');
    env = { CVD_ACTIVITY_DATABASE_URL: test.url, CVD_ACTIVITY_SCHEMA: test.schema };
    client = new pg.Client({ connectionString: test.url });
    await client.connect();
  });
  after(async () => {
    await client?.end();
    await test?.drop();
  });

  async function eventsOf(action: string): Promise<Array<Record<string, any>>> {
    return (await client.query(`SELECT * FROM "${test.schema}".audit_log WHERE action = $1 ORDER BY seq`, [action])).rows;
  }

  it('migrate creates the schema, then reports it up to date', async () => {
    const first = await runCliProcess(['migrate'], env);
    expect(first, first.stderr).to.include({ code: 0 });
    expect(first.stdout).to.match(new RegExp(`schema ${test.schema} at 127\\.0\\.0\\.1:\\d+/test: applied 001_audit_trail, 002_security`));
    const second = await runCliProcess(['migrate', '--schema', test.schema], { CVD_ACTIVITY_DATABASE_URL: test.url });
    expect(second.code).to.equal(0);
    expect(second.stdout).to.include('already up to date');
    const writer = createPgAuditWriter({ connectionString: test.url, schema: test.schema, streamId: 'app', piiKey: TEST_PII_KEY });
    await writer.writeBatch([auditRecord(), bob, auditRecord({ outcome: 'failure', reason: 'denied', details: { price: 1 } })]);
    // (Short details: the table cuts the details cell at 90 characters, and reason= comes last.)
    await writer.close();
  });

  it('query --format json prints the matching rows with client address and details, and records a DATA_EXPORT', async () => {
    const run = await runCliProcess(['audit', 'query', '--user', 'bob', '--resource', 'device:D-17', '--since', '2020-01-01', '--format', 'json'], env);
    expect(run, run.stderr).to.include({ code: 0, stderr: '' });
    const rows = JSON.parse(run.stdout);
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ event_id: bob.eventId, action: 'DEVICE_UPDATE', user_id: 'bob', client_address: '203.0.113.7', username: 'alice' });
    expect(rows[0].details).to.deep.equal({ field: 'location', note: 'a,b "c"', username: 'alice' });
    const exports = await eventsOf('DATA_EXPORT');
    expect(exports).to.have.length(1);
    // Built by the audit catalog: its category, severity and schema check, not hand-written values.
    expect(exports[0]).to.include({ category: 'security', severity: 'high', schema_valid: true, resource_type: 'audit_trail', affected_records: '1' });
    expect(exports[0].stream_id).to.match(/^cli@/);
    expect(exports[0].user_id).to.match(/^os:/);
    expect(exports[0].details).to.deep.include({ dataset: 'audit_trail', format: 'json', record_count: 1 });
    expect(exports[0].details.filters).to.include({ user: 'bob', resource: 'device:D-17', since: '2020-01-01' });
  });

  it('query --format csv quotes cells and includes the client address', async () => {
    const run = await runCliProcess(['audit', 'query', '--action', 'DEVICE_UPDATE', '--format', 'csv'], env);
    expect(run.code).to.equal(0);
    const lines = run.stdout.trimEnd().split('\r\n');
    expect(lines[0]).to.match(/^event_id,created_at,recorded_at,action,/).and.match(/,client_address,user_agent,username$/);
    expect(lines).to.have.length(2);
    expect(lines[1]).to.include(bob.eventId).and.include('203.0.113.7').and.include('""note"":""a,b \\""c\\""""');
    expect(await eventsOf('DATA_EXPORT')).to.have.length(2);
  });

  it('query as a table records VIEW_ACTIVITY_MONITOR naming the filters, or VIEW_USER_ACTIVITY for one user', async () => {
    const run = await runCliProcess(['audit', 'query', '--outcome', 'failure'], env);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/^created_at\s+action\s+outcome/).and.include('failure').and.include('1 event(s)');
    expect(run.stdout).to.match(/reason=denied/);
    const monitor = await eventsOf('VIEW_ACTIVITY_MONITOR');
    expect(monitor).to.have.length(1);
    expect(monitor[0]).to.include({ category: 'monitoring', severity: 'medium', schema_valid: true, affected_records: '1' });
    expect(monitor[0].details).to.deep.equal({ view: 'audit query --outcome failure' });

    const user = await runCliProcess(['audit', 'query', '--user', 'bob', '--since', '2020-01-01'], env);
    expect(user.code, user.stderr).to.equal(0);
    expect(user.stdout).to.include('DEVICE_UPDATE').and.include('203.0.113.7').and.include('username=alice');
    const views = await eventsOf('VIEW_USER_ACTIVITY');
    expect(views).to.have.length(1);
    expect(views[0]).to.include({ category: 'monitoring', resource_type: 'user', resource_id: 'bob', schema_valid: true });
    expect(views[0].details).to.deep.include({ target_user_id: 'bob' });
    expect(views[0].details.date_range).to.include({ from: '2020-01-01T00:00:00.000Z', to: 'now' });
  });

  it('verify exits 0 on an intact trail and 1, naming the event, after tampering', async () => {
    const ok = await runCliProcess(['audit', 'verify'], env);
    expect(ok, ok.stderr).to.include({ code: 0 });
    expect(ok.stdout).to.match(/audit trail intact: \d+ events in 2 stream\(s\)/);
    await client.query('SET session_replication_role = replica');
    await client.query(`UPDATE "${test.schema}".audit_log SET outcome = 'failure' WHERE event_id = $1`, [bob.eventId]);
    await client.query('SET session_replication_role = DEFAULT');
    const broken = await runCliProcess(['audit', 'verify'], env);
    expect(broken.code).to.equal(1);
    expect(broken.stdout).to.include(`BROKEN stream app: event ${bob.eventId} (seq 2) was altered`);
    expect(broken.stderr).to.equal('cvd-activity: audit trail BROKEN: 1 of 2 stream(s) fail verification\n');
  });

  it('an unreachable server is one line and exit 3', async () => {
    const run = await runCliProcess(['audit', 'query'], { CVD_ACTIVITY_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' });
    expect(run.code).to.equal(3);
    expect(run.stderr).to.equal('cvd-activity: cannot connect to PostgreSQL at 127.0.0.1:1/test: connection refused\n');
    expect(run.stdout).to.equal('');
  });

  it('a schema that was never migrated is one line, exit 3, suggesting migrate', async () => {
    const run = await runCliProcess(['audit', 'verify', '--schema', `${test.schema}_missing`], { CVD_ACTIVITY_DATABASE_URL: test.url });
    expect(run.code).to.equal(3);
    expect(run.stderr.trimEnd().split('\n')).to.have.length(1);
    expect(run.stderr).to.include('has no audit trail; run `cvd-activity migrate` first');
  });

  it('with no database configured and no demo in the folder, says how to configure one (exit 3)', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'cvd-cli-nodb-'));
    try {
      const run = await runCliProcess(['audit', 'query'], {}, { cwd });
      expect(run.code, run.stderr).to.equal(3);
      expect(run.stderr.trimEnd().split('\n')).to.have.length(1);
      expect(run.stderr).to.match(/^cvd-activity: cannot connect to PostgreSQL at .*no database configured: set CVD_ACTIVITY_DATABASE_URL or pass --database-url, or run `npm run demo` in this folder first\)\n$/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('every command has --help, and the program its version', async () => {
    for (const args of [['migrate'], ['audit', 'query'], ['audit', 'verify'], ['alerts', 'check'], ['alerts', 'list'], ['spool', 'status'], ['demo'], []]) {
      const run = await runCliProcess([...args, '--help']);
      expect(run.code, args.join(' ')).to.equal(0);
      expect(run.stdout).to.match(new RegExp(`^Usage: cvd-activity ${args.join(' ')}`.trimEnd())).and.include('--help');
    }
    const top = await runCliProcess(['--help']);
    expect(top.stdout).to.include('Exit codes: 0 done').and.include('embedded PostgreSQL of `cvd-activity demo`');
    const version = await runCliProcess(['--version']);
    expect(version.stdout.trim()).to.match(/^\d+\.\d+\.\d+/);
  });

  it('bad flags and values are one line and exit 2', async () => {
    for (const args of [['audit', 'query', '--colour'], ['audit', 'query', '--format', 'xml'], ['audit', 'query', '--since', 'last tuesday'], ['nonsense'],
      ['audit', 'verify', '--format', 'csv'], ['spool', 'status', '--format', 'yaml'], ['--database-url', 'mysql://x@y/z', 'audit', 'query'], ['audit', 'query', '--limit', '0']]) {
      const run = await runCliProcess(args, env);
      expect(run.code, args.join(' ')).to.equal(2);
      expect(run.stderr.trimEnd().split('\n'), run.stderr).to.have.length(1);
      expect(run.stderr).to.match(/^cvd-activity: /).and.not.match(/\n\s+at /);
    }
  });
});
