/** Parsing and checking of CLI option values shared by commands. */
import { Option } from 'commander';
import { usageError } from '../CliError';

const DURATION = /^(\d+)\s*(m|min|h|d|w)$/i;
const UNIT_MS: Record<string, number> = { m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** An ISO 8601 date/time, `now`, or a duration ago (`30m`, `24h`, `7d`, `2w`). */
export function parseTime(flag: string, value: string, now = Date.now()): Date {
  if (value === 'now') return new Date(now);
  const d = DURATION.exec(value.trim());
  if (d) return new Date(now - Number(d[1]) * UNIT_MS[d[2]!.toLowerCase()]!);
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return new Date(t);
  }
  throw usageError(flag, value, 'use an ISO 8601 date or time (2026-11-25, 2026-11-25T10:00Z), `now`, or a duration ago (30m, 24h, 7d, 2w)');
}

/** A whole number from `min` to `max`. */
export function parseIntIn(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw usageError(flag, value, `use a whole number from ${min} to ${max}`);
  return n;
}

/** One of the allowed words. */
export function parseChoice<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw usageError(flag, value, `use one of: ${allowed.join(', ')}`);
  return value as T;
}

/** The `--format` option every command that prints results has: `table` for people, the others for machines. */
export function formatOption<T extends string>(choices: readonly T[], description: string): Option {
  return new Option('--format <format>', description).choices(choices).default(choices[0]);
}
