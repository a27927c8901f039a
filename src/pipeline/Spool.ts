/**
 * The write-ahead spool: a durable FIFO of audit events on local disk.
 *
 * `append()` writes one JSON line to this process's current segment with a
 * synchronous write() before it returns, so an event it accepted survives the
 * process being killed (the page cache outlives the process; fsync 'always'
 * also survives power loss). The head of the queue is held in memory, at most
 * `maxInMemory` events; when more arrive than that, they stay on disk only and
 * are read back in order (SpillReader) as the head drains, so a long Postgres outage costs
 * disk, not memory. A segment is deleted once every event in it is committed.
 * At open, segments of dead processes on this host are claimed (renamed, an
 * atomic step only one claimant can win) and queued ahead of new events.
 */
import { diag } from '@opentelemetry/api';
import { closeSync, fdatasyncSync, openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent } from '../audit/types';
import type { SpoolOptions, SpoolStatus } from './types';
import { SpoolFullError, SpoolOpenError, SpoolWriteError } from './errors';
import { RefusalReporter } from './RefusalReporter';
import { appendLine, parseEventLine } from './segmentLines';
import { SpillReader } from './SpillReader';
import { claimOrphanSegments, lockName, newInstanceId, openPrivateFolder, segmentName, writeLock } from './spoolFiles';

interface Segment {
  seq: number;
  path: string;
  /** Append fd of the current segment; null once sealed (and for claimed segments). */
  fd: number | null;
  bytes: number;
  events: number;
  sealed: boolean;
  /** Written by this process (false: claimed from a dead one). */
  own: boolean;
  /** Events of this segment read into memory and not yet committed. */
  inMemory: number;
  dirty: boolean;
}

interface Entry {
  event: AuditEvent;
  seg: Segment;
}

/** A durable FIFO queue of audit events on local disk. */
export class Spool {
  readonly instance: string;
  readonly dir: string;
  private readonly maxBytes: number;
  private readonly fsync: SpoolOptions['fsync'];
  private readonly segmentMaxBytes: number;
  private readonly segmentMaxEvents: number;
  private readonly maxInMemory: number;
  private segments: Segment[] = [];
  private queue: Entry[] = [];
  private head = 0;
  /** Where the next event to read into memory starts, while `spilled`. */
  private readonly spill = new SpillReader<Segment>();
  private nextSeq = 0;
  private usedBytes = 0;
  private closed = false;
  private readonly refusals = new RefusalReporter();
  private stats = { accepted: 0, committedOwn: 0, committed: 0, recoveredSegments: 0, skippedLines: 0 };

