/**
 * Counts failed logins per key (a username, a client address) over a sliding
 * window, in bounded memory: a fixed ring of time buckets per key, and a cap
 * on keys (least recently failed evicted first), so a brute-force run from
 * many addresses cannot grow it without limit. Keys are held as a fixed-size
 * digest, never as given: a caller-chosen user name of any length costs the
 * same few hundred bytes, so the bound holds in bytes, not only in keys.
 */
import { createHash } from 'node:crypto';

/** Buckets per window: counts are exact to 1/BUCKETS of the window at its far edge. */
const BUCKETS = 30;

interface Ring {
  slots: Float64Array; // bucket number held by each slot
  counts: Uint32Array;
}

/** Options of a LoginFailureCounter. */
export interface LoginFailureCounterOptions {
  /** Sliding window (ms). */
  windowMs: number;
  /** Most keys tracked at once (each costs about 0.5 KB, whatever its length). */
  maxKeys?: number;
  /** Clock (ms), replaceable in tests. */
  now?: () => number;
}

/** Sliding-window failure counts per key. */
export class LoginFailureCounter {
  private readonly rings = new Map<string, Ring>();
  private readonly bucketMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(options: LoginFailureCounterOptions) {
    this.bucketMs = Math.max(1, options.windowMs / BUCKETS);
    this.maxKeys = options.maxKeys ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Adds one failure for `key` and returns the failures within the window, this one included. */
  hit(name: string): number {
    const key = createHash('sha256').update(name).digest('base64');
    const bucket = Math.floor(this.now() / this.bucketMs);
    let ring = this.rings.get(key);
    if (ring) {
      this.rings.delete(key); // re-insert: Map order is our least-recently-failed order
    } else {
      ring = { slots: new Float64Array(BUCKETS).fill(-1), counts: new Uint32Array(BUCKETS) };
      if (this.rings.size >= this.maxKeys) this.rings.delete(this.rings.keys().next().value as string);
    }
    this.rings.set(key, ring);
    const i = bucket % BUCKETS;
    if (ring.slots[i] !== bucket) {
      ring.slots[i] = bucket;
      ring.counts[i] = 0;
    }
    ring.counts[i]++;
    let total = 0;
    for (let j = 0; j < BUCKETS; j++) if (ring.slots[j] > bucket - BUCKETS) total += ring.counts[j];
    return total;
  }

  /** Keys tracked now (for tests of the bound). */
  get size(): number {
    return this.rings.size;
  }
}
