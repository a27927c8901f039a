/** The pipeline contender of bench/ingest alone (50k events, PROF_ROUNDS rounds), for A/B runs and `node --cpu-prof`; writes no results. */
import { randomBytes } from 'node:crypto';
import { migrate } from '../../src/store/migrate';
import { runPipeline, withClient } from './contenders';

async function main(): Promise<void> {
  const schema = `bench_prof_${randomBytes(4).toString('hex')}`;
  await withClient((c) => migrate(c, { schema, roles: false }));
  const key = randomBytes(32);
  try {
    await runPipeline(schema, 5000, 0, key, {});
    const rates: number[] = [];
    for (let r = 1; r <= Number(process.env.PROF_ROUNDS ?? 3); r++) {
      const { rate, cpu } = await runPipeline(schema, 50_000, r * 50_000, key, {});
      rates.push(Math.round(rate));
      const per = (us: number | null) => (us === null ? 'n/a' : (us / 50_000).toFixed(1));
      console.log('events/s', rates.at(-1), 'CPU µs/event: node', per(cpu.node), 'postgres', per(cpu.postgres), 'machine', per(cpu.machine));
    }
  } finally {
    await withClient((c) => c.query(`DROP SCHEMA "${schema}" CASCADE`));
  }
}
void main();
