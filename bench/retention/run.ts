/**
 * bench/retention: how long retention takes over 1M stored events spread over
 * 30 months (10% security events, half with personal data), as of now, with
 * the default policy. Three contenders, each on its own copy of the same rows:
 *   - applyRetention (`retention apply`): per class, partition by partition,
 *     records chain links, then erases personal data older than a year;
 *   - baseline "whole months": dropPartitionsBefore(2 years) + erasePersonalData(1 year),
 *     the pre-class way (keeps other events a year longer);
 *   - baseline "row DELETE": DELETE of the expired rows with the append-only
 *     triggers switched off (session_replication_role = replica), then the same
 *     erasure: what retention costs without partitions.
 * Then the space an event takes: hot, compacted (`retention apply` on months
 * past 30 days) and archived (`--archive-dir`, months past 90 days), measured
 * on the same partitions of one more copy.
 * One run each (the work is destructive and large); writes its section of
 * bench/RESULTS.md and drops the schemas. Rows need no valid chain to be dropped.
 *
 *   npx tsx bench/retention/run.ts [--events 1000000]
 * Database: CVD_ACTIVITY_BENCH_DATABASE_URL, else CVD_ACTIVITY_TEST_DATABASE_URL,
 * else postgres://postgres@127.0.0.1:5432/test.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/store/migrate';
import { dropPartitionsBefore, erasePersonalData } from '../../src/store/retention';
import { applyRetention } from '../../src/store/retentionClasses';
import { writeResultsSection } from '../results.mjs';

const i = process.argv.indexOf('--events');
const EVENTS = i > 0 ? Number(process.argv[i + 1]) : 1_000_000;
const MONTHS = 30;
const DAY = 86_400_000;
const url = process.env.CVD_ACTIVITY_BENCH_DATABASE_URL || process.env.CVD_ACTIVITY_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

async function fill(client: pg.Client, schema: string, end: Date): Promise<void> {
  const s = `"${schema}"`;
  await migrate(client, { schema, roles: false });
  const start = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - MONTHS + 1, 1));
  const months: string[] = [];
  for (let m = 0; m < MONTHS; m++) months.push(new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + m, 1)).toISOString());
  await client.query(`SELECT ${s}.audit_ensure_partitions($1::timestamptz[])`, [months]);
  // Four writer streams, seqs in time order; every tenth event a security event;
  // hashes and HMACs as 64 hex digits like real ones (their size and entropy dominate the archive).
  await client.query(`INSERT INTO ${s}.audit_log (event_id, created_at, recorded_at, action, category, severity, outcome, actor_type,
      user_id, resource_type, resource_id, details, service_name, schema_valid, schema_errors, pii_hmac, stream_id, seq, prev_hash, hash)
    SELECT gen_random_uuid(), t, t, CASE WHEN i % 10 = 0 THEN 'PERMISSION_CHANGE' ELSE 'DEVICE_UPDATE' END,
      CASE WHEN i % 10 = 0 THEN 'security' ELSE 'device' END, 'high', 'success', 'user', 'user-' || (i % 2000), 'device', 'D-' || (i % 5000),
      jsonb_build_object('field', 'location', 'note', 'moved to hall B', 'n', i), 'bench-api', true, '{}',
      CASE WHEN i % 2 = 0 THEN encode(sha256(('p' || i)::bytea), 'hex') END, 'w' || (i % 4), i / 4 + 1,
      encode(sha256((i - 4)::text::bytea), 'hex'), encode(sha256(i::text::bytea), 'hex')
    FROM generate_series(0, $3 - 1) AS i, LATERAL (SELECT $1::timestamptz + (i::float8 / $3) * ($2::timestamptz - $1::timestamptz) AS t) x`,
  [start.toISOString(), end.toISOString(), EVENTS]);
  await client.query(`INSERT INTO ${s}.audit_personal (event_id, client_address, user_agent, fields)
    SELECT event_id, '10.0.' || (seq % 250) || '.' || (seq % 200), 'bench-agent/1.0', jsonb_build_object('username', user_id)
      FROM ${s}.audit_log WHERE pii_hmac IS NOT NULL`);
  await client.query(`ANALYZE ${s}.audit_log; ANALYZE ${s}.audit_personal`);
}

/** The naive way: delete expired rows one class at a time (triggers off), then erase. */
async function rowDelete(client: pg.Client, schema: string, now: Date): Promise<void> {
  const s = `"${schema}"`;
  await client.query('BEGIN');
  await client.query('SET LOCAL session_replication_role = replica');
  await client.query(`DELETE FROM ${s}.audit_personal p USING ${s}.audit_log l WHERE p.event_id = l.event_id
    AND l.created_at < CASE WHEN l.category = 'security' THEN $1::timestamptz ELSE $2::timestamptz END`,
  [new Date(now.getTime() - 730 * DAY).toISOString(), new Date(now.getTime() - 365 * DAY).toISOString()]);
  await client.query(`DELETE FROM ${s}.audit_log WHERE created_at < CASE WHEN category = 'security' THEN $1::timestamptz ELSE $2::timestamptz END`,
    [new Date(now.getTime() - 730 * DAY).toISOString(), new Date(now.getTime() - 365 * DAY).toISOString()]);
  await client.query('COMMIT');
  await erasePersonalData(client, { schema, before: new Date(now.getTime() - 365 * DAY) });
}

