// BrowserEventWriter against a real PostgreSQL: batches stored in one go,
// retention (old monthly partitions dropped, older rows deleted), all-or-nothing
// queueing when the database is behind, and no throw when it is gone.
import { expect } from 'chai';
import pg from 'pg';
import { BrowserEventWriter } from '../../src/store/BrowserEventWriter';
import { migrate } from '../../src/store/migrate';
import { browserRow } from '../support/browserRows';
import { createTestSchema } from '../support/database';
import { pollUntil } from '../support/poll';

const DAY = 86_400_000;

describe('BrowserEventWriter', () => {
  let test: Awaited<ReturnType<typeof createTestSchema>>;
  let client: pg.Client;
  const table = () => `"${test.schema}".browser_events`;

  before(async () => {
    test = await createTestSchema('browser_writer');
    client = new pg.Client({ connectionString: test.url });
    await client.connect();
    await migrate(client, { schema: test.schema, roles: false });
  });
  after(async () => {
    await client?.end();
    await test?.drop();
  });

  it('keeps 90 days: drops whole old monthly partitions and deletes older rows elsewhere', async () => {
    const now = Date.now();
    const old = new Date(now - 200 * DAY);
    const edge = new Date(now - 95 * DAY);
    const recent = new Date(now - 10 * DAY);
    // A partition for the old month, as a long-running app would have; the edge month's rows may sit in any partition.
    await client.query(`SELECT "${test.schema}".browser_ensure_partitions($1::timestamptz[])`, [[old.toISOString()]]);
    const rows = [old, edge, recent].map((at, i) => browserRow({ type: 'click', at, name: `f${i}` }));
    await client.query(`INSERT INTO ${table()} SELECT * FROM jsonb_populate_recordset(NULL::${table()}, $1::jsonb)`, [JSON.stringify(rows)]);
    const oldPartition = `browser_events_p${old.toISOString().slice(0, 7).replace('-', '')}`;
    expect((await client.query('SELECT to_regclass($1) AS r', [`"${test.schema}".${oldPartition}`])).rows[0].r).to.not.equal(null);

    const writer = new BrowserEventWriter({ connectionString: test.url, schema: test.schema, retentionDays: 90 });
    try {
      const names = await pollUntil('retention', async () => {
        const left = (await client.query(`SELECT name FROM ${table()} ORDER BY name`)).rows.map((r) => r.name);
        return left.length === 1 ? left : undefined;
      }, 10_000);
      expect(names).to.deep.equal(['f2']);
      expect((await client.query('SELECT to_regclass($1) AS r', [`"${test.schema}".${oldPartition}`])).rows[0].r).to.equal(null);
    } finally {
      await writer.close();
    }
  });

  it('takes a batch whole or not at all when the queue is full, and stores what it took', async () => {
    const writer = new BrowserEventWriter({ connectionString: test.url, schema: test.schema, maxQueuedRows: 5, flushIntervalMs: 60_000 });
    try {
      const row = (name: string) => browserRow({ type: 'click', at: new Date(), name });
      expect(writer.enqueue([row('q1'), row('q2'), row('q3')])).to.equal(true);
      expect(writer.enqueue([row('q4'), row('q5'), row('q6')])).to.equal(false);
      await writer.flush();
      expect(writer.stats).to.deep.equal({ written: 3, droppedQueueFull: 3, droppedWriteFailed: 0 });
      const names = (await client.query(`SELECT name FROM ${table()} WHERE name LIKE 'q%' ORDER BY name`)).rows.map((r) => r.name);
      expect(names).to.deep.equal(['q1', 'q2', 'q3']);
    } finally {
      await writer.close();
    }
  });

  it('reports, never throws, when the database is unreachable', async () => {
    const errors: string[] = [];
    const writer = new BrowserEventWriter({ connectionString: 'postgres://nobody@127.0.0.1:9/none', schema: test.schema, onError: (e) => errors.push(e.message) });
    expect(writer.enqueue([browserRow({ type: 'click', at: new Date(), name: 'lost' })])).to.equal(true);
    await writer.flush();
    await writer.close();
    expect(writer.stats.droppedWriteFailed).to.equal(1);
    expect(errors.some((m) => /storing 1 browser events/.test(m))).to.equal(true);
  });
});
