/**
 * Reads spilled spool events back from disk, in order: the events appended
 * while the spool's memory window was full, and the segments claimed from
 * stopped processes. Holds the read position (segment and byte offset);
 * hands back whole lines, a chunk of the file at a time.
 */
import { diag } from '@opentelemetry/api';
import { lineEnds, readRange } from './segmentLines';

/** What the reader needs of a spool segment. */
export interface SpilledSegment {
  readonly path: string;
  /** Bytes the spool believes the file holds; lowered when the file turns out shorter. */
  bytes: number;
}

/**
 * Takes a line read back; `torn` when it is the unterminated end of a segment (its writer died mid-write).
 * Returns whether it kept the line (an unreadable one is skipped and takes no room).
 */
export type LineSink<S> = (line: string, seg: S, torn: boolean) => boolean;

/** The read position of the events waiting on disk only. */
export class SpillReader<S extends SpilledSegment> {
  private at: { seg: S; offset: number } | null = null;

  /** `chunkBytes`: bytes read at once; doubled whenever one line is longer. */
  constructor(private chunkBytes = 1 << 20) {}

  /** True while events wait on disk beyond those in memory. */
  get active(): boolean {
    return this.at !== null;
  }

  /** The segment being read (it cannot be deleted yet); null when not reading. */
  get segment(): S | null {
    return this.at?.seg ?? null;
  }

  /** Starts reading at `offset` of `seg`, unless a read position is already held (what is before it comes first). */
  startAt(seg: S, offset: number): void {
    this.at ??= { seg, offset };
  }

  /**
   * Passes up to `room` waiting lines to `sink`, in order, moving to `next(seg)` at the end of a segment
   * (none: caught up with the write head). Returns the bytes that vanished from files (to un-count).
   */
  read(room: number, next: (seg: S) => S | undefined, sink: LineSink<S>): number {
    let lost = 0;
    let left = room;
    while (this.at !== null && left > 0) {
      const at = this.at;
      if (at.offset < at.seg.bytes) {
        const got = this.readChunk(at, left, sink);
        left -= got.lines;
        lost += got.lost;
        continue;
      }
      const following = next(at.seg);
      this.at = following ? { seg: following, offset: 0 } : null;
    }
    return lost;
  }

  private readChunk(at: { seg: S; offset: number }, room: number, sink: LineSink<S>): { lines: number; lost: number } {
    const { seg } = at;
    const wanted = Math.min(seg.bytes - at.offset, this.chunkBytes);
    let buf: Buffer;
    try {
      buf = readRange(seg.path, at.offset, wanted);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // EIO and the like: the pipeline retries
      // Removed behind our back (not by us): what it held is gone; say so and go on with the rest.
      diag.error(
        `cvd-activity: audit spool segment ${seg.path} was deleted by something other than the pipeline: ` +
          `${seg.bytes - at.offset} bytes of uncommitted audit events in it are lost`,
      );
      buf = Buffer.alloc(0);
    }
    let lost = 0;
    if (buf.length < wanted) {
      // The file is shorter than we thought: account for the bytes that are not there.
      lost = seg.bytes - (at.offset + buf.length);
      seg.bytes = at.offset + buf.length;
    }
    const { count, consumed } = lineEnds(buf, room);
    let lines = 0;
    if (count > 0) {
      // One UTF-8 decode for the whole run of lines, not a Buffer and a decode per line:
      // a newline byte never occurs inside a multi-byte character, so the split is the same.
      for (const line of buf.toString('utf8', 0, consumed - 1).split('\n')) if (sink(line, seg, false)) lines += 1;
    }
    let used = consumed;
    if (consumed === 0) {
      if (at.offset + buf.length < seg.bytes) {
        this.chunkBytes *= 2; // one line longer than the chunk: read more at once
        return { lines, lost };
      }
      // The segment ends without a newline: its writer died mid-line (a torn write).
      if (buf.length > 0 && sink(buf.toString('utf8'), seg, true)) lines = 1;
      used = buf.length;
    }
    at.offset += used;
    return { lines, lost };
  }
}
