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
import { defaultConfig } from '../../src/config/defaults';
import { migrate } from '../../src/store/migrate';
import { baselineRows, DB_URL, RECORD_CHUNK, runNaive, runPipeline, runRawCopy, runRecordAndSpool, runWriterAlone, withClient } from './contenders';
import type { BaselineRows, PipelineTuning, Run } from './contenders';
import type { CpuSpent } from './machineCpu';
import { recordedEvents } from './events';
import { measureStages } from './stages';
import type { StageCost } from './stages';
import { median, writeResultsSection } from '../results.mjs';

const N = Number(process.env.BENCH_EVENTS ?? 50_000);
const N_NAIVE = Number(process.env.BENCH_NAIVE_EVENTS ?? 2_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const KEY = randomBytes(32);
const DEFAULTS = defaultConfig({}).pipeline;

interface Contender {
  label: string;
  /** The rows a baseline writes, made (by record() and the chain) before its clock and CPU window start. */
  input?: (round: number) => BaselineRows;
  run: (round: number, input: BaselineRows) => Promise<Run>;
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

async function main(): Promise<void> {
  const tag = randomBytes(4).toString('hex');
  const pipe = `bench_ingest_${tag}`;
  const base = `bench_ingest_${tag}_base`;
  await setUp(pipe, base);
  let seq = 0;
  const rows = (n: number, offset: number) => baselineRows(recordedEvents(n, offset), (seq += n) - n, KEY);
  const pipeline = (tuning: PipelineTuning, chunk?: number) => (round: number) => runPipeline(pipe, N, round * N, KEY, tuning, chunk);
  const contenders: Contender[] = [
    { label: 'pipeline', run: pipeline({}) },
    { label: 'raw', input: (r) => rows(N, r * N), run: (_, e) => runRawCopy(base, e) },
    { label: 'naive', input: (r) => rows(N_NAIVE, r * N), run: (_, e) => runNaive(base, e), events: N_NAIVE },
    { label: 'fsyncBatch', run: pipeline({ spoolFsync: 'batch' }) },
    { label: 'batch1000', run: pipeline({ batchSize: 1000 }) },
    { label: 'batch2000', run: pipeline({ batchSize: 2000 }) },
    { label: 'batch8000', run: pipeline({ batchSize: 8000 }) },
    { label: 'coarse', run: pipeline({}, 1000) },
    { label: 'rawPlain', input: (r) => rows(N, r * N), run: (_, e) => runRawCopy(base, e, 'plain') },
    { label: 'writer', input: (r) => rows(N, r * N), run: (_, e) => runWriterAlone(pipe, e.events, KEY, DEFAULTS.batchSize) },
    { label: 'recordSpool', run: (r) => runRecordAndSpool(N, r * N) },
  ];
  const results = new Map<string, number[]>(contenders.map((c) => [c.label, []]));
  const cpu = new Map<string, CpuSpent[]>(contenders.map((c) => [c.label, []]));
  try {
    // Warm-up (not reported): compiled code and connections for every path before the first timed round.
    await runPipeline(pipe, 5_000, 0, KEY, {});
    await runRawCopy(base, rows(5_000, 0));
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round so no contender always runs right after the same one.
      const order = contenders.map((_, k) => contenders[(k + round) % contenders.length]!);
      for (const c of order) {
        // CPU per event of this process, of Postgres and of the whole machine while the clock ran (see machineCpu.ts).
        // The baselines' rows are made before the clock starts.
        const input = c.input?.(round) ?? baselineRows([], 0, KEY);
        const { rate, cpu: used } = await c.run(round, input);
        results.get(c.label)!.push(rate);
        const n = c.events ?? N;
        cpu.get(c.label)!.push({ node: used.node / n, postgres: used.postgres === null ? null : used.postgres / n, machine: used.machine === null ? null : used.machine / n });
      }
      process.stderr.write(`round ${round + 1}: ${contenders.map((c) => `${c.label} ${Math.round(results.get(c.label)![round]!)}`).join(', ')}\n`);
    }
  } finally {
    await withClient((c) => c.query(`DROP SCHEMA IF EXISTS "${pipe}" CASCADE; DROP SCHEMA IF EXISTS "${base}" CASCADE`));
  }
  const stages = measureStages(Math.min(N, 20_000));
  const medianOf = (xs: (number | null)[]) => (xs.includes(null) ? null : median(xs as number[]));
  report(new Map([...results].map(([k, v]) => {
    const c = cpu.get(k)!;
    return [k, { median: median(v), all: v, cpu: median(c.map((x) => x.node)), pg: medianOf(c.map((x) => x.postgres)), machine: medianOf(c.map((x) => x.machine)) }];
  })), stages);
}

interface Measured {
  median: number;
  all: number[];
  /** Medians of CPU µs per event: this process, Postgres (null: unknown), the whole machine (null: unknown). */
  cpu: number;
  pg: number | null;
  machine: number | null;
}

function report(r: Map<string, Measured>, stages: StageCost[]): void {
  const cores = cpus().length;
  const m = (k: string) => r.get(k)!.median;
  const f = (x: number) => Math.round(x).toLocaleString('en-US');
  const us = (x: number | null) => (x === null ? 'n/a' : x.toFixed(1));
  const spread = (k: string) => r.get(k)!.all.map((x) => f(x)).join(' / ');
  const vsNaive = m('pipeline') / m('naive');
  const vsRaw = m('pipeline') / m('raw');
  const p = r.get('pipeline')!;
  const raw = r.get('raw')!;
  const row = (label: string, k: string, ratio: string) => {
    const x = r.get(k)!;
    return `| ${label} | ${f(x.median)} | ${spread(k)} | ${ratio} | ${us(x.cpu)} | ${us(x.pg)} | ${us(x.machine)} |`;
  };
  const stageSum = stages.filter((x) => !x.stage.includes('read-back')).reduce((a, x) => a + x.usPerEvent, 0);
  const readBack = stages.find((x) => x.stage.includes('read-back'))?.usPerEvent ?? 0;
  // What the whole machine can give per event at a rate: all cores, fully busy.
  const budget = (rate: number) => (cores * 1e6) / rate;
  const wantB = 0.7 * m('raw');
  const wantA = 20 * m('naive');
  const floor = raw.pg === null ? null : raw.pg + stageSum;
  // Events the spool holds in memory (createAuditPipeline's default); the rest of a burst is read back from disk.
  const memoryWindow = Math.max(10_000, 4 * DEFAULTS.batchSize);
  const verdict = (rate: number) => {
    if (floor === null) return '';
    const gap = floor - budget(rate);
    if (gap > 0) return `: the floor alone (${floor.toFixed(1)}) is over it by ${gap.toFixed(1)} µs, so no writer doing this work reaches it on this machine`;
    if (p.machine === null || p.machine > budget(rate)) {
      return p.machine === null
        ? `: the floor (${floor.toFixed(1)}) fits`
        : `: the floor (${floor.toFixed(1)}) fits; the pipeline is ${(p.machine - budget(rate)).toFixed(1)} µs over the budget, with ${
          (p.machine - floor).toFixed(1)} µs above the floor for its own overheads (garbage collection, write(2), driver, kernel, per-batch commits)`;
    }
    const thread = 1e6 / p.cpu;
    return `: the pipeline's ${us(p.machine)} fit, so the cores do not bind at this rate; this process's one thread does (${us(p.cpu)} µs per event: at most ${f(thread)} events/s${
      thread < rate ? ', below the target' : ', and only with that thread never waiting'})`;
  };
  const body = `## Audit ingest (bench/ingest)

\`node --import tsx bench/ingest/run.ts\` — ${new Date().toISOString().slice(0, 16)}Z, Node ${process.version}, ${cores} cores (shared with other work), PostgreSQL at ${new globalThis.URL(DB_URL).host}.
${N.toLocaleString('en-US')} events per run (old design: ${N_NAIVE.toLocaleString('en-US')}), ${ROUNDS} interleaved rounds (every contender once per round, order rotated), medians.
Pipeline settings: the product defaults (batchSize ${DEFAULTS.batchSize}, batchDelayMs ${DEFAULTS.batchDelayMs}, spoolFsync '${DEFAULTS.spoolFsync}').
Events come from \`record()\` of a real AuditRecorder (catalog validation, redaction, request context with a user; four actions, one in four with a personal detail field), as an app calls it, ${RECORD_CHUNK} calls per turn of the event loop; the clock stops when \`forceFlush()\` says every row is committed.
The baselines write the same rows: the same events with the chain columns the pipeline stores (stream id, HMAC of the personal data, previous and own hash), computed before their clock starts.
CPU columns, µs per event (median): this Node process; every postgres process (backends sampled every 50 ms); the whole machine, all processes and the kernel (/proc/stat).

| path | events/s (median) | each round | ratio | Node CPU | Postgres CPU | machine CPU |
|---|---:|---|---:|---:|---:|---:|
${row('**pipeline**: record() → spool → batch → HMAC + hash chain → COPY (2 tables), committed', 'pipeline', '1.00')}
${row('(a) one awaited INSERT per event (old design)', 'naive', `pipeline = **${vsNaive.toFixed(1)}x** (target ≥ 20x: ${vsNaive >= 20 ? 'met' : 'MISSED'})`)}
${row('(b) raw COPY of the same rows into the same tables (audit_log + audit_personal), one transaction', 'raw', `pipeline = **${vsRaw.toFixed(2)}x** (target ≥ 0.7x: ${vsRaw >= 0.7 ? 'met' : 'MISSED'})`)}
${row("pipeline with spoolFsync 'batch'", 'fsyncBatch', `${(m('fsyncBatch') / m('pipeline')).toFixed(2)}`)}
${row('pipeline with batchSize 1000 (the default before 2026-11-26)', 'batch1000', `${(m('batch1000') / m('pipeline')).toFixed(2)}`)}
${row('pipeline with batchSize 2000', 'batch2000', `${(m('batch2000') / m('pipeline')).toFixed(2)}`)}
${row('pipeline with batchSize 8000', 'batch8000', `${(m('batch8000') / m('pipeline')).toFixed(2)}`)}
${row('pipeline, 1000 record() calls per event-loop turn (the database replies wait longer)', 'coarse', `${(m('coarse') / m('pipeline')).toFixed(2)}`)}
${row('diagnostic: raw COPY into unpartitioned copies of the tables', 'rawPlain', `${(m('rawPlain') / m('raw')).toFixed(2)}x (b)`)}
${row(`diagnostic: store writer alone (writeBatch of ${DEFAULTS.batchSize} in a loop, no record(), no spool)`, 'writer', `${(m('writer') / m('pipeline')).toFixed(2)}x pipeline`)}
${row('diagnostic: record() + spool append alone (no database)', 'recordSpool', `${(m('recordSpool') / m('pipeline')).toFixed(1)}x pipeline`)}

Raw COPY is ${(m('raw') / m('naive')).toFixed(1)}x the old design in this run.

### Where the time goes

This Node process and Postgres share the machine's ${cores} cores. Raw COPY is one Postgres backend inserting
while this process only formats text (${us(raw.cpu)} µs per event here, ${us(raw.pg)} µs in Postgres): one backend's speed is its limit,
and ${us(raw.machine)} µs of machine CPU per event leaves cores idle. The pipeline does all the work raw COPY leaves out,
${us(p.cpu)} µs per event in this process (record() + spool append alone: ${us(r.get('recordSpool')!.cpu)}; the store writer alone:
${us(r.get('writer')!.cpu)}) and ${us(p.pg)} µs in Postgres (one transaction, head update and commit per batch, two batches in flight on two backends),
${us(p.machine)} µs of machine CPU per event in all. Two ceilings follow: this process runs its JavaScript on one thread,
so ${us(p.cpu)} µs per event allow at most ${f(1e6 / p.cpu)} events/s${p.machine !== null
    ? `; ${cores} cores, every one of them busy, allow at most ${f(budget(p.machine))} events/s at ${us(p.machine)} µs of machine CPU per event`
    : ''}. The pipeline ran at ${f(m('pipeline'))}, close to the ${p.machine !== null && budget(p.machine) < 1e6 / p.cpu ? 'second' : 'first'}: it is bound by CPU, not by waiting.
The Postgres column counts the CPU time of its processes; a \`perf record -a\` of 4 × 50k events each (2026-11-26) counted about as
many Postgres samples for the pipeline's rows as for raw COPY of them (29.2k vs 31.1k), so a higher figure there comes from running
beside a busy Node process on a shared machine more than from extra work.

JavaScript per event by stage, measured in this run on the same kind of events (one core, no database, median of 3 passes):

| stage | µs/event |
|---|---:|
${stages.map((x) => `| ${x.stage} | ${x.usPerEvent.toFixed(1)} |`).join('\n')}

Not in the table: garbage collection (~12 % of the pipeline's CPU profile), the synchronous write(2) of each spool line
before record() returns (the single largest item of the profile; the contract forbids deferring it past record()'s
return), and the pg driver. What was done to get here: batches overlap (the next one is hashed and
COPYed while the previous one commits; two in flight, committed in order onto the expected head); head update and commit
in one round trip; HMAC from two one-shot hashes over pads kept in two reused scratch buffers; JSON quoting without
JSON.stringify for plain strings; the chain hash quotes the values the writer made itself (UUID, ISO times, hex digests)
without an escape test (same bytes, \`cvd-audit/1\` unchanged; verify keeps the full escaping); spilled spool lines
decoded a chunk at a time (one UTF-8 decode per read, not a Buffer and a decode per line); spool lines written as
strings; batchSize 4000 by default (1000 before 2026-11-26). Batch sizes from 1000 to 8000 differ by less than this machine's
run-to-run noise (the rows above); comparisons that day leaned towards larger batches (\`bench/ingest/ab.ts\`, 5 interleaved
rounds: 2000 vs 1000 1.12x; 4000 vs 2000 1.18x, and 1.08x, 1.24x, 0.84x in full runs) and fewer commits per event.

### Why the targets are ${vsNaive >= 20 && vsRaw >= 0.7 ? 'met' : 'missed'}: the CPU budget of this machine

A rate of R events/s on ${cores} cores leaves at most ${cores} × 10⁶ ÷ R µs of machine CPU per event, and only if every core is busy
all the time (this process, the Postgres backends and the kernel never waiting for each other). A floor for any writer that
does the work the issue asks for: what Postgres spends on the same rows in one big COPY (raw COPY's Postgres CPU, ${us(raw.pg)} µs)
plus the JavaScript stages every event must pass (record(), spool line, identify, completeRow, hash + COPY text: ${stageSum.toFixed(1)} µs),
${floor === null ? 'unknown here (no /proc)' : `${floor.toFixed(1)} µs per event`}, before garbage collection, the write(2) per event, the driver, the kernel and the per-batch commits.
- (b) asks for 0.7 × raw COPY = ${f(wantB)} events/s: at most ${budget(wantB).toFixed(1)} µs of machine CPU per event. The pipeline spends
  ${us(p.machine)}${verdict(wantB)}.
- (a) asks for 20 × the old design = ${f(wantA)} events/s (${(wantA / m('raw')).toFixed(2)}x raw COPY itself): at most ${budget(wantA).toFixed(1)} µs per event${
    raw.machine !== null && raw.machine > budget(wantA) ? `, less than raw COPY spends (${us(raw.machine)}), which validates, spools and chains nothing` : ''}${verdict(wantA)}.
  ${m('raw') < wantA
    ? `Raw COPY itself, which does none of the work, ran at ${f(m('raw'))} events/s, below that: in this run (a) is out of reach for any writer of these rows.`
    : `Raw COPY ran at ${f(m('raw'))} events/s, above that: (a) asks the pipeline for ${(wantA / m('raw')).toFixed(2)}x raw COPY here, ${wantA > wantB ? 'more than (b) does' : 'less than (b) does'}.`}
  The old design's rate follows this machine's cost per statement and commit (${f(m('naive'))} events/s here; 1,166 and 2,495 in two runs
  on 2026-11-26; REFERENCE.md measured 1.4-1.5k/s), while the pipeline's follows its CPU per event, so the ratio (a) moves with the machine's load.
${N > memoryWindow ? `In this bench the burst of ${N.toLocaleString('en-US')} events outruns the writer, so all but the first ${memoryWindow.toLocaleString('en-US')} (the spool's memory bound)
are also parsed back from disk (${readBack.toFixed(1)} µs each).\n` : ''}
The limit is CPU, not a wait that overlapping could hide: this process's one thread (${us(p.cpu)} µs per event against the
single raw COPY backend's ${us(raw.pg)}) and the machine's ${cores} cores shared with Postgres.
Tried and not kept (medians of 5 interleaved rounds of 50k events, \`bench/ingest/ab.ts\` or a prototype, 2026-11-26):
- the store writer in a worker thread, each batch posted by structured clone: 0.86x (14.8k vs 17.2k events/s); Node CPU
  over both threads 74.7 vs 51.5 µs per event: cloning on both sides costs more than a second thread gains on 2 cores shared with Postgres;
- each batch's COPY sent only after the previous batch's COPY ended (never two backends inserting at once; hashing still
  overlapped): 0.78x (19.0k vs 24.2k);
- a third batch in flight: 15.9k vs 15.6k; one batch in flight instead of two: two are 1.28x faster (kept);
- a spool memory window of 60,000 events (no read-back in this burst): 1.06x (27.6k vs 26.1k), within this machine's noise,
  for up to 4x the memory an app gives the pipeline; V8's \`--max-semi-space-size=32\`: no gain.
Not tried: the worker fed with spool lines (strings) instead of objects: no clone, but the worker parses every event
(${readBack.toFixed(1)} µs each), so the machine's CPU per event rises while the one-thread ceiling lifts.
`;
  process.stdout.write(body + '\n');
  process.stdout.write(`wrote ${writeResultsSection('ingest', body)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
