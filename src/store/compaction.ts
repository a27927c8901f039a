/**
 * Compaction of months past 30 days (docs/data-lifecycle.md, "Compaction"):
 * a class partition no longer written to is packed: its indexes rebuilt full
 * (fillfactor 100; B-tree pages filled by random inserts sit about two thirds
 * full) and the partition marked compacted (`fillfactor=100` in its
 * reloptions, which is also what a full heap wants). The rows are not touched,
 * so the chain and the append-only triggers are unaffected.
 *
 * Why not lz4 TOAST compression: PostgreSQL only compresses values of rows
 * longer than TOAST_TUPLE_THRESHOLD (about 2 KB), whatever toast_tuple_target
 * says; an audit row is about 500 bytes, so `SET COMPRESSION lz4` and a
 * rewrite leave it as it was (measured: the same size). Big rows are already
 * compressed (pglz) when inserted.
 */
import type { ClientBase } from 'pg';
import { quoteIdent } from './identifiers';

/** The reloption that marks a partition compacted. */
export const COMPACTED_OPTION = 'fillfactor=100';

/** Inside the caller's transaction: packs one leaf partition; returns its events. */
export async function compactPartition(client: ClientBase, options: { s: string; partition: string }): Promise<number> {
  const part = `${options.s}.${quoteIdent(options.partition)}`;
  const { rows: indexes } = await client.query<{ name: string }>(
    `SELECT i.indexrelid::regclass::text AS name FROM pg_index i WHERE i.indrelid = to_regclass($1)`, [part]);
  for (const index of indexes) await client.query(`ALTER INDEX ${index.name} SET (fillfactor = 100)`);
  await client.query(`ALTER TABLE ${part} SET (fillfactor = 100)`);
  // Blocks writes to this month (none are expected) and reads through its indexes, for the rebuild only.
  await client.query(`REINDEX TABLE ${part}`);
  const n = await client.query(`SELECT count(*)::int AS n FROM ${part}`);
  return n.rows[0].n;
}
