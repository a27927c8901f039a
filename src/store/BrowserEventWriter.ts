/**
 * Writes browser events to `browser_events` in the background: rows wait in a
 * bounded queue and go in one INSERT per flush. Browser activity is sampled
 * usage data, not the audit trail: when Postgres is down or the queue is full,
 * rows are dropped and counted (never retried into memory without bound), so
 * the app's memory and latency stay flat whatever happens to the database.
 */
import pg from 'pg';
import { toStoreError } from './errors';
import { checkName, DEFAULT_SCHEMA, quoteIdent } from './identifiers';
import { migrate } from './migrate';

/** One stored browser event (the columns of browser_events). */
export interface BrowserEventRow {
  received_at: string;
  occurred_at: string;
  type: string;
  user_id: string | null;
  session_id: string | null;
  page_view_id: string;
  trace_id: string | null;
  page: string;
  route: string | null;
  name: string | null;
  value: number | null;
  details: Record<string, string | number>;
  browser: string | null;
  os: string | null;
  device: string | null;
  client_address: string | null;
}

/** Options of `BrowserEventWriter`. */
export interface BrowserEventWriterOptions {
  /** postgres:// URL; absent = pg's PG* variables. */
  connectionString?: string;
  /** Schema of the tables (default `cvd_activity`). */
  schema?: string;
  /** Most rows waiting for the database; more are dropped and counted (default 20,000). */
  maxQueuedRows?: number;
  /** Rows per INSERT (default 1,000). */
  batchSize?: number;
  /** Longest a row waits before its INSERT (ms, default 250). */
  flushIntervalMs?: number;
  /** Days kept; older rows are removed every 6 hours (default 90). */
  retentionDays?: number;
  /** Run the migrations (idempotent) before the first maintenance, as start() does with autoMigrate (default false). */
  autoMigrate?: boolean;
  /** Called once per failed flush or maintenance run (the endpoint reports it through diag). */
  onError?: (err: Error) => void;
}

/** Counters for health checks and tests. */
export interface BrowserWriterStats {
  written: number;
  /** Refused because the queue was full (the endpoint answered 503). */
  droppedQueueFull: number;
  /** Dropped because their INSERT failed. */
  droppedWriteFailed: number;
}

const MAINTENANCE_EVERY_MS = 6 * 3600_000;

export class BrowserEventWriter {
  readonly stats: BrowserWriterStats = { written: 0, droppedQueueFull: 0, droppedWriteFailed: 0 };
  private readonly pool: pg.Pool;
  private readonly table: string;
  private readonly schema: string;
  private queue: BrowserEventRow[] = [];
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly maintenance: NodeJS.Timeout;
  private closed = false;
  private migrated: Promise<void> | null = null;

  constructor(private readonly options: BrowserEventWriterOptions = {}) {
    this.schema = checkName('schema', options.schema ?? DEFAULT_SCHEMA);
    this.table = `${quoteIdent(this.schema)}.browser_events`;
    // Two connections: one flush at a time plus maintenance; the app's own pool is untouched.
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: 2, application_name: 'cvd-activity-browser' });
    this.pool.on('error', (err) => this.report(err));
    void this.maintain();
    this.maintenance = setInterval(() => void this.maintain(), MAINTENANCE_EVERY_MS).unref();
  }

  /** Queues all of `rows`, or none when they do not fit (the database is behind): returns whether they were taken. Never throws. */
  enqueue(rows: readonly BrowserEventRow[]): boolean {
    if (this.closed || this.queue.length + rows.length > (this.options.maxQueuedRows ?? 20_000)) {
      this.stats.droppedQueueFull += rows.length;
      return false;
    }
    for (const row of rows) this.queue.push(row);
    if (this.queue.length >= (this.options.batchSize ?? 1000)) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushIntervalMs ?? 250).unref();
    return true;
  }

  /** Writes everything queued so far; resolves when it is stored (or dropped after a failure). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.queue.length === 0) return;
    const batchSize = this.options.batchSize ?? 1000;
    this.flushing = (async () => {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, batchSize);
        try {
          await this.pool.query(`INSERT INTO ${this.table} SELECT * FROM jsonb_populate_recordset(NULL::${this.table}, $1::jsonb)`,
            [JSON.stringify(batch)]);
          this.stats.written += batch.length;
        } catch (err) {
          this.stats.droppedWriteFailed += batch.length;
          this.report(toStoreError(err, `storing ${batch.length} browser events`));
        }
      }
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
  }

  /** Flushes and closes the connections; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    clearInterval(this.maintenance);
    await this.pool.end().catch(() => {});
  }

  /** Partitions for this month and the next, and retention of old rows. */
  private async maintain(): Promise<void> {
    const now = new Date();
    const nextMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    const cutoff = new Date(now.getTime() - (this.options.retentionDays ?? 90) * 86_400_000);
    const s = quoteIdent(this.schema);
    try {
      if (this.options.autoMigrate) await (this.migrated ??= this.migrateOnce());
      await this.pool.query(`SELECT ${s}.browser_ensure_partitions($1::timestamptz[])`, [[now.toISOString(), nextMonth.toISOString()]]);
      await this.pool.query(`SELECT ${s}.browser_apply_retention($1)`, [cutoff.toISOString()]);
    } catch (err) {
      this.report(toStoreError(err, 'browser_events partitions and retention'));
    }
  }

  private async migrateOnce(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await migrate(client, { schema: this.schema });
    } catch (err) {
      this.migrated = null; // try again at the next maintenance
      throw err;
    } finally {
      client.release();
    }
  }

  private report(err: Error): void {
    try {
      this.options.onError?.(err);
    } catch {
      // A throwing reporter must not break the writer.
    }
  }
}
