/**
 * Masks values whose field names look secret, at any depth of details, old
 * and new values, before an event leaves `record()`. Matching ignores case
 * and separators: `apiKey`, `api_key` and `API-Key` all match "api key".
 * Values that are credentials by their form (`Bearer …`, a JWT) are masked
 * under any name.
 */
import { setOwn } from './normalize';

/** What a redacted value becomes. */
export const REDACTED = 'REDACTED';

/** Credentials recognisable by their value whatever the field's name: HTTP auth schemes and JWTs. */
const CREDENTIAL_VALUE = /^\s*(?:bearer|basic|digest)\s+\S|^eyJ[\w-]{4,}\.eyJ[\w-]{4,}\./i;

/** Longest field name whose decision is remembered. */
const MAX_CACHED_NAME = 128;

/** Lower-case letters and digits only: the form names are compared in. */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Decides, once per distinct key, whether a field name is secret. */
export class Redactor {
  private readonly patterns: string[];
  // Keys repeat across events; remember decisions (bounded, so hostile keys cannot grow it forever).
  private readonly decisions = new Map<string, boolean>();

  /** `fields`: names or name fragments, e.g. `password`, `card number`, `api key`. */
  constructor(fields: readonly string[]) {
    this.patterns = fields.map(canonicalName).filter((p) => p.length > 0);
  }

  /** True when `name` contains one of the configured fragments. */
  isSecret(name: string): boolean {
    let decision = this.decisions.get(name);
    if (decision === undefined) {
      const canonical = canonicalName(name);
      decision = this.patterns.some((p) => canonical.includes(p));
      if (name.length > MAX_CACHED_NAME) return decision; // caching long names would bound keys, not bytes
      if (this.decisions.size >= 10_000) this.decisions.clear();
      this.decisions.set(name, decision);
    }
    return decision;
  }

  /** `value` with every secret-named field (any depth) set to REDACTED; copies only what changes. */
  redact(value: unknown): unknown {
    if (typeof value === 'string') return CREDENTIAL_VALUE.test(value) ? REDACTED : value;
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) {
      let out: unknown[] | null = null;
      for (let i = 0; i < value.length; i++) {
        const next = this.redact(value[i]);
        if (next !== value[i]) (out ??= value.slice())[i] = next;
      }
      return out ?? value;
    }
    const obj = value as Record<string, unknown>;
    let out: Record<string, unknown> | null = null;
    for (const key of Object.keys(obj)) {
      const current = obj[key];
      const next = this.isSecret(key) ? REDACTED : this.redact(current);
      if (next !== current) {
        out ??= copyObject(obj);
        setOwn(out, key, next);
      }
    }
    return out ?? obj;
  }
}

function copyObject(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) setOwn(out, key, obj[key]);
  return out;
}
