/** One read-only REPEATABLE READ snapshot around a reader's queries (verify, checkpoints). */
import type { ClientBase } from 'pg';
import { toStoreError } from './errors';

/**
 * Runs `work` in one snapshot (rows committed meanwhile are not seen) and
 * commits; errors of the kinds in `passThrough` are rethrown as they are,
 * others become StoreErrors saying what was being done.
 */
export async function inSnapshot<T>(client: ClientBase, doing: string, work: () => Promise<T>, passThrough: ReadonlyArray<new (...args: any[]) => Error> = []): Promise<T> {
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      const result = await work();
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  } catch (err) {
    if (passThrough.some((kind) => err instanceof kind)) throw err;
    throw toStoreError(err, doing);
  }
}
