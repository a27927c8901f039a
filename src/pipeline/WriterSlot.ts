/**
 * The pipeline's one writer (one hash-chain stream per process): opened on
 * first use, outside any trace (its database traffic creates no spans),
 * shared by the batches in flight, closed once with a deadline.
 */
import { ROOT_CONTEXT, context, diag } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { AuditWriter } from '../store/types';
import type { AuditWriterFactory } from './types';

/** Longest close() waits for the writer's connections to end. */
const CLOSE_DEADLINE_MS = 2_000;

/** Holds the writer of one stream. */
export class WriterSlot {
  /** The open writer; null before the first batch, after a failed open and after close(). */
  current: AuditWriter | null = null;
  private opening: Promise<AuditWriter> | null = null;
  private closed = false;

  constructor(
    private readonly factory: AuditWriterFactory,
    private readonly streamId: string,
  ) {}

  /** The open writer, opening it if needed; two batches starting at once share one opening. */
  get(): Promise<AuditWriter> {
    if (this.current) return Promise.resolve(this.current);
    this.opening ??= this.open().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  /** Closes the writer (if open); later get() calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    const writer = this.current;
    this.current = null;
    if (writer) {
      await withDeadline(writer.close(), CLOSE_DEADLINE_MS).catch((err: Error) =>
        diag.warn(`cvd-activity: closing the audit writer failed: ${err.message}`),
      );
    }
  }

  private async open(): Promise<AuditWriter> {
    const writer = await context.with(suppressTracing(ROOT_CONTEXT), () => Promise.resolve(this.factory({
      streamId: this.streamId,
      runQuietly: quietly,
      onBackgroundError: (err) => diag.error(`cvd-activity: an idle Postgres connection of the audit writer failed (the next batch opens a new one): ${err.message}`),
    })));
    if (this.closed) {
      await writer.close().catch(() => undefined);
      throw new Error('audit pipeline shut down while connecting');
    }
    this.current = writer;
    return writer;
  }
}

/** Runs database work outside any trace: the writer's own traffic must create no spans. */
function quietly<T>(work: () => Promise<T>): Promise<T> {
  return context.with(suppressTracing(context.active()), work);
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
