/**
 * An AuditSink that keeps events in memory: for tests, demos and benchmarks.
 * Not for production: nothing survives the process.
 */
import type { AuditEvent, AuditSink } from './types';

/** Options of a MemoryAuditSink. */
export interface MemoryAuditSinkOptions {
  /** Keep at most this many events (oldest dropped first); default: unbounded. */
  maxEvents?: number;
}

/** Collects enqueued events in an array. */
export class MemoryAuditSink implements AuditSink {
  /** Events in enqueue order. */
  readonly events: AuditEvent[] = [];
  private readonly maxEvents: number;
  private stopped = false;

  constructor(options: MemoryAuditSinkOptions = {}) {
    this.maxEvents = options.maxEvents ?? Infinity;
  }

  /** Stores the event (the recorder builds a fresh object per event and never touches it again). */
  enqueue(event: AuditEvent): void {
    if (this.stopped) throw new Error('MemoryAuditSink: enqueue after shutdown');
    this.events.push(event);
    if (this.events.length > this.maxEvents) this.events.shift();
  }

  /** Events of one action. */
  byAction(action: string): AuditEvent[] {
    return this.events.filter((e) => e.action === action);
  }

  /** Forgets every event. */
  clear(): void {
    this.events.length = 0;
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.stopped = true;
    return Promise.resolve();
  }
}
