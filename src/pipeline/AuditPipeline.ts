/**
 * Moves audit events from the spool to Postgres: batches by size and time,
 * one `writeBatch` at a time and in spool order (the hash chain is per stream,
 * so two concurrent batches on one stream are never allowed), retries forever
 * with exponential backoff and full jitter, and commits a batch in the spool
 * only after the writer committed it in Postgres. The lifecycle follows
 * OpenTelemetry's BatchSpanProcessorBase: idempotent shutdown, forceFlush
 * after shutdown resolves, unref()'d timers, database traffic under
 * suppressTracing, background failures to diag and never into the app.
 */
import { ROOT_CONTEXT, context, diag } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { AuditEvent, AuditSink } from '../audit/types';
import type { AuditRecord, AuditWriter } from '../store/types';
import { FlushTimeoutError, PipelineShutdownError } from './errors';
import type { Spool, SpoolStatus } from './Spool';

/** Creates the Postgres writer of one stream; called again after it failed to connect. */
export type AuditWriterFactory = (options: { streamId: string }) => Promise<AuditWriter> | AuditWriter;

/** Options of an AuditPipeline. */
export interface AuditPipelineOptions {
  spool: Spool;
  /** null: no database (events stay spooled for the next process that has one). */
  writerFactory: AuditWriterFactory | null;
  /** This process's hash-chain stream. */
  streamId: string;
  /** Events per writeBatch. */
  batchSize: number;
  /** Longest a partial batch waits (ms). */
  batchDelayMs: number;
  /** Cap of the retry backoff (ms). */
  retryMaxDelayMs: number;
  /** First retry backoff cap (ms, default 100); doubles per failure up to retryMaxDelayMs. */
  retryBaseDelayMs?: number;
  /** 'batch': fsync the spool before each batch is sent. */
  spoolFsync: 'none' | 'batch' | 'always';
  /** Default deadline of forceFlush() (ms, default 30000). */
  flushTimeoutMs?: number;
  /** Deadline of the flush inside shutdown() (ms, default 10000). */
  shutdownTimeoutMs?: number;
  /** A writeBatch still pending after this long is reported to diag (ms, default 60000); it is never abandoned. */
  stallReportMs?: number;
}

/** What the pipeline is doing, for status() and health checks. */
export interface PipelineStatus {
  streamId: string;
  database: 'none' | 'not-connected' | 'connected' | 'failing';
  consecutiveFailures: number;
  lastError: string | null;
  lastErrorAt: string | null;
  lastCommitAt: string | null;
  batchesCommitted: number;
  duplicatesSkipped: number;
  shutDown: boolean;
  spool: SpoolStatus;
}

interface FlushWaiter {
  target: number;
  resolve(): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

const FAILURE_REPORT_INTERVAL_MS = 30_000;

// AuditEvent must stay assignable to the store's AuditRecord: this fails to compile otherwise.
const asRecords = (events: AuditEvent[]): readonly AuditRecord[] => events;

/** The AuditSink that spools events and writes them to Postgres in batches. */
export class AuditPipeline implements AuditSink {
  private readonly opts: Required<AuditPipelineOptions>;
  private writer: AuditWriter | null = null;
  private exporting = false;
  private delayTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private waiters: FlushWaiter[] = [];
  private shutdownPromise: Promise<void> | null = null;
  private stopped = false;
  private failures = 0;
  private lastError: string | null = null;
  private lastErrorAt: string | null = null;
  private lastCommitAt: string | null = null;
  private lastFailureReport = 0;
  private batchesCommitted = 0;
  private duplicatesSkipped = 0;

  constructor(options: AuditPipelineOptions) {
    this.opts = { retryBaseDelayMs: 100, flushTimeoutMs: 30_000, shutdownTimeoutMs: 10_000, stallReportMs: 60_000, ...options };
    if (options.writerFactory === null) {
      diag.warn(
        `cvd-activity: no database configured: audit events are kept in the spool ${options.spool.dir} ` +
          'and written to Postgres by the next process of this app that has a database',
      );
    } else if (!options.spool.empty) {
      this.schedule(true); // drain what was recovered from stopped processes
    }
  }

