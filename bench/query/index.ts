/**
 * bench/query: `audit query` for one user and a one-day range over 1M stored
 * events (target: under 100 ms). Fills a throwaway schema with generate_series
 * (no chain needed to read), times queryAuditTrail in-process (the query) and
 * the whole CLI as a child process (node start-up + query + the audit event the
 * read records), writes its section of bench/RESULTS.md, drops the schema.
 *
 *   npm run build && npx tsx bench/query/index.ts [--events 1000000] [--runs 60]
 * Database: CVD_ACTIVITY_BENCH_DATABASE_URL, else CVD_ACTIVITY_TEST_DATABASE_URL,
 * else postgres://postgres@127.0.0.1:5432/test.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/store/migrate';
import { queryAuditTrail } from '../../src/store/query';
import { writeResultsSection } from '../results.mjs';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const EVENTS = arg('events', 1_000_000);
const RUNS = arg('runs', 60);
const CLI_RUNS = arg('cli-runs', 10);
const USERS = 2000;
const DAYS = 90;
const url = process.env.CVD_ACTIVITY_BENCH_DATABASE_URL || process.env.CVD_ACTIVITY_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const ms = (n: number) => n.toFixed(1);

async function fill(client: pg.Client, s: string, end: Date): Promise<void> {
  const start = new Date(end.getTime() - DAYS * 86_400_000);
  const months: string[] = [];
  for (let d = new Date(start); d <= end; d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1))) months.push(d.toISOString());
  await client.query(`SELECT ${s}.audit_ensure_partitions($1::timestamptz[])`, [months]);
  // Rows spread evenly over DAYS; user, action and resource vary like a real API's trail.
  await client.query(`INSERT INTO ${s}.audit_log
    SELECT gen_random_uuid(), $1::timestamptz + (i * ($2::float8 / $3)) * interval '1 second', $1::timestamptz + (i * ($2::float8 / $3) + 1) * interval '1 second',
      (ARRAY['LOGIN','LOGOUT','PRICE_CHANGE','DEVICE_UPDATE','PLANOGRAM_UPDATE','ORDER_SYNC','DATA_EXPORT','USER_UPDATE'])[1 + i % 8],
      'business', 'medium', CASE WHEN i % 17 = 0 THEN 'failure' ELSE 'success' END, NULL, 'user',
      'user-' || lpad(((i::bigint * 7919) % ${USERS})::text, 4, '0'), 'ops', 'sess-' || (i / 50),
      (ARRAY['device','product','planogram','order'])[1 + i % 4], 'R-' || (i % 5000),
      jsonb_build_object('n', i, 'note', 'generated'), NULL, NULL, 1, md5(i::text) || md5((i + 1)::text), left(md5(i::text), 16), 'bench-api',
      true, '{}', md5(i::text), 'bench', i, NULL, md5(i::text)
    FROM generate_series(1, $3) AS i`, [start.toISOString(), DAYS * 86_400, EVENTS]);
  await client.query(`INSERT INTO ${s}.audit_personal (event_id, client_address, user_agent, fields)
    SELECT event_id, '10.0.' || (seq % 250) || '.' || (seq % 200), 'bench-agent/1.0', jsonb_build_object('username', user_id) FROM ${s}.audit_log`);
  await client.query(`ANALYZE ${s}.audit_log; ANALYZE ${s}.audit_personal`);
}

async function main(): Promise<void> {
  const schema = `bench_query_${randomBytes(4).toString('hex')}`;
  const s = `"${schema}"`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const end = new Date();
  try {
    await migrate(client, { schema });
    let t = Date.now();
    await fill(client, s, end);
    const fillSeconds = (Date.now() - t) / 1000;
    console.error(`filled ${EVENTS} events in ${fillSeconds.toFixed(0)} s`);

    const pick = (i: number) => {
      const user = `user-${String((i * 37) % USERS).padStart(4, '0')}`;
      const day = new Date(end.getTime() - (1 + (i * 13) % (DAYS - 2)) * 86_400_000);
      return { user, since: day, until: new Date(day.getTime() + 86_400_000) };
    };
    const times: number[] = [];
    let rowsSeen = 0;
    for (let i = 0; i < RUNS + 5; i++) {
      const q = pick(i);
      t = performance.now();
      const rows = await queryAuditTrail(client, { schema, ...q, limit: 100 });
      if (i >= 5) { times.push(performance.now() - t); rowsSeen += rows.length; } // first 5 warm the cache
    }
    times.sort((a, b) => a - b);

    const main = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');
    const cliTimes: number[] = [];
    for (let i = 0; i < CLI_RUNS; i++) {
      const q = pick(1000 + i);
      t = performance.now();
      execFileSync(process.execPath, [main, 'audit', 'query', '--schema', schema, '--user', q.user,
        '--since', q.since.toISOString(), '--until', q.until.toISOString(), '--format', 'json'],
      { env: { ...process.env, CVD_ACTIVITY_DATABASE_URL: url }, stdio: ['ignore', 'ignore', 'inherit'] });
      cliTimes.push(performance.now() - t);
    }
    cliTimes.sort((a, b) => a - b);
    const plan = (await client.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT * FROM ${s}.audit_trail
      WHERE user_id = $1 AND created_at >= $2 AND created_at < $3 ORDER BY created_at DESC, stream_id, seq DESC LIMIT 100`,
    [pick(0).user, pick(0).since.toISOString(), pick(0).until.toISOString()])).rows.map((r) => r['QUERY PLAN']);
    const usesIndex = plan.some((l: string) => l.includes('user_id_created_at'));

    const result = {
      p50: percentile(times, 50), p95: percentile(times, 95), cliP50: percentile(cliTimes, 50), cliP95: percentile(cliTimes, 95),
      rowsPerQuery: rowsSeen / RUNS,
    };
    console.log(JSON.stringify(result));
    const verdict = result.p95 < 100 ? 'meets' : 'MISSES';
    writeResultsSection('query', [
      '## Audit query over 1M events (bench/query)',
      '',
      `One user, one-day range, \`audit query\` over ${EVENTS.toLocaleString('en')} stored events (${USERS} users, ${DAYS} days, monthly partitions, personal data joined through the \`audit_trail\` view). ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, shared machine, PostgreSQL \`${(await client.query('SHOW server_version')).rows[0].server_version}\`.`,
      '',
      '| measure | p50 ms | p95 ms | runs |',
      '|---|---|---|---|',
      `| query (queryAuditTrail, in-process) | ${ms(result.p50)} | ${ms(result.p95)} | ${RUNS} |`,
      `| whole CLI (\`cvd-activity audit query … --format json\`: node start-up, query, audited read) | ${ms(result.cliP50)} | ${ms(result.cliP95)} | ${CLI_RUNS} |`,
      '',
      `Target: query under 100 ms — ${verdict} it (p95). ${result.rowsPerQuery.toFixed(1)} rows per query on average; plan uses the (user_id, created_at) index: ${usesIndex ? 'yes' : 'NO'}. Filling the table took ${fillSeconds.toFixed(0)} s.`,
      '',
      'Run: `npm run build && npx tsx bench/query/index.ts`',
    ].join('\n'));
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await client.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
