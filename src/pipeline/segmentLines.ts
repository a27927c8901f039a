/** Reading spool segment files back: byte ranges, complete lines, events. */
import { closeSync, openSync, readSync } from 'node:fs';
import type { AuditEvent } from '../audit/types';

/** Up to `length` bytes of the file from `offset`; shorter when the file is. */
export function readRange(path: string, offset: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  const fd = openSync(path, 'r');
  try {
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** The first (at most `max`) newline-terminated lines of `buf`, without their newlines, and the bytes they span. */
export function splitLines(buf: Buffer, max: number): { lines: Buffer[]; consumed: number } {
  const lines: Buffer[] = [];
  let start = 0;
  while (lines.length < max) {
    const nl = buf.indexOf(10, start);
    if (nl < 0) break;
    lines.push(buf.subarray(start, nl));
    start = nl + 1;
  }
  return { lines, consumed: start };
}

/** The event a spool line holds, or null when the line is not one (torn or corrupt). */
export function parseEventLine(line: Buffer): AuditEvent | null {
  try {
    const event = JSON.parse(line.toString('utf8')) as AuditEvent;
    return typeof event?.eventId === 'string' ? event : null;
  } catch {
    return null;
  }
}