  /** Appends the event to the spool (durable when this returns) and schedules its batch; throws SpoolFullError when full. */
  enqueue(event: AuditEvent): void {
    if (this.shutdownPromise !== null) throw new PipelineShutdownError();
    this.opts.spool.append(event);
    this.schedule(false);
  }

  /** Resolves when every event enqueued before the call is committed; rejects with FlushTimeoutError after `timeoutMs`. */
  forceFlush(timeoutMs: number = this.opts.flushTimeoutMs): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const { spool } = this.opts;
    if (this.opts.writerFactory === null) {
      // Without a database the spool is the destination: durable once synced.
      if (this.opts.spoolFsync !== 'none') spool.sync();
      return Promise.resolve();
    }
    const target = spool.accepted;
    if (spool.committedOwn >= target) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      // Deliberately not unref()'d: an awaited flush holds the process up to its deadline, so a
      // shutdown from `beforeExit` finishes writing instead of exiting with the batch in flight.
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new FlushTimeoutError(timeoutMs, target - spool.committedOwn, this.lastError));
      }, timeoutMs);
      const waiter: FlushWaiter = { target, resolve, reject, timer };
      this.waiters.push(waiter);
      this.schedule(true);
    });
  }

  /** Flushes with the shutdown deadline, then closes; uncommitted events stay in the spool for the next start. Idempotent. */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.doShutdown();
    return this.shutdownPromise;
  }

  /** A snapshot of the pipeline's state. */
  status(): PipelineStatus {
    return {
      streamId: this.opts.streamId,
      database:
        this.opts.writerFactory === null
          ? 'none'
          : this.failures > 0
            ? 'failing'
            : this.writer
              ? 'connected'
              : 'not-connected',
      consecutiveFailures: this.failures,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
      lastCommitAt: this.lastCommitAt,
      batchesCommitted: this.batchesCommitted,
      duplicatesSkipped: this.duplicatesSkipped,
      shutDown: this.shutdownPromise !== null,
      spool: this.opts.spool.status(),
    };
  }

  private async doShutdown(): Promise<void> {
    const { spool } = this.opts;
    if (this.opts.writerFactory !== null) {
      try {
        await this.forceFlush(this.opts.shutdownTimeoutMs);
      } catch (err) {
        diag.warn(`cvd-activity: audit pipeline shut down with events left: ${(err as Error).message}`);
      }
    }
    this.stopped = true;
    this.clearTimer('delayTimer');
    this.clearTimer('retryTimer');
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve(); // what they waited for stays in the spool; the shutdown warning said so
    }
    try {
      spool.close();
    } catch (err) {
      diag.error(`cvd-activity: closing the audit spool failed: ${(err as Error).message}`);
    }
    const writer = this.writer;
    this.writer = null;
    if (writer) {
      await withDeadline(writer.close(), 2_000).catch((err: Error) =>
        diag.warn(`cvd-activity: closing the audit writer failed: ${err.message}`),
      );
    }
  }

  /** Starts an export now when a batch is ready (or `urgent`), else arms the batch-delay timer. */
  private schedule(urgent: boolean): void {
    if (this.exporting || this.retryTimer !== null || this.stopped || this.opts.writerFactory === null) return;
    const { spool } = this.opts;
    if (spool.empty) return;
    if (urgent || this.isUrgent() || spool.inMemory >= this.opts.batchSize || spool.spilled) {
      this.clearTimer('delayTimer');
      this.exporting = true;
      // Never inside record()'s call stack: the writer runs on a later turn of the event loop.
      setImmediate(() => void this.exportLoop(true));
    } else if (this.delayTimer === null) {
      this.delayTimer = setTimeout(() => {
        this.delayTimer = null;
        this.schedule(true);
      }, this.opts.batchDelayMs);
      this.delayTimer.unref();
    }
  }

  private isUrgent(): boolean {
    return this.waiters.length > 0 || this.shutdownPromise !== null;
  }

  private async exportLoop(first: boolean): Promise<void> {
    let urgent = first;
    try {
      while (!this.stopped) {
        const batch = this.opts.spool.peek(this.opts.batchSize);
        if (batch.length === 0) break;
        if (batch.length < this.opts.batchSize && !urgent && !this.isUrgent()) break; // wait for the delay timer
        if (!(await this.sendBatch(batch))) return;
        urgent = false;
      }
    } finally {
      this.exporting = false;
    }
    this.schedule(false);
  }

  /** One writeBatch; true when committed. On failure arms the retry timer. */
  private async sendBatch(batch: AuditEvent[]): Promise<boolean> {
    // A batch in flight is never abandoned for a second one (two transactions would race on the stream's
    // chain); a stalled one (silent network partition, hung server) is reported while events keep spooling.
    const stall = setTimeout(() => {
      diag.error(
        `cvd-activity: a batch of ${batch.length} audit event(s) has waited ${this.opts.stallReportMs} ms for Postgres; ` +
          'new events keep going to the spool and are written once it answers or the connection fails',
      );
    }, this.opts.stallReportMs);
    stall.unref();
    try {
      if (this.opts.spoolFsync === 'batch') this.opts.spool.sync();
      const writer = this.writer ?? (await this.connect());
      const result = await context.with(suppressTracing(ROOT_CONTEXT), () => writer.writeBatch(asRecords(batch)));
      this.opts.spool.commit(batch.length);
      this.batchesCommitted += 1;
      this.duplicatesSkipped += result.duplicates;
      this.lastCommitAt = new Date().toISOString();
      if (this.failures > 0) {
        diag.info(`cvd-activity: Postgres takes audit events again after ${this.failures} failed attempt(s); the backlog drains in order`);
        this.failures = 0;
      }
      this.settleWaiters();
      return true;
    } catch (err) {
      this.onFailure(err, batch.length);
      return false;
    } finally {
      clearTimeout(stall);
    }
  }

  private async connect(): Promise<AuditWriter> {
    const factory = this.opts.writerFactory!;
    const writer = await context.with(suppressTracing(ROOT_CONTEXT), () =>
      Promise.resolve(factory({ streamId: this.opts.streamId })),
    );
    if (this.stopped) {
      await writer.close().catch(() => undefined);
      throw new Error('audit pipeline shut down while connecting');
    }
    this.writer = writer;
    return writer;
  }

  private onFailure(err: unknown, batchLength: number): void {
    this.failures += 1;
    this.lastError = (err as Error)?.message ?? String(err);
    this.lastErrorAt = new Date().toISOString();
    const now = Date.now();
    if (this.failures === 1 || now - this.lastFailureReport >= FAILURE_REPORT_INTERVAL_MS) {
      const s = this.opts.spool.status();
      diag.error(
        `cvd-activity: writing ${batchLength} audit event(s) to Postgres failed (attempt ${this.failures}): ${this.lastError}. ` +
          `They are safe in the spool (${s.usedBytes} bytes in ${s.dir}); retrying with backoff.`,
      );
      this.lastFailureReport = now;
    } else {
      diag.debug(`cvd-activity: audit batch attempt ${this.failures} failed: ${this.lastError}`);
    }
    if (this.stopped) return;
    const cap = Math.min(this.opts.retryMaxDelayMs, this.opts.retryBaseDelayMs * 2 ** Math.min(this.failures - 1, 30));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.schedule(true);
    }, Math.random() * cap); // full jitter: processes that failed together do not retry together
    this.retryTimer.unref();
  }

  private settleWaiters(): void {
    const committed = this.opts.spool.committedOwn;
    this.waiters = this.waiters.filter((w) => {
      if (w.target > committed) return true;
      clearTimeout(w.timer);
      w.resolve();
      return false;
    });
  }

  private clearTimer(name: 'delayTimer' | 'retryTimer'): void {
    const timer = this[name];
    if (timer !== null) clearTimeout(timer);
    this[name] = null;
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
