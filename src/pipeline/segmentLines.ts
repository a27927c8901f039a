/** Spool segment lines: appending one whole line, reading byte ranges, complete lines and events back. */
import { closeSync, fdatasyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import type { AuditEvent } from '../audit/types';

/**
 * Appends `line` (`bytes` long in UTF-8) to the segment open as `fd`, now `size` bytes long, in full, then
 * fdatasyncs when `sync`. On failure cuts the file back to `size` (half a line must not glue onto the next)
 * and rethrows. The string goes to write(2) as it is: no Buffer per line (a short write falls back to one).
 */
export function appendLine(fd: number, line: string, bytes: number, size: number, sync: boolean): void {
  try {
    let written = writeSync(fd, line, null, 'utf8');
    if (written < bytes) {
      const rest = Buffer.from(line, 'utf8');
      while (written < bytes) written += writeSync(fd, rest, written);
    }
    if (sync) fdatasyncSync(fd);
  } catch (err) {
    try {
      ftruncateSync(fd, size);
    } catch {
      /* best effort: recovery skips an unreadable line anyway */
    }
    throw err;
  }
}

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
