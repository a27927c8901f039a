/**
 * Moves audit events from the spool to Postgres: batches by size and time,
 * in spool order, at most two in flight when the writer commits overlapping
 * batches in call order (`overlapsBatches`), else one at a time; after a
 * failure waits for every batch in flight, then retries from the oldest
 * uncommitted event forever with exponential backoff and full jitter; commits
 * a batch in the spool only after the writer committed it (and every batch
 * before it) in Postgres. The lifecycle follows
 * OpenTelemetry's BatchSpanProcessorBase: idempotent shutdown, forceFlush
 * after shutdown resolves, unref()'d timers, database traffic under
 * suppressTracing, background failures to diag and never into the app.
 */
import { ROOT_CONTEXT, context, diag } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { AuditEvent, AuditSink } from '../audit/types';
import type { StoreError } from '../store/errors';
import type { AuditRecord, AuditWriter } from '../store/types';
import { FlushTimeoutError, PipelineShutdownError } from './errors';
import { FlushWaiters } from './FlushWaiters';
import { PipelineHealth } from './PipelineHealth';
import { isolateRefused, refusedForContent } from './refusedBatch';
import type { AuditPipelineOptions, PipelineStatus } from './types';
import { WriterSlot } from './WriterSlot';

/**
 * Batches handed to a writer that overlaps them (`overlapsBatches`) at once.
 * Two let the next batch's hashing and COPY overlap the previous one's
 * commit; the writer still commits them in order, each onto the head the
 * previous one left. Any other writer gets one batch at a time.
 */
const MAX_IN_FLIGHT = 2;

interface InFlight {
  events: AuditEvent[];
  /** null when committed, else the error. */
  outcome: Promise<unknown>;
}

// AuditEvent must stay assignable to the store's AuditRecord: this fails to compile otherwise.
const asRecords = (events: AuditEvent[]): readonly AuditRecord[] => events;

/** The AuditSink that spools events and writes them to Postgres in batches. */
export class AuditPipeline implements AuditSink {
  private readonly opts: Required<AuditPipelineOptions>;
  /** The writer of this process's stream; null without a database. */
  private readonly writer: WriterSlot | null;
  private exporting = false;
  private delayTimer: NodeJS.Timeout | null = null;
  private readonly orphanTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly waiters = new FlushWaiters();
  private shutdownPromise: Promise<void> | null = null;
  private stopped = false;
  private readonly health: PipelineHealth;

  constructor(options: AuditPipelineOptions) {
    this.opts = { retryBaseDelayMs: 100, flushTimeoutMs: 30_000, shutdownTimeoutMs: 10_000, stallReportMs: 60_000, orphanScanMs: 60_000, ...options };
    this.health = new PipelineHealth({ baseDelayMs: this.opts.retryBaseDelayMs, maxDelayMs: this.opts.retryMaxDelayMs });
    this.writer = options.writerFactory === null ? null : new WriterSlot(options.writerFactory, options.streamId);
    if (options.writerFactory === null) {
      diag.warn(
        `cvd-activity: no database configured: audit events are kept in the spool ${options.spool.dir} ` +
          'and written to Postgres by the next process of this app that has a database',
      );
    } else {
      if (!options.spool.empty) this.schedule(true); // drain what was recovered from stopped processes
      // A sibling worker that dies and is not replaced leaves events that only a start-up would claim otherwise.
      this.orphanTimer = setInterval(() => this.adoptOrphans(), this.opts.orphanScanMs);
      this.orphanTimer.unref();
    }
  }

  private adoptOrphans(): void {
    try {
      if (this.opts.spool.adoptOrphans() > 0) this.schedule(true);
    } catch (err) {
      diag.error(`cvd-activity: looking for audit spool segments of stopped processes failed: ${(err as Error).message}`);
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
      try {
        if (this.opts.spoolFsync !== 'none') spool.sync();
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    const target = spool.accepted;
    if (spool.committedOwn >= target) return Promise.resolve();
    const flushed = this.waiters.wait(target, timeoutMs, () => new FlushTimeoutError(timeoutMs, target - spool.committedOwn, this.health.lastError));
    this.schedule(true);
    return flushed;
  }

  /** Flushes with the shutdown deadline, then closes; uncommitted events stay in the spool for the next start. Idempotent. */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.doShutdown();
    return this.shutdownPromise;
  }

  /** A snapshot of the pipeline's state. */
  status(): PipelineStatus {
    const database = this.opts.writerFactory === null ? 'none' : this.health.failures > 0 ? 'failing' : this.writer?.current ? 'connected' : 'not-connected';
    return { streamId: this.opts.streamId, database, ...this.health.counters(), shutDown: this.shutdownPromise !== null, spool: this.opts.spool.status() };
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
    if (this.orphanTimer !== null) clearInterval(this.orphanTimer);
    this.clearTimer('delayTimer');
    this.clearTimer('retryTimer');
    this.waiters.releaseAll();
    try {
      spool.close();
    } catch (err) {
      diag.error(`cvd-activity: closing the audit spool failed: ${(err as Error).message}`);
    }
    await this.writer?.close();
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
      setImmediate(() =>
        this.exportLoop(true).catch((err: Error) => {
          this.exporting = false; // unreachable by design; an unhandled rejection would crash the host app
          diag.error(`cvd-activity: audit pipeline export loop failed: ${err.message}`);
        }),
      );
    } else if (this.delayTimer === null) {
      this.delayTimer = setTimeout(() => {
        this.delayTimer = null;
        this.schedule(true);
      }, this.opts.batchDelayMs);
      this.delayTimer.unref();
    }
  }

