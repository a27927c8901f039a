/**
 * Names and ownership of spool files. Loads only node: modules (the CLI's
 * `spool status` uses it without OpenTelemetry).
 *
 * Every process that spools is an *instance*, `<host>_<pid>_<random>`. It owns
 * `<instance>.lock` (JSON: host, pid, process start time) and its segments
 * `<instance>_<seq>.seg`. An instance is dead when its lock file is missing, or
 * names this host and a pid that no longer runs (or runs but started at another
 * time: the pid was reused). Segments of dead instances are orphans that the
 * next process to start claims by renaming them to its own name. Files are
 * created 0600 in a folder of mode 0700: segments hold personal data in clear.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';

/** Contents of `<instance>.lock`. */
export interface SpoolLock {
  host: string;
  pid: number;
  /** Start time of the process in clock ticks since boot (Linux), to detect pid reuse; null elsewhere. */
  startTime: string | null;
  createdAt: string;
}

/** One segment file, as found in the spool folder. */
export interface SegmentFile {
  name: string;
  instance: string;
  seq: number;
}

const SEGMENT_RE = /^([A-Za-z0-9.-]+_\d+_[0-9a-f]+)_(\d+)\.seg$/;
const LOCK_RE = /^([A-Za-z0-9.-]+_\d+_[0-9a-f]+)\.lock$/;

/** This host's name, reduced to the characters file names and instance ids allow. */
export function safeHostname(): string {
  return hostname().replace(/[^A-Za-z0-9.-]/g, '-') || 'host';
}

/** A fresh instance id for this process: `<host>_<pid>_<random>`. */
export function newInstanceId(): string {
  return `${safeHostname()}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** File name of segment `seq` of `instance`; the zero padding keeps names sorted by seq. */
export function segmentName(instance: string, seq: number): string {
  return `${instance}_${String(seq).padStart(8, '0')}.seg`;
}

/**
 * Creates the spool folder 0700 (its parents as usual), tightens one of ours
 * that others may read, and refuses one that others may write to: they could
 * plant segments that this process would store as chained audit events.
 */
export function openPrivateFolder(dir: string): void {
  mkdirSync(dirname(dir), { recursive: true });
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = statSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a folder`);
  if ((st.mode & 0o022) !== 0) {
    throw new Error(`${dir} is writable by other users (mode ${(st.mode & 0o777).toString(8)}); allowed: a folder only its owner can write to (chmod 700)`);
  }
  if ((st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) chmodSync(dir, 0o700);
}

/** File name of the lock of `instance`. */
export function lockName(instance: string): string {
  return `${instance}.lock`;
}

/** Parses a segment file name; null for anything else. */
export function parseSegmentName(name: string): SegmentFile | null {
  const m = SEGMENT_RE.exec(name);
  return m ? { name, instance: m[1]!, seq: Number(m[2]) } : null;
}

/** Segment files of the folder, sorted by instance then seq. */
export function listSegments(dir: string): SegmentFile[] {
  const found: SegmentFile[] = [];
  for (const name of readdirSync(dir)) {
    const seg = parseSegmentName(name);
    if (seg) found.push(seg);
  }
  return found.sort((a, b) => (a.instance === b.instance ? a.seq - b.seq : a.instance < b.instance ? -1 : 1));
}

/** Instance ids that hold a lock file in the folder. */
export function listLocks(dir: string): string[] {
  return readdirSync(dir)
    .map((name) => LOCK_RE.exec(name)?.[1])
    .filter((id): id is string => id !== undefined);
}

/** Start time of a process (field 22 of /proc/<pid>/stat), or null where /proc is absent. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Writes this process's lock atomically (temp file + rename), so a reader never sees half of it. */
export function writeLock(dir: string, instance: string): void {
  const lock: SpoolLock = {
    host: safeHostname(),
    pid: process.pid,
    startTime: processStartTime(process.pid),
    createdAt: new Date().toISOString(),
  };
  const tmp = join(dir, `.${instance}.lock.tmp`);
  writeFileSync(tmp, JSON.stringify(lock), { mode: 0o600 });
  renameSync(tmp, join(dir, lockName(instance)));
}

/** Reads a lock; null when it is missing or unreadable. */
export function readLock(dir: string, instance: string): SpoolLock | null {
  try {
    return JSON.parse(readFileSync(join(dir, lockName(instance)), 'utf8')) as SpoolLock;
  } catch {
    return null;
  }
}

/** Liveness of an instance's owner, as `spool status` and recovery see it. */
export type InstanceState = 'live' | 'dead' | 'other-host';

/** Whether the process that owns `instance` still runs. Another host's processes are never judged dead. */
export function instanceState(dir: string, instance: string): InstanceState {
  const lock = readLock(dir, instance);
  if (!lock) return stateWithoutLock(instance);
  if (lock.host !== safeHostname()) return 'other-host';
  if (!pidAlive(lock.pid)) return 'dead';
  const now = processStartTime(lock.pid);
  if (lock.startTime !== null && now !== null && now !== lock.startTime) return 'dead';
  return 'live';
}

/**
 * An instance whose lock is gone closed (leaving uncommitted events) or died
 * before writing it: its segments are claimed only when the host in its id is
 * this one. A planted segment named for another host is never claimed.
 */
function stateWithoutLock(instance: string): InstanceState {
  return /^(.+)_\d+_[0-9a-f]+$/.exec(instance)?.[1] === safeHostname() ? 'dead' : 'other-host';
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims every segment of dead instances on this host for `instance`, oldest
 * first, by renaming it to `<instance>_<seq>.seg` with seq counting up from
 * `firstSeq` (rename is atomic: of two processes claiming at once, exactly one
 * wins each segment). Then removes the dead instances' locks. Returns the claimed files.
 */
export function claimOrphanSegments(dir: string, instance: string, firstSeq: number): { path: string; bytes: number }[] {
  const states = new Map<string, InstanceState>();
  const claimed: { path: string; bytes: number }[] = [];
  for (const file of listSegments(dir)) {
    if (file.instance === instance) continue;
    let state = states.get(file.instance);
    if (state === undefined) states.set(file.instance, (state = instanceState(dir, file.instance)));
    if (state !== 'dead') continue;
    const path = join(dir, segmentName(instance, firstSeq + claimed.length));
    try {
      renameSync(join(dir, file.name), path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // another process claimed it first
      throw err;
    }
    claimed.push({ path, bytes: statSync(path).size });
  }
  for (const [dead, state] of states) {
    if (state !== 'dead') continue;
    try {
      unlinkSync(join(dir, lockName(dead)));
    } catch {
      /* already gone */
    }
  }
  return claimed;
}
