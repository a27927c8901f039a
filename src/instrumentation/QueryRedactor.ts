/**
 * Masks the values of sensitive query parameters in anything that carries a
 * URL. Names match by the same rule as audit detail redaction (audit/redact.ts:
 * case and separators ignored, by fragment), so `api_key` matches `?apiKey=`
 * and `token` matches `access_token`: one list covers the variants apps invent.
 */
import { Redactor } from '../audit/redact';

/** The replacement value, as instrumentation-http writes it. */
export const REDACTED = 'REDACTED';

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

/** Redacts query strings and URLs against one list of name fragments. */
export class QueryRedactor {
  private readonly names: Redactor | null;

  constructor(fragments: readonly string[]) {
    const names = new Redactor(fragments);
    this.names = fragments.some((f) => f !== '') ? names : null;
  }

  /** Whether a parameter named `name` must be masked. */
  isSensitive(name: string): boolean {
    return this.names !== null && this.names.isSecret(decodeName(name));
  }

  /** A query string (without `?`) with sensitive values replaced; other parts keep their exact encoding. */
  redactQuery(query: string): string {
    if (this.names === null || query === '') return query;
    const parts = query.split('&');
    let changed = false;
    for (let i = 0; i < parts.length; i++) {
      const eq = parts[i].indexOf('=');
      const name = eq < 0 ? parts[i] : parts[i].slice(0, eq);
      if (eq >= 0 && this.isSensitive(name)) {
        parts[i] = `${name}=${REDACTED}`;
        changed = true;
      }
    }
    return changed ? parts.join('&') : query;
  }

  /** A URL (absolute or path) with its query redacted; the fragment is dropped if it holds `=` pairs that could be secrets. */
  redactUrl(url: string): string {
    const q = url.indexOf('?');
    const h = url.indexOf('#');
    if (q < 0 && h < 0) return url;
    const end = h >= 0 ? h : url.length;
    const base = url.slice(0, q >= 0 && q < end ? q : end);
    const query = q >= 0 && q < end ? `?${this.redactQuery(url.slice(q + 1, end))}` : '';
    const fragment = h >= 0 ? url.slice(h) : '';
    // OAuth implicit flows put tokens in the fragment: treat `#a=b&c=d` like a query.
    return `${base}${query}${fragment.includes('=') ? `#${this.redactQuery(fragment.slice(1))}` : fragment}`;
  }
}
