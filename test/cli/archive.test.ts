/**
 * Cold storage on the real PostgreSQL: the three-year legacy trail is
 * imported, then `retention apply` with an archive directory runs as of
 * several dates. After every step: exactly the expected rows are hot,
 * archived or gone, personal data is erased after a year (also of archived
 * events), and the chain verifies with and without the archive. Altering an
 * archive file (a byte, a row, a manifest, a file removed) or a hot row fails
 * `audit verify --archive`. A run killed (SIGKILL) after writing a file but
 * before committing, and two concurrent runs, end as one run does.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { expect } from 'chai';
import pg from 'pg';
import { applyRetention, planRetention } from '../../src/store/retentionClasses';
import { verifyChain } from '../../src/store/verify';
import { verifyArchive } from '../../src/store/archiveRead';
import { queryWithArchive } from '../../src/store/archiveQuery';
import { TEST_PII_KEY } from '../support/auditRecords';
import { runCliProcess } from '../support/cli';
import { DAY, kept, NOW, placeAfter, ROWS, useLegacyTrail, killRunAt } from '../support/legacyTrail';

describe('retention archive: cold storage, verify --archive, query --archive (real PostgreSQL)', function () {
  this.timeout(240_000);
  const trail = useLegacyTrail('arc');
  let client: pg.Client;
  before(() => { client = trail.client(); });

  async function importedSchema(): Promise<{ schema: string; env: Record<string, string>; archiveDir: string }> {
    return { ...await trail.importedSchema(), archiveDir: mkdtempSync(join(trail.dir, 'archive-')) };
  }

  /** Legacy ids hot, and hot or archived (via query --archive), each with whether its client address is still there. */
  async function state(schema: string, archiveDir: string): Promise<{ hot: Map<number, boolean>; all: Map<number, boolean> }> {
    const rows = await queryWithArchive(client, { schema, archiveDir, limit: 100_000 });
    const legacy = rows.filter((r) => r.streamId.startsWith('import@'));
    const id = (r: (typeof rows)[number]) => Number(((r.details._import as any).columns).id);
    const all = new Map(legacy.map((r) => [id(r), r.clientAddress !== null]));
    expect(all.size, 'no archived row read twice').to.equal(legacy.length);
    const { rows: hot } = await client.query(`SELECT (details->'_import'->'columns'->>'id')::int AS id, client_address FROM "${schema}".audit_trail WHERE stream_id LIKE 'import@%'`);
    return { hot: new Map(hot.map((r) => [r.id as number, r.client_address !== null])), all };
  }

  function expected(asOfs: number[]): { hot: Map<number, boolean>; all: Map<number, boolean> } {
    const last = Math.max(...asOfs);
    const hot = new Map<number, boolean>();
    const all = new Map<number, boolean>();
    for (const r of ROWS) {
      const place = placeAfter(r, asOfs);
      if (place === 'gone') continue;
      all.set(r.id, r.at >= last - 365 * DAY);
      if (place === 'hot') hot.set(r.id, r.at >= last - 365 * DAY);
    }
    return { hot, all };
  }

  async function verified(schema: string, archiveDir: string): Promise<void> {
    const chain = await verifyChain(client, { schema, piiKey: TEST_PII_KEY });
    expect(chain.ok, JSON.stringify(chain.streams.filter((s) => s.problem))).to.equal(true);
    const archive = await verifyArchive(client, { schema, dir: archiveDir });
    expect(archive.ok, JSON.stringify(archive.files.filter((f) => f.problem))).to.equal(true);
  }

  it('archives months past 90 days per class, deletes expired archives, anonymizes; verify passes with and without --archive after every step', async () => {
    const { schema, env, archiveDir } = await importedSchema();
    const asOfs: number[] = [];
    for (const asOf of [NOW - 400 * DAY, NOW - 120 * DAY]) {
      const plan = await planRetention(client, { schema, asOf: new Date(asOf), archiveDir });
      const before = asOfs.length ? expected(asOfs) : null;
      asOfs.push(asOf);
      const after = expected(asOfs);
      const archivedNow = ROWS.filter((r) => (before ? before.hot.has(r.id) : true) && !after.hot.has(r.id) && after.all.has(r.id));
      expect(plan.classes.find((c) => c.class === 'security')!.rowsToArchive).to.equal(archivedNow.filter((r) => r.security).length);
      expect(plan.classes.find((c) => c.class === 'other')!.rowsToArchive).to.equal(archivedNow.filter((r) => !r.security).length);
      const done = await applyRetention(client, { schema, asOf: new Date(asOf), archiveDir });
      expect(done.archives.reduce((n, d) => n + d.rows, 0)).to.equal(archivedNow.length);
      expect(await state(schema, archiveDir)).to.deep.equal(after);
      await verified(schema, archiveDir);
      const again = await applyRetention(client, { schema, asOf: new Date(asOf), archiveDir });
      expect([again.drops, again.archives, again.archiveRemovals], 'idempotent').to.deep.equal([[], [], []]);
    }
    expect(asOfs.length).to.equal(2);
    const removalsDue = (await planRetention(client, { schema, archiveDir })).archiveRemovals;
    expect(removalsDue.length, 'archives of months expired since').to.be.greaterThan(0);
    const apply = await runCliProcess(['retention', 'apply', '--archive-dir', archiveDir, '--format', 'json'], env);
    expect(apply, apply.stderr).to.include({ code: 0 });
    asOfs.push(Date.now());
    expect(await state(schema, archiveDir)).to.deep.equal(expected(asOfs));
    for (const f of removalsDue) expect(existsSync(join(archiveDir, f.partition)), f.partition).to.equal(false);
    const recorded = (await client.query(`SELECT details FROM "${schema}".audit_log WHERE action = 'RETENTION_APPLY'`)).rows[0].details;
    expect(recorded.archive_files_removed).to.deep.equal(removalsDue.map((f) => f.partition));

    // The CLI: verify with and without --archive; query --archive finds every archived and hot legacy row.
    for (const args of [['audit', 'verify'], ['audit', 'verify', '--archive', archiveDir]]) {
      const run = await runCliProcess(args, env);
      expect(run.code, run.stdout + run.stderr).to.equal(0);
    }
    const query = await runCliProcess(['audit', 'query', '--archive', archiveDir, '--action', 'LOGIN,PERMISSION_CHANGE', '--limit', '100000', '--format', 'json'], env);
    expect(query, query.stderr).to.include({ code: 0 });
    const ids = (JSON.parse(query.stdout) as Array<{ details: any }>).map((r) => Number(r.details._import.columns.id)).sort((a, b) => a - b);
    expect(ids).to.deep.equal([...expected(asOfs).all.keys()].sort((a, b) => a - b));
    await subjectRequests(schema, env, archiveDir, asOfs);
    await tamperings(schema, env, archiveDir);
  });

  /** gdpr export finds an archived event of the user (with --archive), gdpr erase erases its personal data kept hot. */
  async function subjectRequests(schema: string, env: Record<string, string>, archiveDir: string, asOfs: number[]): Promise<void> {
    const row = ROWS.find((r) => !r.security && placeAfter(r, asOfs) === 'archived' && r.at >= Date.now() - 300 * DAY)!;
    expect(row, 'an archived event with its personal data').to.not.equal(undefined);
    const user = `u-${row.id}`;
    const ids = (run: { stdout: string }) => (JSON.parse(run.stdout).events as Array<{ details: any; client_address: string | null }>)
      .filter((e) => e.details._import).map((e) => [Number(e.details._import.columns.id), e.client_address]);
    const hotOnly = await runCliProcess(['gdpr', 'export', '--user', user], env);
    expect(hotOnly, hotOnly.stderr).to.include({ code: 0 });
    expect(ids(hotOnly), 'without the archive the archived event is not found').to.deep.equal([]);
    const withArchive = await runCliProcess(['gdpr', 'export', '--user', user, '--archive', archiveDir], env);
    expect(withArchive, withArchive.stderr).to.include({ code: 0 });
    expect(ids(withArchive)).to.deep.equal([[row.id, `10.0.0.${row.id}`]]);
    const erase = await runCliProcess(['gdpr', 'erase', '--user', user], env);
    expect(erase, erase.stderr).to.include({ code: 0 });
    const after = await runCliProcess(['gdpr', 'export', '--user', user, '--archive', archiveDir], env);
    expect(ids(after), 'erased though archived').to.deep.equal([[row.id, null]]);
    const verify = await runCliProcess(['audit', 'verify', '--archive', archiveDir], env);
    expect(verify.code, verify.stdout).to.equal(0);
  }

  /** Each alteration of the archive, then of a hot row, fails verify --archive; undone, it passes again. */
  async function tamperings(schema: string, env: Record<string, string>, archiveDir: string): Promise<void> {
    const files = (await client.query(`SELECT file FROM "${schema}".audit_archive a WHERE NOT EXISTS
      (SELECT FROM "${schema}".audit_archive_removed r WHERE r.file = a.file) ORDER BY file`)).rows.map((r) => r.file as string);
    const target = join(archiveDir, files[0]!);
    const manifestPath = target.replace(/\.ndjson\.gz$/, '.manifest.json');
    const original = readFileSync(target);
    const manifest = readFileSync(manifestPath, 'utf8');
    const rows = gunzipSync(original).toString('utf8');
    const alterations: Array<[string, () => void]> = [
      ['a byte flipped', () => { const b = Buffer.from(original); const at = Math.floor(b.length / 2); b.writeUInt8(b.readUInt8(at) ^ 0x01, at); writeFileSync(target, b); }],
      ['a row altered, recompressed, manifest updated', () => {
        const altered = gzipSync(rows.replace('"PERMISSION_CHANGE"', '"PERMISSION_CHANGED"').replace('"LOGIN"', '"LOGIN_X"'));
        writeFileSync(target, altered);
        const m = JSON.parse(manifest);
        m.sha256 = createHash('sha256').update(altered).digest('hex');
        writeFileSync(manifestPath, JSON.stringify(m));
      }],
      ['a manifest hash wrong', () => writeFileSync(manifestPath, manifest.replace(/"sha256": "([0-9a-f])/, (_m, c) => `"sha256": "${c === '0' ? '1' : '0'}`))],
      ['the file removed', () => renameSync(target, `${target}.away`)],
    ];
    for (const [what, alter] of alterations) {
      alter();
      const run = await runCliProcess(['audit', 'verify', '--archive', archiveDir], env);
      expect(run.code, `${what}: ${run.stdout}`).to.equal(1);
      expect(run.stdout, what).to.include(files[0]);
      if (existsSync(`${target}.away`)) renameSync(`${target}.away`, target);
      writeFileSync(target, original);
      writeFileSync(manifestPath, manifest);
    }
    const fine = await runCliProcess(['audit', 'verify', '--archive', archiveDir], env);
    expect(fine.code, fine.stdout).to.equal(0);
    const victim = (await client.query(`SELECT event_id FROM "${schema}".audit_log WHERE action = 'LOGIN' LIMIT 1`)).rows[0];
    await client.query(`BEGIN; SET LOCAL session_replication_role = replica;
      UPDATE "${schema}".audit_log SET details = details || '{"method":"sso"}' WHERE event_id = '${victim.event_id}'; COMMIT`);
    const broken = await runCliProcess(['audit', 'verify', '--archive', archiveDir], env);
    expect(broken.code).to.equal(1);
    expect(broken.stdout).to.include(victim.event_id);
  }

  it('killed (SIGKILL) after writing an archive file, before its commit, and run again: nothing lost or duplicated', async () => {
    const { schema, env, archiveDir } = await importedSchema();
    const plan = await planRetention(client, { schema, archiveDir });
    expect(plan.archives.length).to.be.greaterThan(3);
    const third = plan.archives[2]!.partition;
    // ACCESS SHARE lets apply read and write the third file, then its DROP waits: killed there.
    await killRunAt(trail, {
      schema, partition: third, args: ['retention', 'apply', '--archive-dir', archiveDir], env, waitingFor: 'apply waiting to drop the third archived partition',
      reached: async () => (await client.query(`SELECT count(*)::int AS n FROM "${schema}".audit_archive`)).rows[0].n === 2
        && existsSync(join(archiveDir, `${schema}.${third}.manifest.json`)),
    });
    const between = await state(schema, archiveDir); // throws on a row read twice (the unlisted third file is ignored)
    const now = Date.now();
    expect(between.all, 'expired rows dropped, personal data not yet erased').to.deep.equal(new Map(ROWS.filter((r) => kept(r, now)).map((r) => [r.id, true])));
    await verified(schema, archiveDir);
    const again = await runCliProcess(['retention', 'apply', '--archive-dir', archiveDir], env);
    expect(again, again.stderr).to.include({ code: 0 });
    await checkEndState(schema, archiveDir);
  });

  it('two concurrent applies with an archive end in the same state as one', async () => {
    const { schema, env, archiveDir } = await importedSchema();
    // The directory from the setting retention.archiveDir (its environment variable) this time.
    const args = ['retention', 'apply', '--format', 'json'];
    const withDir = { ...env, CVD_ACTIVITY_ARCHIVE_DIR: archiveDir };
    const runs = await Promise.all([runCliProcess(args, withDir), runCliProcess(args, withDir)]);
    for (const r of runs) expect(r, r.stderr).to.include({ code: 0 });
    const archived = runs.map((r) => JSON.parse(r.stdout).archives.length as number);
    expect(Math.min(...archived), 'one run found nothing left to do').to.equal(0);
    await checkEndState(schema, archiveDir);
  });

  async function checkEndState(schema: string, archiveDir: string): Promise<void> {
    expect(await state(schema, archiveDir)).to.deep.equal(expected([Date.now()]));
    const { rows } = await client.query(`SELECT partition_name, count(*)::int AS n FROM "${schema}".audit_archive GROUP BY 1 HAVING count(*) > 1`);
    expect(rows, 'each partition archived once').to.deep.equal([]);
    await verified(schema, archiveDir);
  }
});