  private isUrgent(): boolean {
    return this.waiters.pending || this.shutdownPromise !== null;
  }

  private async exportLoop(first: boolean): Promise<void> {
    let urgent = first;
    const inFlight: InFlight[] = [];
    let sent = 0; // events at the head of the spool handed to the writer and not yet committed
    // Set as soon as any batch in flight fails. No batch may be sent after that: the writer would treat
    // it as a fresh start (head read from the database) and commit it ahead of the failed one.
    let failedInFlight = false;
    try {
      while (!this.stopped) {
        // Keep up to MAX_IN_FLIGHT batches going: the writer hashes and COPYs the next while the previous commits.
        while (!failedInFlight && inFlight.length < (this.writer?.current?.overlapsBatches ? MAX_IN_FLIGHT : 1)) {
          let batch: AuditEvent[];
          try {
            batch = this.opts.spool.peek(sent + this.opts.batchSize).slice(sent); // may read spilled events from disk
          } catch (err) {
            if (inFlight.length === 0) {
              this.onFailure(err, 0);
              return;
            }
            break; // retried once the batches in flight are done
          }
          if (batch.length === 0) break;
          if (batch.length < this.opts.batchSize && !urgent && !this.isUrgent()) break; // wait for the delay timer
          const outcome = this.sendBatch(batch, sent);
          void outcome.then((error) => {
            if (error !== null) failedInFlight = true;
          });
          inFlight.push({ events: batch, outcome });
          sent += batch.length;
          urgent = false;
        }
        const oldest = inFlight.shift();
        if (oldest === undefined) break;
        const outcome = await oldest.outcome;
        if (outcome !== null) {
          // The later batches fail too (the writer commits a batch only after the one before it); wait
          // for them before retrying, so no two transactions of this stream ever race.
          await Promise.all(inFlight.map((b) => b.outcome));
          const error = refusedForContent(outcome) ? await this.isolateRefused(oldest.events, outcome) : outcome;
          if (error !== null) {
            this.onFailure(error, oldest.events.length);
            return;
          }
          [inFlight.length, sent, failedInFlight, urgent] = [0, 0, false, true]; // the refused batch is stored: go on
          continue;
        }
        this.committed(oldest.events.length);
        sent -= oldest.events.length;
      }
    } finally {
      this.exporting = false;
    }
    this.schedule(false);
  }

  /** One writeBatch, `offset` events behind the spool's head; resolves null when committed, else with the error. */
  private async sendBatch(batch: AuditEvent[], offset: number): Promise<unknown> {
    // A batch in flight is never abandoned for a new attempt (two transactions would race on the stream's
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
      const writer = await this.writer!.get();
      const pending = context.with(suppressTracing(ROOT_CONTEXT), () => writer.writeBatch(asRecords(batch)));
      this.prepareNext(writer, offset + batch.length); // CPU work for the next batch while this one is in the database
      const result = await pending;
      this.health.duplicatesSkipped += result.duplicates;
      return null;
    } catch (err) {
      return err ?? new Error('audit batch failed');
    } finally {
      clearTimeout(stall);
    }
  }

  /** Splits a batch the database refused for its content until the refused event is found and quarantined. */
  private isolateRefused(events: AuditEvent[], refusal: StoreError): Promise<unknown> {
    return isolateRefused(events, refusal, {
      send: (part) => this.sendBatch(part, 0),
      committed: (count) => this.committed(count),
      writer: () => this.writer!.get(),
      quarantined: (event, why) => this.health.quarantined(event, why),
    });
  }

  /** Counts the oldest batch in flight committed, in the spool and for waiters. */
  private committed(length: number): void {
    this.opts.spool.commit(length);
    this.health.committed();
    this.waiters.settle(this.opts.spool.committedOwn);
  }

  /** Lets the writer do the next batch's per-event work (canonical JSON, HMAC) now; a failure only loses the head start. */
  private prepareNext(writer: AuditWriter, inFlight: number): void {
    if (!writer.prepare) return;
    try {
      const next = this.opts.spool.peek(inFlight + this.opts.batchSize).slice(inFlight);
      if (next.length > 0) writer.prepare(asRecords(next));
    } catch (err) {
      diag.debug(`cvd-activity: preparing the next audit batch failed (it is prepared when sent): ${(err as Error).message}`);
    }
  }

  /** Reports a failed attempt and retries after the backoff. */
  private onFailure(err: unknown, batchLength: number): void {
    const delayMs = this.health.failed(err, batchLength, () => this.opts.spool.status());
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.schedule(true);
    }, delayMs);
    this.retryTimer.unref();
  }

  private clearTimer(name: 'delayTimer' | 'retryTimer'): void {
    const timer = this[name];
    if (timer !== null) clearTimeout(timer);
    this[name] = null;
  }
}