  /** Opens (creating) the spool folder, takes this process's lock and claims segments of dead processes. */
  constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.fsync = options.fsync;
    this.segmentMaxBytes = options.segmentMaxBytes ?? 4 << 20;
    this.segmentMaxEvents = options.segmentMaxEvents ?? 10_000;
    this.maxInMemory = Math.max(1, options.maxInMemory ?? 10_000);
    this.instance = options.instance ?? newInstanceId();
    try {
      openPrivateFolder(this.dir);
      writeLock(this.dir, this.instance);
      this.claimOrphans();
    } catch (err) {
      throw new SpoolOpenError(this.dir, err);
    }
  }

  /** Events this process appended so far. */
  get accepted(): number {
    return this.stats.accepted;
  }

  /** Events this process appended that are committed. */
  get committedOwn(): number {
    return this.stats.committedOwn;
  }

  /** Number of events held in memory (the first of them are what `peek()` returns). */
  get inMemory(): number {
    return this.queue.length - this.head;
  }

  /** True when events wait on disk beyond those held in memory. */
  get spilled(): boolean {
    return this.spill.active;
  }

  /** True when nothing is waiting, in memory or on disk. */
  get empty(): boolean {
    return this.inMemory === 0 && !this.spill.active;
  }

  /** Appends one event durably (see class doc); throws SpoolFullError / SpoolWriteError when it cannot. */
  append(event: AuditEvent): void {
    if (this.closed) throw new Error(`audit spool ${this.dir} is closed`);
    const line = JSON.stringify(event) + '\n';
    const bytes = Buffer.byteLength(line, 'utf8');
    if (this.usedBytes + bytes > this.maxBytes) throw this.refusals.refused(new SpoolFullError(this.dir, this.usedBytes, this.maxBytes));
    const seg = this.writableSegment();
    try {
      appendLine(seg.fd!, line, bytes, seg.bytes, this.fsync === 'always');
    } catch (err) {
      throw this.refusals.refused(new SpoolWriteError(seg.path, err));
    }
    const offset = seg.bytes;
    seg.bytes += bytes;
    seg.events += 1;
    seg.dirty = true;
    this.usedBytes += bytes;
    this.stats.accepted += 1;
    if (!this.spill.active && this.inMemory < this.maxInMemory) {
      this.queue.push({ event, seg });
      seg.inMemory += 1;
    } else {
      this.spill.startAt(seg, offset); // from here on, events wait on disk
    }
  }

  /** The first `n` waiting events, in order (reading spilled ones back from disk). */
  peek(n: number): AuditEvent[] {
    if (this.spill.active && this.inMemory < Math.min(n, this.maxInMemory)) this.refill();
    const end = Math.min(this.queue.length, this.head + n);
    const out: AuditEvent[] = [];
    for (let i = this.head; i < end; i++) out.push(this.queue[i]!.event);
    return out;
  }

  /** Marks the first `n` events (as returned by `peek`) committed; deletes segments left with nothing to commit. */
  commit(n: number): void {
    if (this.closed) return;
    const end = Math.min(this.queue.length, this.head + n);
    for (let i = this.head; i < end; i++) {
      const { seg } = this.queue[i]!;
      seg.inMemory -= 1;
      if (seg.own) this.stats.committedOwn += 1;
      this.stats.committed += 1;
    }
    this.head = end;
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.spill.active && this.inMemory < this.maxInMemory / 2) this.refill();
    const current = this.segments[this.segments.length - 1];
    if (this.empty && current && !current.sealed && current.events > 0) this.seal(current);
    this.deleteCommittedSegments();
  }

  /** fsyncs unsynced appends ('batch' mode calls it before each batch is sent). */
  sync(): void {
    for (const seg of this.segments) {
      if (seg.fd !== null && seg.dirty) {
        fdatasyncSync(seg.fd);
        seg.dirty = false;
      }
    }
  }

  /** A snapshot for status(). */
  status(): SpoolStatus {
    return {
      instance: this.instance,
      dir: this.dir,
      segments: this.segments.length,
      usedBytes: this.usedBytes,
      maxBytes: this.maxBytes,
      inMemory: this.inMemory,
      spilled: this.spill.active,
      accepted: this.stats.accepted,
      committed: this.stats.committed,
      recoveredSegments: this.stats.recoveredSegments,
      skippedLines: this.stats.skippedLines,
      refusedFull: this.refusals.refusedFull,
    };
  }

  /** Closes the segments and drops the lock: what is left uncommitted is recovered by the next process to start. */
  close(): void {
    if (this.closed) return;
    const current = this.segments[this.segments.length - 1];
    if (this.empty && current && !current.sealed) this.seal(current);
    this.deleteCommittedSegments();
    for (const seg of this.segments) if (!seg.sealed) this.seal(seg);
    this.closed = true;
    try {
      unlinkSync(join(this.dir, lockName(this.instance)));
    } catch (err) {
      diag.warn(`cvd-activity: cannot remove spool lock ${this.instance}: ${(err as Error).message}`);
    }
  }

  private writableSegment(): Segment {
    let seg = this.segments[this.segments.length - 1];
    if (seg && !seg.sealed && (seg.bytes >= this.segmentMaxBytes || seg.events >= this.segmentMaxEvents)) {
      this.seal(seg);
      this.deleteCommittedSegments();
    }
    seg = this.segments[this.segments.length - 1];
    if (seg && !seg.sealed) return seg;
    const seq = this.nextSeq++;
    const path = join(this.dir, segmentName(this.instance, seq));
    const fd = openSync(path, 'a', 0o600);
    const created: Segment = { seq, path, fd, bytes: 0, events: 0, sealed: false, own: true, inMemory: 0, dirty: false };
    this.segments.push(created);
    return created;
  }

  private seal(seg: Segment): void {
    if (seg.fd !== null) {
      try {
        if (seg.dirty && this.fsync !== 'none') fdatasyncSync(seg.fd);
        closeSync(seg.fd);
      } catch (err) {
        diag.error(`cvd-activity: closing audit spool segment ${seg.path} failed: ${(err as Error).message}`);
      }
      seg.fd = null;
    }
    seg.sealed = true;
  }

  private deleteCommittedSegments(): void {
    while (this.segments.length > 0) {
      const seg = this.segments[0]!;
      // Segments before the read cursor are fully read; the cursor's own segment is not.
      if (!seg.sealed || seg.inMemory > 0 || this.spill.segment === seg) return;
      try {
        unlinkSync(seg.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          diag.error(`cvd-activity: cannot delete committed audit spool segment ${seg.path}: ${(err as Error).message}`);
          return;
        }
      }
      this.usedBytes -= seg.bytes;
      this.segments.shift();
    }
  }

  /**
   * Claims segments of processes on this host that died since (a sibling worker killed and not
   * replaced) and queues them after what is waiting now. Returns how many were claimed.
   */
  adoptOrphans(): number {
    if (this.closed) return 0;
    const current = this.segments[this.segments.length - 1];
    const claimed = this.claimOrphans();
    // The claimed segments now follow the current one; sealing it sends new appends after them.
    if (claimed > 0 && current && !current.sealed) this.seal(current);
    return claimed;
  }

  /** Queues the segments of dead processes on this host (claimed by rename) after this process's. */
  private claimOrphans(): number {
    const added: Segment[] = [];
    for (const claimed of claimOrphanSegments(this.dir, this.instance, this.nextSeq)) {
      const seq = this.nextSeq++;
      added.push({ seq, path: claimed.path, fd: null, bytes: claimed.bytes, events: 0, sealed: true, own: false, inMemory: 0, dirty: false });
      this.usedBytes += claimed.bytes;
      this.stats.recoveredSegments += 1;
    }
    if (added.length === 0) return 0;
    this.segments.push(...added);
    this.spill.startAt(added[0]!, 0); // waiting events in memory come first, then these
    diag.info(`cvd-activity: recovered ${added.length} audit spool segment(s) of stopped processes in ${this.dir}`);
    return added.length;
  }

  /** Reads spilled events back from disk, in order, until memory holds `maxInMemory`. */
  private refill(): void {
    const next = (seg: Segment) => this.segments[this.segments.indexOf(seg) + 1];
    this.usedBytes -= this.spill.read(this.maxInMemory - this.inMemory, next, (line, seg, torn) => this.acceptLine(line, seg, torn));
  }

  private acceptLine(line: string, seg: Segment, torn: boolean): boolean {
    const event = parseEventLine(line);
    if (event) {
      this.queue.push({ event, seg });
      seg.inMemory += 1;
      if (!seg.own) seg.events += 1; // own segments counted their events when appending
      return true;
    }
    this.stats.skippedLines += 1;
    diag.warn(
      `cvd-activity: skipped ${torn ? 'a torn last line' : 'an unreadable line'} (${Buffer.byteLength(line)} bytes) in audit spool segment ${seg.path}` +
        (torn ? ': its writer died mid-write, before record() returned' : ''),
    );
    return false;
  }
}
