/**
 * A/B of pipeline settings: each named variant of the pipeline contender runs
 * once per round, rounds interleaved (order reversed every other round),
 * medians of events/s and of CPU per event. Writes no results; for trying a
 * setting before changing a default.
 *   AB='{"b1000":{"batchSize":1000},"b2000":{"batchSize":2000}}' node --import tsx bench/ingest/ab.ts
 *   [BENCH_EVENTS=50000 BENCH_ROUNDS=5]
 */
import { randomBytes } from 'node:crypto';
import { migrate } from '../../src/store/migrate';
import { runPipeline, withClient } from './contenders';
import type { PipelineTuning, Run } from './contenders';
import { median } from '../results.mjs';

const N = Number(process.env.BENCH_EVENTS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

async function main(): Promise<void> {
  const variants = JSON.parse(process.env.AB ?? '{"defaults":{}}') as Record<string, PipelineTuning>;
  const names = Object.keys(variants);
  const schema = `bench_ab_${randomBytes(4).toString('hex')}`;
  await withClient((c) => migrate(c, { schema, roles: false }));
  const key = randomBytes(32);
  const runs = new Map<string, Run[]>(names.map((n) => [n, []]));
  let offset = 0;
  try {
    await runPipeline(schema, 5_000, (offset += 5_000), key, {}); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of round % 2 ? [...names].reverse() : names) {
        runs.get(name)!.push(await runPipeline(schema, N, (offset += N), key, variants[name]!));
      }
    }
  } finally {
    await withClient((c) => c.query(`DROP SCHEMA "${schema}" CASCADE`));
  }
  const per = (xs: (number | null)[]) => (xs.includes(null) ? 'n/a' : (median(xs as number[]) / N).toFixed(1));
  for (const [name, r] of runs) {
    console.log(`${name}: ${Math.round(median(r.map((x) => x.rate)))} events/s (${r.map((x) => Math.round(x.rate)).join(' / ')}), `
      + `CPU µs/event node ${per(r.map((x) => x.cpu.node))}, postgres ${per(r.map((x) => x.cpu.postgres))}, machine ${per(r.map((x) => x.cpu.machine))}`);
  }
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
