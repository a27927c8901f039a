/**
 * bench/ingest: audit events per second from `record()` to committed rows,
 * side by side in one run against
 *   (a) one awaited INSERT per event, the old design, and
 *   (b) raw COPY of the same rows (both tables) with no validation, chain or spool: the ceiling.
 * Every contender runs once per round, rounds interleaved (the machine is
 * shared: load hits each alike), medians reported. Uses the shared server
 * (CVD_ACTIVITY_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test)
 * and throwaway schemas, dropped at the end.
 *   node --import tsx bench/ingest/run.ts   [BENCH_EVENTS=50000 BENCH_NAIVE_EVENTS=2000 BENCH_ROUNDS=5]
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import type { AuditEvent } from '../../src/audit/types';
import { defaultConfig } from '../../src/config/defaults';
import { migrate } from '../../src/store/migrate';
import { DB_URL, RECORD_CHUNK, runNaive, runPipeline, runRawCopy, runRecordAndSpool, runWriterAlone, withClient } from './contenders';
import type { PipelineTuning } from './contenders';
import { recordedEvents } from './events';
import { measureStages } from './stages';
import type { StageCost } from './stages';
import { writeResultsSection } from '../results.mjs';

const N = Number(process.env.BENCH_EVENTS ?? 50_000);
const N_NAIVE = Number(process.env.BENCH_NAIVE_EVENTS ?? 2_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const KEY = randomBytes(32);
const DEFAULTS = defaultConfig({}).pipeline;

interface Contender {
  label: string;
  /** The rows a baseline writes, made (by record()) before its clock and CPU window start. */
  input?: (round: number) => AuditEvent[];
  run: (round: number, input: AuditEvent[]) => Promise<number>;
  /** Events per run (for CPU per event). */
  events?: number;
}