const CONTENDERS: Array<{ name: string; run: (client: pg.Client, schema: string, now: Date) => Promise<unknown> }> = [
  { name: '`retention apply` (by class, partition by partition)', run: (c, schema, now) => applyRetention(c, { schema, asOf: now }) },
  { name: 'baseline: whole months at 2 years (dropPartitionsBefore) + erasure', run: async (c, schema, now) => {
    await dropPartitionsBefore(c, { schema, before: new Date(now.getTime() - 730 * DAY) });
    await erasePersonalData(c, { schema, before: new Date(now.getTime() - 365 * DAY) });
  } },
  { name: 'baseline: row DELETE, triggers off, + erasure', run: rowDelete },
];

interface Leaf { name: string; events: number; bytes: number }

/** Every class partition with its events and bytes (heap, TOAST, indexes). */
async function leaves(client: pg.Client, schema: string): Promise<Map<string, Leaf>> {
  const { rows } = await client.query(`SELECT c.relname AS name, pg_total_relation_size(c.oid)::bigint AS bytes, n.events
    FROM (SELECT tableoid, count(*)::bigint AS events FROM "${schema}".audit_log GROUP BY 1) n JOIN pg_class c ON c.oid = n.tableoid
    WHERE c.relname ~ '^audit_log_p[0-9]{6}_'`);
  return new Map(rows.map((r) => [r.name, { name: r.name, events: Number(r.events), bytes: Number(r.bytes) }]));
}

const perEvent = (list: Leaf[]) => list.reduce((n, l) => n + l.bytes, 0) / Math.max(1, list.reduce((n, l) => n + l.events, 0));

