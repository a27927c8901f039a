/** Parses `--since` / `--until` values: a duration back from now (`90s`, `15m`, `2h`, `7d`) or an ISO 8601 instant. */
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The instant a `--since`-style value names, relative to `now`; throws naming the flag and what is allowed. */
export function parseInstant(flag: string, value: string, now: Date = new Date()): Date {
  const m = /^(\d+)([smhd])$/.exec(value.trim());
  if (m) return new Date(now.getTime() - Number(m[1]) * UNIT_MS[m[2]!]!);
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new Error(`${flag} ${JSON.stringify(value)} is not a duration (e.g. 90s, 15m, 2h, 7d) or an ISO 8601 time (e.g. 2026-01-31T12:00:00Z)`);
}
