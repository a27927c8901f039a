import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { migrate } from '../../src/store/migrate';
import { createTestSchema } from '../support/database';
import { TEST_PII_KEY } from '../support/auditRecords';
import { runCliProcess } from '../support/cli';

// Three years of the old tables, both classes (security and other), audit and activity rows.
const NDJSON = [
  { id: 1, user_id: 17, action: 'LOGIN', resource_type: 'user', resource_id: '17', details: '{"method":"password","username":"maria.lopez"}', ip_address: '198.51.100.4', created_at: '2023-02-01 08:00:00' },
  { id: 2, user_id: 17, action: 'USER_UPDATE', resource_type: 'user', resource_id: '22', details: 'Changed phone of J. Driver', ip_address: '198.51.100.4', created_at: '2023-02-01T08:05:00+01:00' },
  'this is { not json',
  { id: 4, user_id: 3, action: 'PERMISSION_CHANGE', resource_type: 'user', resource_id: '22', details: { target_user_id: '22', old_role: 'driver', new_role: 'admin' }, created_at: '2024-06-30T23:59:59.5Z' },
  { id: 5, user_id: 3, action: 'ORDER_SYNC', details: null },
  { user_id: 17, action_type: 'api_call', timestamp: '2025-11-03 10:00:01', endpoint: '/api/devices', method: 'GET', response_time_ms: 41, ip_address: '198.51.100.4' },
  { user_id: 17, action_type: 'login', timestamp: 1762164000, ip_address: '198.51.100.4', user_agent: 'Mozilla/5.0' },
  { user_id: 17, action_type: 'api_call', timestamp: '2025-11-03 10:00:01', endpoint: '/api/devices', method: 'GET', response_time_ms: 41, ip_address: '198.51.100.4' },
].map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';

const CSV = 'id,user_id,action,resource_type,resource_id,details,ip_address,created_at\r\n'
  + '10,5,DEVICE_UPDATE,device,D-17,"Moved device D-17\nto ""Hall B""",203.0.113.9,2024-01-15 12:00:00\r\n'
  + '11,5,DATA_EXPORT,report,sales,"{""dataset"":""sales"",""format"":""csv"",""record_count"":12000}",203.0.113.9,2024-01-16 09:30:00\r\n'
  + '12,5,DEVICE_UPDATE,device\r\n'
  + '13,5,LOGOUT,user,5,,203.0.113.9,2025-05-05 18:00:00\r\n';