/** Bytes per event of the same partitions hot, compacted, archived: table rows for RESULTS.md. */
async function storage(client: pg.Client, now: Date): Promise<string[]> {
  const schema = `bench_storage_${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'cvd-bench-archive-'));
  try {
    await fill(client, schema, now);
    const hot = await leaves(client, schema);
    const done = await applyRetention(client, { schema, asOf: now });
    const compacted = await leaves(client, schema);
    const same = done.compactions.map((c) => c.partition);
    const archived = await applyRetention(client, { schema, asOf: now, archiveDir: dir });
    const files = (await client.query(`SELECT partition_name, events::int, bytes::bigint FROM "${schema}".audit_archive`)).rows;
    const names = files.map((f) => f.partition_name as string);
    const archive = files.map((f) => ({ name: f.partition_name, events: f.events, bytes: Number(f.bytes) }));
    const pick = (m: Map<string, Leaf>, list: string[]) => list.map((n) => m.get(n)!);
    return [
      `| hot (as written) | ${same.length} | ${pick(hot, same).reduce((n, l) => n + l.events, 0)} | ${perEvent(pick(hot, same)).toFixed(0)} |`,
      `| compacted (\`retention apply\`, months past 30 days) | ${same.length} | ${done.compactions.reduce((n, d) => n + d.rows, 0)} | ${perEvent(pick(compacted, same)).toFixed(0)} |`,
      `| hot (as written), the months archived below | ${names.length} | ${pick(hot, names).reduce((n, l) => n + l.events, 0)} | ${perEvent(pick(hot, names)).toFixed(0)} |`,
      `| archived (\`--archive-dir\`, months past 90 days: .ndjson.gz) | ${names.length} | ${archived.archives.reduce((n, d) => n + d.rows, 0)} | ${perEvent(archive).toFixed(0)} |`,
    ];
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const now = new Date();
  const rows: string[] = [];
  const space: string[] = [];
  try {
    for (const contender of CONTENDERS) {
      const schema = `bench_retention_${randomBytes(4).toString('hex')}`;
      try {
        let t = performance.now();
        await fill(client, schema, now);
        const fillS = (performance.now() - t) / 1000;
        const count = async () => Number((await client.query(`SELECT count(*) AS n FROM "${schema}".audit_log`)).rows[0].n);
        const before = await count();
        t = performance.now();
        await contender.run(client, schema, now);
        const seconds = (performance.now() - t) / 1000;
        const removed = before - (await count());
        console.error(`${contender.name}: filled in ${fillS.toFixed(0)} s, ${removed} removed in ${seconds.toFixed(2)} s`);
        rows.push(`| ${contender.name} | ${before} | ${removed} | ${seconds.toFixed(2)} | ${Math.round(removed / seconds)} |`);
      } finally {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    }
    space.push(...await storage(client, now));
  } finally {
    await client.end();
  }
  const file = writeResultsSection('retention', `## Retention over ${EVENTS.toLocaleString('en')} events

Written by \`npx tsx bench/retention/run.ts\` on ${now.toISOString().slice(0, 16)}Z, node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.split(' ').slice(0, 2).join(' ')}.
${EVENTS} events over ${MONTHS} months (10% security, half with personal data, four streams), as of the fill's end; one run per contender,
each on its own copy of the same rows, against the machine's PostgreSQL. Policy: security 730 d, other 365 d, personal data 365 d.
The baselines do not end in the same state: whole months keeps other events a year longer; row DELETE goes by row, not by month.

| contender | events | removed | seconds | removed events/s |
|---|---:|---:|---:|---:|
${rows.join('\n')}

- Row DELETE is not a retention the trail can use, however fast: it records no chain links, so \`audit verify\` then reports the
  streams broken, and it leaves the deleted rows as dead tuples for VACUUM (not timed here). Dropping partitions returns the space at once.
- \`retention apply\` spends its time per partition (recording the chain runs it removes, deleting that partition's personal data with a
  join against audit_personal, the DROP) and then on erasing the personal data older than a year; it holds no lock on the trail for longer
  than one partition's transaction. It now also compacts the kept months past 30 days (their index rebuild is part of its time).

Space per event, on one more copy: the same class partitions before and after \`retention apply\` (heap, TOAST and indexes:
\`pg_total_relation_size\`; personal data, in \`audit_personal\`, not counted), then the archive files of the months past 90 days.

| stage | partitions | events | bytes per event |
|---|---:|---:|---:|
${space.join('\n')}

- Compaction rebuilds the indexes full (fillfactor 100); the rows themselves cannot be made smaller by PostgreSQL's own compression:
  lz4/pglz only apply to rows over about 2 KB (an audit row is about 500 bytes; \`SET COMPRESSION lz4\` and a rewrite left the size unchanged).
- The archive holds the chained columns only (no personal data, no indexes), gzip level 9; the three SHA-256 hex columns per row
  (hash, prev_hash, pii_hmac) are most of what is left, as they do not compress.
`);
  console.error(`wrote ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
