/**
 * Erasure of one person's personal data in events still waiting in the spool
 * (a GDPR erasure must reach them too: they are written to Postgres later).
 * Loads only node: modules (the CLI uses it without OpenTelemetry).
 *
 * The owning process may be reading a segment while we change it, and holds
 * byte offsets into it, so nothing moves: each personal string value is
 * overwritten in place with one positional write, byte for byte the same
 * length, so that any mix of old and new bytes a concurrent read could see is
 * still a valid line. Plain characters (every byte of a multi-byte one too)
 * become spaces; an escape `\X` becomes `\\`, a `\uXXXX` becomes `\u0020`:
 * the backslash stays, so a torn read still sees a valid escape.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent } from '../audit/types';
import { instanceState, listSegments } from './spoolFiles';

/** What `eraseSpooledPersonalData()` changed. */
export interface SpoolErasureResult {
  /** Segment files rewritten. */
  files: number;
  /** Waiting events whose personal data was blanked. */
  events: number;
  /**
   * Of those, events in segments of running processes: such a process may
   * already hold the event in memory and write it with its personal data,
   * so the erasure in the trail has to run again once it is committed.
   */
  eventsOfRunningProcesses: number;
}

/** True when `userId` performed the event or is its subject (the same rule as the store's dataSubjectCondition). */
export function isDataSubjectOf(event: AuditEvent, userId: string): boolean {
  return event.actor?.id === userId
    || (event.resourceType === 'user' && event.resourceId === userId)
    || (event.details as Record<string, unknown> | undefined)?.target_user_id === userId;
}

/** Blanks the personal values of `userId`'s waiting events in every segment of the spool folder `dir`. */
export function eraseSpooledPersonalData(options: { dir: string; userId: string }): SpoolErasureResult {
  const result: SpoolErasureResult = { files: 0, events: 0, eventsOfRunningProcesses: 0 };
  let segments;
  try {
    segments = listSegments(options.dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return result; // no spool on this host: nothing waits
    throw err;
  }
  for (const seg of segments) {
    const path = join(options.dir, seg.name);
    const erased = eraseInSegment(path, options.userId);
    if (erased === 0) continue;
    result.files += 1;
    result.events += erased;
    if (instanceState(options.dir, seg.instance) !== 'dead') result.eventsOfRunningProcesses += erased;
  }
  return result;
}

/** Blanks the user's personal values in one segment; returns how many events changed. */
function eraseInSegment(path: string, userId: string): number {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0; // committed and deleted meanwhile
    throw err;
  }
  const changes: Array<{ offset: number; bytes: Buffer }> = [];
  let start = 0;
  // Only newline-terminated lines: a torn last line is being written, or is skipped at recovery.
  for (let nl = data.indexOf(10, start); nl !== -1; start = nl + 1, nl = data.indexOf(10, start)) {
    const line = data.subarray(start, nl);
    const change = blankedPersonal(line, userId);
    if (change) changes.push({ offset: start + change.offset, bytes: change.bytes });
  }
  if (changes.length === 0) return 0;
  const fd = openSync(path, 'r+');
  try {
    for (const c of changes) writeSync(fd, c.bytes, 0, c.bytes.length, c.offset);
  } finally {
    closeSync(fd);
  }
  return changes.length;
}

/** The `"personal":{…}` part of a line with its values blanked, and where it starts; null when there is nothing to erase. */
function blankedPersonal(line: Buffer, userId: string): { offset: number; bytes: Buffer } | null {
  let event: AuditEvent;
  try {
    event = JSON.parse(line.toString('utf8')) as AuditEvent;
  } catch {
    return null; // unreadable: recovery skips it
  }
  if (!event || typeof event !== 'object' || !isDataSubjectOf(event, userId) || !hasPersonalValue(event)) return null;
  // The spool wrote JSON.stringify(event): its personal object appears exactly so in the line.
  const marker = Buffer.from(`"personal":${JSON.stringify(event.personal)}`, 'utf8');
  const at = line.indexOf(marker);
  if (at === -1) return null;
  return { offset: at, bytes: blankStringValues(marker) };
}

function hasPersonalValue(event: AuditEvent): boolean {
  const p = event.personal;
  if (!p) return false;
  const blank = (v: unknown) => typeof v !== 'string' || v.trim() === '';
  return !blank(p.clientAddress) || !blank(p.userAgent) || Object.values(p.fields ?? {}).some((v) => !blank(v));
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = 0x20;
const COLON = 0x3a;

/** JSON text with every string value (not key) blanked as the file comment says; same length. */
export function blankStringValues(json: Buffer): Buffer {
  const out = Buffer.from(json);
  let i = 0;
  while (i < out.length) {
    if (out[i] !== QUOTE) {
      i += 1;
      continue;
    }
    const end = stringEnd(out, i);
    let next = end + 1;
    while (next < out.length && out[next] === SPACE) next += 1;
    if (out[next] !== COLON) blankString(out, i + 1, end);
    i = end + 1;
  }
  return out;
}

/** Index of the quote closing the string opened at `open`. */
function stringEnd(b: Buffer, open: number): number {
  let i = open + 1;
  while (i < b.length && b[i] !== QUOTE) i += b[i] === BACKSLASH ? 2 : 1;
  return i;
}

function blankString(b: Buffer, from: number, to: number): void {
  let i = from;
  while (i < to) {
    if (b[i] === BACKSLASH) {
      if (b[i + 1] === 0x75 /* u */) {
        b.write('0020', i + 2, 'latin1');
        i += 6;
      } else {
        b[i + 1] = BACKSLASH;
        i += 2;
      }
    } else {
      b[i] = SPACE;
      i += 1;
    }
  }
}
