/**
 * Turns whatever an app passes into plain JSON: no functions, cycles, BigInt,
 * Symbols, undefined, NaN or exotic objects survive, and nothing here throws.
 * The copy is also a snapshot: the app may mutate its objects afterwards.
 */

/** Deepest nesting kept; deeper values become a marker (an audit row is not a dump). */
const MAX_DEPTH = 24;
/** Longest array kept; the rest is counted in a marker item. */
const MAX_ARRAY_ITEMS = 10_000;

/** Marker appended to a string cut at the size limit. */
export const TRUNCATION_MARKER = '…[truncated]';

/** Options of `toJsonSafe`. */
export interface NormalizeOptions {
  /** Longest string kept, in UTF-16 code units (bytes are checked per field later). */
  maxStringLength: number;
}

/** A JSON-safe deep copy of `value` (never throws). */
export function toJsonSafe(value: unknown, options: NormalizeOptions): unknown {
  try {
    return copy(value, options, new Set(), 0);
  } catch (err) {
    return `[Unserializable: ${describe(err)}]`;
  }
}

function copy(value: unknown, options: NormalizeOptions, seen: Set<object>, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      return value.length > options.maxStringLength ? value.slice(0, options.maxStringLength) + TRUNCATION_MARKER : value;
    case 'number':
      return Number.isFinite(value) ? value + 0 : null; // +0 turns -0 into 0, as JSON does
    case 'boolean':
      return value;
    case 'bigint':
      return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
    case 'undefined':
      return null;
    case 'symbol':
      return value.toString();
    case 'function':
      return `[Function ${value.name || 'anonymous'}]`;
    default:
      break;
  }
  if (value === null) return null;
  const obj = value as object;
  if (seen.has(obj)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Depth limit]';
  if (Object.getPrototypeOf(obj) === Object.prototype && typeof (obj as { toJSON?: unknown }).toJSON !== 'function') {
    seen.add(obj); // the common case first: a plain object literal
    try {
      return copyObject(obj as Record<string, unknown>, options, seen, depth);
    } finally {
      seen.delete(obj);
    }
  }
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
  if (ArrayBuffer.isView(obj)) return `[${obj.constructor?.name ?? 'Binary'} ${obj.byteLength} bytes]`;
  if (obj instanceof ArrayBuffer) return `[ArrayBuffer ${obj.byteLength} bytes]`;
  if (obj instanceof Error) return { name: obj.name, message: obj.message };
  seen.add(obj);
  try {
    if (Array.isArray(obj)) return copyArray(obj, options, seen, depth);
    if (obj instanceof Map) return copyEntries(obj.entries(), options, seen, depth);
    if (obj instanceof Set) return Array.from(obj, (v) => copy(v, options, seen, depth + 1));
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return copy(safeCall(() => toJSON.call(obj)), options, seen, depth + 1);
    return copyObject(obj as Record<string, unknown>, options, seen, depth);
  } finally {
    seen.delete(obj);
  }
}

function copyArray(arr: unknown[], options: NormalizeOptions, seen: Set<object>, depth: number): unknown[] {
  // Holes become null (as in JSON); a sparse array of length 1e9 must not become a loop of 1e9.
  const n = Math.min(arr.length, MAX_ARRAY_ITEMS);
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = copy(safeCall(() => arr[i]), options, seen, depth + 1);
  if (arr.length > n) out.push(`[${arr.length - n} more items]`);
  return out;
}

function copyEntries(entries: Iterable<[unknown, unknown]>, options: NormalizeOptions, seen: Set<object>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    if (v === undefined || typeof k === 'symbol') continue; // as JSON.stringify does
    setOwn(out, String(k), copy(v, options, seen, depth + 1));
  }
  return out;
}

// The hot path (plain objects of a few keys): no iterator, no closure per property.
function copyObject(obj: Record<string, unknown>, options: NormalizeOptions, seen: Set<object>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = Object.keys(obj);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    let value: unknown;
    try {
      value = obj[key];
    } catch (err) {
      value = `[Unreadable: ${describe(err)}]`;
    }
    if (value === undefined) continue; // as JSON.stringify does
    if (key === '__proto__') setOwn(out, key, copy(value, options, seen, depth + 1));
    else out[key] = copy(value, options, seen, depth + 1);
  }
  return out;
}

/** Sets `key` as an own data property, even `__proto__` (plain assignment would change the prototype). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function safeCall(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (err) {
    return `[Unreadable: ${describe(err)}]`;
  }
}

function describe(err: unknown): string {
  try {
    return err instanceof Error ? err.message : String(err);
  } catch {
    return 'unknown error';
  }
}

/** Size of `value` as UTF-8 JSON, in bytes. */
export function jsonBytes(value: unknown): number {
  const json = JSON.stringify(value);
  return json === undefined ? 0 : Buffer.byteLength(json, 'utf8');
}

/**
 * `value` itself when its JSON fits `maxBytes`, else a cut version that does:
 * a string keeps a UTF-8-safe prefix plus a marker, anything else becomes a
 * marker object with a prefix of its JSON. Too large is cut, never dropped.
 */
export function capField(value: unknown, maxBytes: number): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  const json = JSON.stringify(value) ?? 'null';
  // JSON of n UTF-16 units has at most 3n UTF-8 bytes: most values skip the exact count.
  if (json.length * 3 <= maxBytes) return value;
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes <= maxBytes) return value;
  const source = typeof value === 'string' ? value : json;
  const make = (budget: number): unknown =>
    typeof value === 'string'
      ? utf8Prefix(source, budget) + TRUNCATION_MARKER
      : { _truncated: true, _originalBytes: bytes, _preview: utf8Prefix(source, budget) + TRUNCATION_MARKER };
  // Escaping (quotes, backslashes, control characters) can grow the prefix; shrink until it fits.
  let budget = maxBytes - 96;
  for (let i = 0; i < 8 && budget > 0; i++) {
    const candidate = make(budget);
    const over = jsonBytes(candidate) - maxBytes;
    if (over <= 0) return candidate;
    budget -= Math.max(over, Math.ceil(budget / 8));
  }
  return make(0);
}

/** The longest prefix of `text` that fits `maxBytes` of UTF-8, without a split character. */
function utf8Prefix(text: string, maxBytes: number): string {
  return Buffer.from(text, 'utf8').subarray(0, Math.max(0, maxBytes)).toString('utf8').replace(/\uFFFD+$/, '');
}
