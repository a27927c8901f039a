/**
 * A tiny real-Postgres AuditWriter for pipeline tests: one table, one
 * transaction per batch, `INSERT … ON CONFLICT (event_id) DO NOTHING` (replay
 * is idempotent), a bigserial that records commit order per stream. It stands
 * in for the store's chained writer where the chain is not what is tested.
 */
import pg from 'pg';
import type { AuditRecord, AuditWriter, BatchResult } from '../../src/store/types';

/** Creates `<schema>.events` if needed and returns a writer factory on it. */
export async function tableWriterFactory(url: string, schema: string): Promise<(o: { streamId: string }) => Promise<TableWriter>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS "${schema}".events (
      pos bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, stream_id text NOT NULL, body jsonb NOT NULL)`);
  } finally {
    await client.end();
  }
  return async ({ streamId }) => new TableWriter(url, schema, streamId);
}

/** See file comment. */
export class TableWriter implements AuditWriter {
  private readonly pool: pg.Pool;
  constructor(
    url: string,
    private readonly schema: string,
    readonly streamId: string,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 3000, query_timeout: 15_000 });
    this.pool.on('error', () => {}); // idle clients die when the server stops: the next query reconnects
  }

  async writeBatch(records: readonly AuditRecord[]): Promise<BatchResult> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const res = await client.query(
        `INSERT INTO "${this.schema}".events (event_id, stream_id, body)
         SELECT e.id, $1, e.body FROM unnest($2::uuid[], $3::jsonb[]) WITH ORDINALITY AS e(id, body, ord)
         ORDER BY e.ord ON CONFLICT (event_id) DO NOTHING`,
        [this.streamId, records.map((r) => r.eventId), records.map((r) => JSON.stringify(r))],
      );
      await client.query('COMMIT');
      client.release();
      return { inserted: res.rowCount ?? 0, duplicates: records.length - (res.rowCount ?? 0) };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(err as Error); // a broken connection is discarded, not reused
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Rows of the test table, in commit order: event id and stream. */
export async function storedEvents(url: string, schema: string): Promise<{ eventId: string; streamId: string }[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const res = await client.query(`SELECT event_id, stream_id FROM "${schema}".events ORDER BY pos`);
    return res.rows.map((r: { event_id: string; stream_id: string }) => ({ eventId: r.event_id, streamId: r.stream_id }));
  } finally {
    await client.end();
  }
}