describe('cvd-activity audit import (legacy rows, real PostgreSQL, CLI in a child process)', function () {
  this.timeout(120_000);
  let test: Awaited<ReturnType<typeof createTestSchema>>;
  let client: pg.Client;
  let env: Record<string, string>;
  let dir: string;

  before(async () => {
    test = await createTestSchema('import');
    dir = mkdtempSync(join(tmpdir(), 'cvd-import-'));
    writeFileSync(join(dir, 'legacy.ndjson'), NDJSON);
    writeFileSync(join(dir, 'audit_log.csv'), CSV);
    env = { CVD_ACTIVITY_DATABASE_URL: test.url, CVD_ACTIVITY_SCHEMA: test.schema, CVD_ACTIVITY_PII_KEY: TEST_PII_KEY.toString('hex') };
    client = new pg.Client({ connectionString: test.url });
    await client.connect();
    await migrate(client, { schema: test.schema });
  });
  after(async () => {
    await client?.end();
    await test?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const imported = async () => (await client.query(`SELECT * FROM "${test.schema}".audit_trail WHERE stream_id LIKE 'import@%' ORDER BY created_at, seq`)).rows;
  const importRecords = async () => (await client.query(`SELECT details FROM "${test.schema}".audit_log WHERE action = 'AUDIT_IMPORT' ORDER BY recorded_at`)).rows.map((r) => r.details);

  it('imports every good line as an event with its original time, reports bad lines by number, and records the import', async () => {
    const run = await runCliProcess(['audit', 'import', join(dir, 'legacy.ndjson')], env);
    expect(run.code, run.stderr).to.equal(1);
    const file = join(dir, 'legacy.ndjson');
    expect(run.stderr).to.include(`cvd-activity: ${file}:3: not JSON`);
    expect(run.stderr, run.stderr).to.include(`cvd-activity: ${file}:5: created_at: null is not a date and time; line skipped`);
    expect(run.stderr).to.match(/2 bad line\(s\) of .* were not imported/);
    expect(run.stdout).to.equal(`imported 6 event(s) from ${file} (8 line(s); 0 already stored; 2 bad)\n`);

    const rows = await imported();
    expect(rows.map((r) => [r.action, r.created_at.toISOString()])).to.deep.equal([
      ['LOGIN', '2023-02-01T08:00:00.000Z'],
      ['USER_UPDATE', '2023-02-01T07:05:00.000Z'],
      ['PERMISSION_CHANGE', '2024-06-30T23:59:59.500Z'],
      ['LOGIN', '2025-11-03T10:00:00.000Z'],
      ['ACTIVITY_API_CALL', '2025-11-03T10:00:01.000Z'],
      ['ACTIVITY_API_CALL', '2025-11-03T10:00:01.000Z'], // the same row twice in the old table: two events
    ].sort((a, b) => a[1]!.localeCompare(b[1]!)));
    const login = rows[1]!; // sorted by time: 07:05 comes first
    expect(rows[0]).to.include({ action: 'USER_UPDATE', user_id: '17', resource_id: '22', schema_valid: false, client_address: '198.51.100.4' });
    expect(rows[0].details).to.deep.include({ text: 'Changed phone of J. Driver' }); // free text kept
    expect(login).to.include({ action: 'LOGIN', category: 'authentication', schema_valid: true, username: 'maria.lopez' });
    expect(login.details._import).to.deep.include({ source: 'legacy.ndjson', line: 1, columns: { id: 1 } });
    expect(Date.parse(login.details._import.imported_at)).to.be.closeTo(Date.now(), 120_000);
    const permission = rows.find((r) => r.action === 'PERMISSION_CHANGE')!;
    expect(permission).to.include({ category: 'security', severity: 'critical', schema_valid: true });
    const api = rows.find((r) => r.action === 'ACTIVITY_API_CALL')!;
    expect(api).to.include({ category: 'activity', schema_valid: false });
    expect(api.details).to.deep.include({ endpoint: '/api/devices', method: 'GET', response_time_ms: 41, action_type: 'api_call' });
    expect(rows.find((r) => r.created_at.toISOString() === '2025-11-03T10:00:00.000Z')).to.include({ action: 'LOGIN', user_agent: 'Mozilla/5.0' });

    expect(await importRecords()).to.deep.equal([{ source: 'legacy.ndjson', format: 'ndjson', lines: 8, imported: 6, already_stored: 0, bad_lines: 2,
      first_event_at: '2023-02-01T07:05:00.000Z', last_event_at: '2025-11-03T10:00:01.000Z' }]);
    const verify = await runCliProcess(['audit', 'verify'], env);
    expect(verify.stdout, verify.stderr).to.match(/audit trail intact: 7 events in 2 stream\(s\), personal data checked/);
  });

  it('stores nothing twice when the same file is imported again', async () => {
    const run = await runCliProcess(['audit', 'import', join(dir, 'legacy.ndjson')], env);
    expect(run.code).to.equal(1); // the same two bad lines
    expect(run.stdout).to.include('imported 0 event(s)').and.include('6 already stored');
    expect(await imported()).to.have.length(6);
    expect((await importRecords())[1]).to.include({ imported: 0, already_stored: 6 });
  });

  it('reads CSV with quoted multi-line details, names the line of a short row, and keeps the rest', async () => {
    const file = join(dir, 'audit_log.csv');
    const run = await runCliProcess(['audit', 'import', file, '--source', 'old-audit_log'], env);
    expect(run.code, run.stderr).to.equal(1);
    expect(run.stderr).to.match(new RegExp(`${file.replace(/[/.]/g, '\\$&')}:5: wrong number of columns`));
    expect(run.stdout).to.include('imported 3 event(s)');
    const rows = (await imported()).filter((r) => r.details._import.source === 'old-audit_log');
    expect(rows.map((r) => r.action)).to.deep.equal(['DEVICE_UPDATE', 'DATA_EXPORT', 'LOGOUT']);
    expect(rows[0].details).to.deep.include({ text: 'Moved device D-17\nto "Hall B"' });
    expect(rows[0].details._import).to.include({ line: 2 });
    expect(rows[1]).to.include({ category: 'security', affected_records: '12000', schema_valid: true });
    expect(rows[2].details._import).to.include({ line: 6 });
    const verify = await runCliProcess(['audit', 'verify'], env);
    expect(verify.code, verify.stdout).to.equal(0);
  });

  it('reports progress on stderr for a large file', async () => {
    const file = join(dir, 'activity.ndjson');
    const start = Date.UTC(2025, 0, 1);
    writeFileSync(file, Array.from({ length: 12_000 }, (_, i) =>
      JSON.stringify({ user_id: `u-${i % 50}`, action_type: 'page_view', timestamp: new Date(start + i * 60_000).toISOString(), page: `/p/${i}` })).join('\n'));
    const run = await runCliProcess(['audit', 'import', file], env);
    expect(run, run.stderr).to.include({ code: 0 });
    expect(run.stderr).to.match(/^cvd-activity: import .*activity\.ndjson: 10000 line\(s\) read, \d+ imported, 0 already stored, 0 bad\n$/);
    expect(run.stdout).to.include('imported 12000 event(s)');
  });

  it('refuses a missing file or unknown format with exit 2, storing nothing', async () => {
    const missing = await runCliProcess(['audit', 'import', join(dir, 'nope.ndjson')], env);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/<file>: ".*nope\.ndjson" is not valid; name an existing NDJSON or CSV file/);
    const format = await runCliProcess(['audit', 'import', join(dir, 'legacy.ndjson'), '--format', 'xml'], env);
    expect(format.code).to.equal(2);
  });
});
