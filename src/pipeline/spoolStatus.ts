/**
 * What is waiting in a spool folder, per process: for `cvd-activity spool
 * status` and health checks. Reads files only (no locks taken, nothing
 * changed) and loads no OpenTelemetry, so the CLI starts fast.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { instanceState, listLocks, listSegments } from './spoolFiles';
import type { InstanceState } from './spoolFiles';

/** One process's share of the spool. */
export interface SpoolInstanceStatus {
  instance: string;
  /** live: its process runs; dead: its segments are recovered by the next process to start; other-host: not judged. */
  state: InstanceState;
  segments: number;
  bytes: number;
  /** Complete lines (events) in its segments; they include already-committed events of a partly committed segment. */
  events: number;
  /** Modification time of its oldest segment (ISO), null when it has none. */
  oldest: string | null;
}

/** The whole folder. */
export interface SpoolFolderStatus {
  dir: string;
  exists: boolean;
  instances: SpoolInstanceStatus[];
  totalBytes: number;
  totalEvents: number;
}

/** Reads the spool folder's segments and locks. */
export function readSpoolStatus(dir: string): SpoolFolderStatus {
  if (!existsSync(dir)) return { dir, exists: false, instances: [], totalBytes: 0, totalEvents: 0 };
  const byInstance = new Map<string, SpoolInstanceStatus>();
  const get = (instance: string) => {
    let s = byInstance.get(instance);
    if (!s) byInstance.set(instance, (s = { instance, state: instanceState(dir, instance), segments: 0, bytes: 0, events: 0, oldest: null }));
    return s;
  };
  for (const lock of listLocks(dir)) get(lock);
  for (const seg of listSegments(dir)) {
    const path = join(dir, seg.name);
    let st;
    try {
      st = statSync(path);
    } catch {
      continue; // deleted (committed) or claimed while we looked
    }
    const s = get(seg.instance);
    s.segments += 1;
    s.bytes += st.size;
    s.events += countLines(path);
    const mtime = st.mtime.toISOString();
    if (s.oldest === null || mtime < s.oldest) s.oldest = mtime;
  }
  const instances = [...byInstance.values()];
  return {
    dir,
    exists: true,
    instances,
    totalBytes: instances.reduce((n, s) => n + s.bytes, 0),
    totalEvents: instances.reduce((n, s) => n + s.events, 0),
  };
}

function countLines(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return 0;
  }
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let lines = 0;
    for (let pos = 0; ; ) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) return lines;
      for (let i = buf.indexOf(10, 0); i >= 0 && i < n; i = buf.indexOf(10, i + 1)) lines += 1;
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}
