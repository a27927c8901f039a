// bench/browser: (1) the size of the prebuilt browser script against the
// SDK cores it could have been built on, gzip bytes of one esbuild run each;
// (2) what the browser-activity endpoint costs per event on the server, side
// by side with a baseline that only parses the JSON.
// Run: npm run bench:browser   (writes its section of bench/RESULTS.md)
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import { build } from 'esbuild';
import pg from 'pg';
import { migrate } from '../../src/store/migrate';
import { median, writeResultsSection } from '../results.mjs';

const ROOT = join(__dirname, '..', '..');
const DATABASE_URL = process.env.CVD_ACTIVITY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECONDS = Number(process.env.BENCH_BROWSER_SECONDS ?? 5);
const ROUNDS = 3;
/** Batches per second offered to both servers: below what PostgreSQL absorbs here, so nothing is refused as BUSY and CPU per event is comparable. */
const RATE = Number(process.env.BENCH_BROWSER_RATE ?? 1000);

const gz = (bytes: Uint8Array): number => gzipSync(bytes, { level: 9 }).length;

async function bundled(code: string): Promise<Uint8Array> {
  const out = await build({ stdin: { contents: code, resolveDir: ROOT, loader: 'js' }, bundle: true, minify: true, format: 'iife', target: ['es2020'], write: false, logLevel: 'error' });
  return out.outputFiles[0]!.contents;
}

async function sizes(): Promise<Array<[string, number, number]>> {
  const ours = readFileSync(join(ROOT, 'dist/browser/cvd-activity-browser.js'));
  const entries: Array<[string, Uint8Array]> = [
    ['cvd-activity/browser prebuilt script (everything, web-vitals inside)', ours],
    ['cvd-activity/browser ESM, only pageViews + webVitals (tree-shaken)', await bundled("import { createBrowserActivity, webVitals } from './dist/browser/index.js'; createBrowserActivity({}, [webVitals]);")],
    ['web-vitals 6 alone (onTTFB, onFCP, onLCP, onINP, onCLS)', await bundled("import { onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals'; window.v = [onCLS, onFCP, onINP, onLCP, onTTFB];")],
    ['@grafana/faro-core 2 alone (initializeFaro: no instrumentations, no transport)', await bundled("import { initializeFaro } from '@grafana/faro-core'; window.f = initializeFaro;")],
  ];
  return entries.map(([name, bytes]) => [name, bytes.length, gz(bytes)]);
}

/** A page view's worth of events, as the module sends it at page hide. */
function typicalBatch(): string {
  const events: Array<Record<string, unknown>> = [{ t: 'page_view', ago: 9000, n: 'load' }];
  for (const [n, v] of [['TTFB', 120], ['FCP', 480], ['LCP', 900], ['CLS', 0.02], ['INP', 96], ['TTI', 1500]] as const) events.push({ t: 'vital', ago: 8000, n, v });
  events.push({ t: 'search', ago: 7000, n: 'devices', q: 'hospital', len: 8, v: 4 }, { t: 'search_click', ago: 6500, n: 'devices', v: 2 });
  events.push({ t: 'form_start', ago: 5000, n: 'price-change' }, { t: 'form_submit', ago: 4000, n: 'price-change' }, { t: 'click', ago: 3000, n: 'export-csv' });
  events.push({ t: 'error', ago: 2000, n: 'fetch', v: 503, m: 'GET /api/devices' }, { t: 'recovery', ago: 1000, n: 'export-csv', v: 1000 }, { t: 'scroll', ago: 0, v: 75 });
  return JSON.stringify({ v: 1, pages: [{ id: '0123456789abcdef', tid: '0123456789abcdef0123456789abcdef', path: '/app/devices', route: '/app/devices', events }] });
}

interface Run { batches: number; events: number; cpuMicros: number; stored: number; non2xx: number }

