import { expect } from 'chai';
import pg from 'pg';
import { createTestSchema } from './database';

describe('test support: database', () => {
  it('gives a reachable server and a schema that can be dropped', async () => {
    const t = await createTestSchema('probe');
    const client = new pg.Client({ connectionString: t.url });
    await client.connect();
    await client.query(`CREATE SCHEMA "${t.schema}"`);
    const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1', [t.schema]);
    await client.end();
    await t.drop();
    expect(rows[0].n).to.equal(1);
  });
});
