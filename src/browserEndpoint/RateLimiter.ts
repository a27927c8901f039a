/**
 * Requests per client address: a token bucket per address, in a map of
 * bounded size (the least recently seen addresses go first), so a flood of
 * spoofed or rotating addresses costs bounded memory.
 */

/** Options of `RateLimiter`. */
export interface RateLimiterOptions {
  /** Requests per minute one address may send on average (default 120). */
  perMinute?: number;
  /** Requests one address may send at once (default 30). */
  burst?: number;
  /** Addresses remembered (default 10,000). */
  maxClients?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly burst: number;
  private readonly maxClients: number;

  constructor(options: RateLimiterOptions = {}) {
    this.perMs = (options.perMinute ?? 120) / 60_000;
    this.burst = options.burst ?? 30;
    this.maxClients = options.maxClients ?? 10_000;
  }

  /** Takes one token for `client`; false when its bucket is empty. */
  allow(client: string, now = Date.now()): boolean {
    const bucket = this.buckets.get(client);
    const tokens = bucket ? Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.perMs) : this.burst;
    // Re-insert so the map's order is least recently seen first.
    this.buckets.delete(client);
    if (this.buckets.size >= this.maxClients) this.buckets.delete(this.buckets.keys().next().value as string);
    const allowed = tokens >= 1;
    this.buckets.set(client, { tokens: allowed ? tokens - 1 : tokens, at: now });
    return allowed;
  }
}