/** Migrated schemas: one for the pipeline, one for the baselines (same tables, plus plain copies). */
async function setUp(pipe: string, base: string): Promise<void> {
  await withClient(async (c) => {
    await migrate(c, { schema: pipe, roles: false });
    await migrate(c, { schema: base, roles: false });
    await c.query(`CREATE TABLE "${base}".naive_log (LIKE "${base}".audit_log INCLUDING ALL)`);
    await c.query(`CREATE TABLE "${base}".plain_log (LIKE "${base}".audit_log INCLUDING ALL)`);
    await c.query(`CREATE TABLE "${base}".plain_personal (LIKE "${base}".audit_personal INCLUDING ALL)`);
    await c.query(`SELECT "${base}".audit_ensure_partitions(ARRAY[now()])`);
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const tag = randomBytes(4).toString('hex');
  const pipe = `bench_ingest_${tag}`;
  const base = `bench_ingest_${tag}_base`;
  await setUp(pipe, base);
  let seq = 0;
  const nextSeq = (n: number) => ((seq += n), seq - n);
  const pipeline = (tuning: PipelineTuning, chunk?: number) => (round: number) => runPipeline(pipe, N, round * N, KEY, tuning, chunk);
  const contenders: Contender[] = [
    { label: 'pipeline', run: pipeline({}) },
    { label: 'raw', input: (r) => recordedEvents(N, r * N), run: (_, e) => runRawCopy(base, e, nextSeq(N)) },
    { label: 'naive', input: (r) => recordedEvents(N_NAIVE, r * N), run: (_, e) => runNaive(base, e, nextSeq(N_NAIVE)), events: N_NAIVE },
    { label: 'fsyncBatch', run: pipeline({ spoolFsync: 'batch' }) },
    { label: 'batch500', run: pipeline({ batchSize: 500 }) },
    { label: 'batch2000', run: pipeline({ batchSize: 2000 }) },
    { label: 'coarse', run: pipeline({}, 1000) },
    { label: 'rawPlain', input: (r) => recordedEvents(N, r * N), run: (_, e) => runRawCopy(base, e, nextSeq(N), 'plain') },
    { label: 'writer', input: (r) => recordedEvents(N, r * N), run: (_, e) => runWriterAlone(pipe, e, KEY, DEFAULTS.batchSize) },
    { label: 'recordSpool', run: (r) => runRecordAndSpool(N, r * N) },
  ];
  const results = new Map<string, number[]>(contenders.map((c) => [c.label, []]));
  const cpu = new Map<string, number[]>(contenders.map((c) => [c.label, []]));
  try {
    // Warm-up (not reported): compiled code and connections for every path before the first timed round.
    await runPipeline(pipe, 5_000, 0, KEY, {});
    await runRawCopy(base, recordedEvents(5_000, 0), nextSeq(5_000));
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round so no contender always runs right after the same one.
      const order = contenders.map((_, k) => contenders[(k + round) % contenders.length]!);
      for (const c of order) {
        // This process's CPU time (user + system) per event: the JavaScript side of each contender.
        // The baselines build their rows before the clock starts (recordedEvents), outside this window too.
        const input = c.input?.(round) ?? [];
        const before = process.cpuUsage();
        results.get(c.label)!.push(await c.run(round, input));
        const used = process.cpuUsage(before);
        cpu.get(c.label)!.push((used.user + used.system) / (c.events ?? N));
      }
      process.stderr.write(`round ${round + 1}: ${contenders.map((c) => `${c.label} ${Math.round(results.get(c.label)![round]!)}`).join(', ')}\n`);
    }
  } finally {
    await withClient((c) => c.query(`DROP SCHEMA IF EXISTS "${pipe}" CASCADE; DROP SCHEMA IF EXISTS "${base}" CASCADE`));
  }
  const stages = measureStages(Math.min(N, 20_000));
  report(new Map([...results].map(([k, v]) => [k, { median: median(v), all: v, cpu: median(cpu.get(k)!) }])), stages);
}

function report(r: Map<string, { median: number; all: number[]; cpu: number }>, stages: StageCost[]): void {
  const m = (k: string) => r.get(k)!.median;
  const f = (x: number) => Math.round(x).toLocaleString('en-US');
  const c = (k: string) => r.get(k)!.cpu.toFixed(1);
  const busy = (k: string) => Math.round((r.get(k)!.cpu * m(k)) / 1e4);
  const spread = (k: string) => r.get(k)!.all.map((x) => f(x)).join(' / ');
  const vsNaive = m('pipeline') / m('naive');
  const vsRaw = m('pipeline') / m('raw');
  const row = (label: string, k: string, ratio: string) => `| ${label} | ${f(m(k))} | ${spread(k)} | ${ratio} | ${r.get(k)!.cpu.toFixed(1)} |`;
  const body = `## Audit ingest (bench/ingest)

\`node --import tsx bench/ingest/run.ts\` — ${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ${cpus().length} cores (shared with other work), PostgreSQL at ${new globalThis.URL(DB_URL).host}.
${N.toLocaleString('en-US')} events per run (old design: ${N_NAIVE.toLocaleString('en-US')}), ${ROUNDS} interleaved rounds (every contender once per round, order rotated), medians.
Pipeline settings: the product defaults (batchSize ${DEFAULTS.batchSize}, batchDelayMs ${DEFAULTS.batchDelayMs}, spoolFsync '${DEFAULTS.spoolFsync}').
Events come from \`record()\` of a real AuditRecorder (catalog validation, redaction, request context with a user; four actions, one in four with a personal detail field), as an app calls it, ${RECORD_CHUNK} calls per turn of the event loop; the clock stops when \`forceFlush()\` says every row is committed.

| path | events/s (median) | each round | ratio | Node CPU µs/event |
|---|---:|---|---:|---:|
${row('**pipeline**: record() → spool → batch → HMAC + hash chain → COPY (2 tables), committed', 'pipeline', '1.00')}
${row('(a) one awaited INSERT per event (old design)', 'naive', `pipeline = **${vsNaive.toFixed(1)}x** (target ≥ 20x: ${vsNaive >= 20 ? 'met' : 'MISSED'})`)}
${row('(b) raw COPY of the same rows into the same tables (audit_log + audit_personal), one transaction', 'raw', `pipeline = **${vsRaw.toFixed(2)}x** (target ≥ 0.7x: ${vsRaw >= 0.7 ? 'met' : 'MISSED'})`)}
${row("pipeline with spoolFsync 'batch'", 'fsyncBatch', `${(m('fsyncBatch') / m('pipeline')).toFixed(2)}`)}
${row('pipeline with batchSize 500 (the earlier default)', 'batch500', `${(m('batch500') / m('pipeline')).toFixed(2)}`)}
${row('pipeline with batchSize 2000', 'batch2000', `${(m('batch2000') / m('pipeline')).toFixed(2)}`)}
${row('pipeline, 1000 record() calls per event-loop turn (the database replies wait longer)', 'coarse', `${(m('coarse') / m('pipeline')).toFixed(2)}`)}
${row('diagnostic: raw COPY into unpartitioned copies of the tables', 'rawPlain', `${(m('rawPlain') / m('raw')).toFixed(2)}x (b)`)}
${row(`diagnostic: store writer alone (writeBatch of ${DEFAULTS.batchSize}, no record(), no spool)`, 'writer', `${(m('writer') / m('pipeline')).toFixed(2)}x pipeline`)}
${row('diagnostic: record() + spool append alone (no database)', 'recordSpool', `${(m('recordSpool') / m('pipeline')).toFixed(1)}x pipeline`)}

Raw COPY is ${(m('raw') / m('naive')).toFixed(1)}x the old design in this run${m('raw') / m('naive') < 20 ? ', so no writer reaches 20x (a) on this server: an awaited single-row commit is cheap here' : ''}.

### Where the time goes

Both sides share the machine's ${cpus().length} cores: this Node process and the Postgres backends. The last column is this
process's CPU per event: raw COPY needs ${c('raw')} µs (build COPY text), the pipeline ${c('pipeline')} µs, of which
record() + spool append are ${c('recordSpool')} µs (diagnostic row) and the store writer about ${c('writer')} µs (its row, which
includes no record() and no spool). Postgres does the same inserts for both (same rows, same tables and indexes), plus one
commit and one head update per batch for the pipeline. The Node process was busy ${busy('pipeline')} % of the pipeline's wall time
(CPU per event ÷ time per event; raw COPY: ${busy('raw')} %): at ${c('pipeline')} µs per event one core gives at most
${f(1e6 / r.get('pipeline')!.cpu)} events/s, before Postgres takes its share of the cores.

JavaScript per event by stage, measured in this run on the same kind of events (one core, no database, median of 3 passes):

| stage | µs/event |
|---|---:|
${stages.map((x) => `| ${x.stage} | ${x.usPerEvent.toFixed(1)} |`).join('\n')}

Not in the table: garbage collection (~12 % of the pipeline's CPU profile), the synchronous write(2) of each spool line
before record() returns (~11 % of the profile, the single largest item; the contract forbids deferring it past
record()'s return), and the pg driver. What was done to get here: batches overlap (the next one is hashed and
COPYed while the previous one commits; two in flight, committed in order onto the expected head); head update and commit
in one round trip; HMAC from two one-shot hashes over pads kept in two reused scratch buffers; JSON quoting without
JSON.stringify for plain strings; the chain hash quotes the values the writer made itself (UUID, ISO times, hex digests)
without an escape test (same bytes, \`cvd-audit/1\` unchanged; verify keeps the full escaping); spilled spool lines
decoded a chunk at a time (one UTF-8 decode per read, not a Buffer and a decode per line); spool lines written as
strings; batchSize 1000 by default.

### Why the targets are ${vsNaive >= 20 && vsRaw >= 0.7 ? 'met' : 'missed'}, and what would close the gap

${Number(busy('pipeline')) >= 80
    ? 'The Node process is the busy side.'
    : `The Node process was idle ${100 - Number(busy('pipeline'))} % of the pipeline's wall time, waiting for Postgres: every batch`
      + ' is two COPYs, a head update and a commit, on cores shared with this process and with other work (raw COPY is one'
      + ' transaction).'}
(b) asks for ${f(0.7 * m('raw'))} events/s. At the same busy share that means at most
${((r.get('pipeline')!.cpu * m('pipeline')) / (0.7 * m('raw'))).toFixed(1)} µs of Node CPU per event, against ${c('pipeline')} now. The stages above that
every event must pass (record(), spool line, identify, completeRow, hash + COPY text) already add up to
${stages.filter((x) => !x.stage.includes('read-back')).reduce((a, x) => a + x.usPerEvent, 0).toFixed(1)} µs before garbage collection, the write(2) per event and the driver;
${N > 10_000
    ? `in this bench the burst of ${N.toLocaleString('en-US')} events outruns the writer, so all but the first 10,000 (the spool's memory bound)
are also parsed back from disk (${(stages.find((x) => x.stage.includes('read-back'))?.usPerEvent ?? 0).toFixed(1)} µs each).`
    : 'this run\'s burst fits the spool\'s in-memory window (10,000 events), so nothing is parsed back from disk.'}
(a) asks for ${f(20 * m('naive'))} events/s: ${m('raw') >= 20 * m('naive') ? `${((20 * m('naive')) / m('raw')).toFixed(2)}x raw COPY` : 'more than raw COPY itself reaches on this server'}
(one awaited single-row commit is cheap on this loopback server), i.e. the pipeline would have to run at that share of
the speed of a COPY that does none of its work (no validation, spool, chain or HMAC).
What would close it, measured or estimated from the numbers above: (1) the JavaScript of record() itself
(validation, redaction, context: the largest stage) and of the writer moved off the request thread: hashing and COPY
text in a worker thread would take ~${c('writer')} µs per event off the main thread, but this machine has
${cpus().length} cores shared with Postgres, so it only pays where a core is free; (2) a byte budget instead of 10,000
events for the spool's in-memory window, so a burst this size is never parsed back (a memory-bound change, not made
here); (3) a second stream per process (two chains, two connections); not tried. A third batch in flight did not help
(a separate A/B on 2026-11-26: window 3 vs 2, 15.9k vs 15.6k events/s, medians of 5 interleaved rounds; window 2 vs 1: 1.28x).
`;
  process.stdout.write(body + '\n');
  process.stdout.write(`wrote ${writeResultsSection('ingest', body)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