async function load(variant: string, schema: string): Promise<Run> {
  const child = fork(join(__dirname, 'server.ts'), [variant, DATABASE_URL, schema], { execArgv: ['--import', 'tsx'] });
  const next = () => new Promise<any>((done) => child.once('message', done));
  const { port } = await next();
  const body = typicalBatch();
  const events = JSON.parse(body).pages[0].events.length;
  child.send('cpu');
  const before = await next();
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/cvd-activity/browser`, method: 'POST', connections: 10, duration: SECONDS, overallRate: RATE, body,
    headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36' },
  });
  child.send('flush');
  const after = await next();
  child.send('stop');
  await new Promise((done) => child.once('exit', done));
  // Counted by the server: autocannon misses answers still in flight when its time is up.
  const accepted = after.events - before.events;
  return { batches: accepted / events, events: accepted, cpuMicros: after.cpuMicros - before.cpuMicros, stored: after.stored, non2xx: result.non2xx };
}

async function main(): Promise<void> {
  const size = await sizes();
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  const schema = `bench_browser_${process.pid}`;
  await migrate(client, { schema, roles: false });
  const runs: Record<string, Run[]> = { baseline: [], endpoint: [] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of ['baseline', 'endpoint']) runs[variant]!.push(await load(variant, schema));
    }
    const stored = Number((await client.query(`SELECT count(*) FROM "${schema}".browser_events`)).rows[0].count);
    const accepted = runs.endpoint!.reduce((n, r) => n + r.events, 0);
    if (stored !== accepted) throw new Error(`stored ${stored} of ${accepted} accepted events`);
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
  const row = (name: string, rs: Run[]) => {
    const perEvent = median(rs.map((r) => r.cpuMicros / r.events));
    const perBatch = median(rs.map((r) => r.cpuMicros / r.batches));
    const eventsPerSecond = median(rs.map((r) => r.events / SECONDS));
    return { name, perEvent, perBatch, eventsPerSecond, non2xx: rs.reduce((n, r) => n + r.non2xx, 0) };
  };
  const base = row('baseline: read body, JSON.parse, 204 (no checks, nothing stored)', runs.baseline!);
  const ours = row('browserActivityEndpoint: rate limit, size, ajv schema, UA parse, rows → PostgreSQL', runs.endpoint!);
  const [script, , , faro] = size;
  const within = script![2] <= faro![2];
  const f = (x: number, d = 1) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const body = `
## Browser module size and endpoint cost (bench/browser)

\`npm run bench:browser\` — ${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, esbuild (minified IIFE, es2020), gzip level 9.

| bundle | minified bytes | gzip bytes |
|---|---|---|
${size.map(([name, raw, gzip]) => `| ${name} | ${raw.toLocaleString('en-US')} | ${gzip.toLocaleString('en-US')} |`).join('\n')}

Budget (the issue's): the prebuilt script no larger than the core of the SDK it could have been built on instead (Faro's core, which collects nothing by itself):
**${within ? 'met' : 'MISSED'}** (${script![2].toLocaleString('en-US')} vs ${faro![2].toLocaleString('en-US')} gzip bytes). The script contains web-vitals, so it is necessarily larger than web-vitals alone.

Endpoint, server process only (its own child; autocannon in another), ${ROUNDS} interleaved rounds of ${SECONDS} s, 10 connections,
${RATE.toLocaleString('en-US')} batches/s offered to both (below the database's ingest ceiling, so none is refused as BUSY), one
typical batch per request (one page view: ${JSON.parse(typicalBatch()).pages[0].events.length} events, ${typicalBatch().length} bytes), medians of the rounds. Every event the endpoint
answered 204 for was counted back from PostgreSQL after the run. PostgreSQL's own CPU for the INSERTs is not in these numbers.

| server | CPU µs per event | CPU µs per batch | events/s accepted | non-2xx |
|---|---|---|---|---|
| ${base.name} | ${f(base.perEvent, 2)} | ${f(base.perBatch)} | ${f(base.eventsPerSecond, 0)} | ${base.non2xx} |
| ${ours.name} | ${f(ours.perEvent, 2)} | ${f(ours.perBatch)} | ${f(ours.eventsPerSecond, 0)} | ${ours.non2xx} |

The endpoint costs ${f(ours.perEvent - base.perEvent, 2)} µs of server CPU per event above the baseline (${f(ours.perEvent / base.perEvent, 1)}x).
A user's page view sends one such batch, so the endpoint's cost is per page view, not per API request.
`;
  console.log(body);
  console.log(`wrote ${writeResultsSection('browser', body)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
