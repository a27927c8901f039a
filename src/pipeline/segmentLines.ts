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

/** How many (at most `max`) newline-terminated lines `buf` starts with, and the bytes they span (newlines included). */
export function lineEnds(buf: Buffer, max: number): { count: number; consumed: number } {
  let count = 0;
  let start = 0;
  while (count < max) {
    const nl = buf.indexOf(10, start);
    if (nl < 0) break;
    count += 1;
    start = nl + 1;
  }
  return { count, consumed: start };
}

/** The event a spool line holds, or null when the line is not one (torn or corrupt). */
export function parseEventLine(line: string): AuditEvent | null {
  try {
    const event = JSON.parse(line) as AuditEvent;
    return typeof event?.eventId === 'string' ? event : null;
  } catch {
    return null;
  }
}
