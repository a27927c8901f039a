/**
 * The canonical encoding of a stored audit row (version 1): canonical JSON,
 * the row's chain hash over it and its link, and the HMAC of personal data.
 * Everything hashed here is re-derivable from what Postgres gives back (see
 * docs/audit-trail.md, "Canonical encoding"): jsonb values are hashed as
 * canonical JSON of their parsed value, timestamps as ISO 8601 with ms, UTC.
 */
import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';

/** Tag at the head of every hashed tuple; bumps when the encoding changes. */
export const HASH_VERSION = 'cvd-audit/1';

/** Where a row sits in its chain. */
export interface ChainLink {
  streamId: string;
  seq: number;
  /** Hash of the previous row of the stream; null for seq 1. */
  prevHash: string | null;
}

/** A row's content as stored, every value normalized to exactly what a read gives back. */
export interface ChainRow {
  eventId: string;
  /** ISO 8601, ms, `Z`. */
  createdAt: string;
  recordedAt: string;
  action: string;
  category: string;
  severity: string;
  outcome: string;
  reason: string | null;
  actorType: string;
  userId: string | null;
  userRole: string | null;
  sessionId: string | null;
  resourceType: string | null;
  resourceId: string | null;
  /** Canonical JSON text. */
  details: string;
  /** Canonical JSON text, or null for SQL NULL. */
  oldValue: string | null;
  newValue: string | null;
  affectedRecords: number | null;
  traceId: string | null;
  spanId: string | null;
  serviceName: string;
  schemaValid: boolean;
  schemaErrors: string[];
  piiHmac: string | null;
}

/** SHA-256 (lowercase hex) of the canonical tuple of `row` at `link`. */
export function chainHash(link: ChainLink, row: ChainRow): string {
  return sha256Hex(hashInput(link, row));
}

/**
 * chainHash of a row this process made: its event id is a validated lowercase
 * UUID, its times come from toISOString(), prev hash and HMAC from our own
 * digests (or the stored head), so they are quoted without an escape test
 * (same bytes). Verify keeps chainHash: values read back could be tampered with.
 */
export function chainHashOfOwnRow(link: ChainLink, row: ChainRow): string {
  return sha256Hex(hashInput(link, row, plain));
}

// One-shot crypto.hash (Node >= 20.12) is about 3x faster than createHash for short inputs.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
const oneShotBytes = (crypto as { hash?: OneShotBytes }).hash;
type OneShotBytes = ((algorithm: string, data: Buffer, encoding: 'buffer') => Buffer) & ((algorithm: string, data: Buffer, encoding: 'hex') => string);
const sha256Hex: (text: string) => string = oneShot
  ? (text) => oneShot('sha256', text, 'hex')
  : (text) => createHash('sha256').update(text, 'utf8').digest('hex');

// JSON.stringify escapes only these (quote, backslash, controls, lone surrogates):
// strings without any are quoted as they are, about twice as fast as calling it.
const JSON_ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify of a string or null, byte for byte. */
function jsonString(v: string | null): string {
  if (v === null) return 'null';
  return JSON_ESCAPED.test(v) ? JSON.stringify(v) : `"${v}"`;
}

/** The exact text that is hashed: a JSON array in fixed field order, jsonb fields embedded as canonical JSON. */
export function hashInput(link: ChainLink, row: ChainRow, quoteSafe: (v: string | null) => string = jsonString): string {
  const quote = jsonString;
  // quoteSafe: ids, times and digests, which need no escapes when the row is our own (see chainHashOfOwnRow).
  return `["${HASH_VERSION}",${quote(link.streamId)},${link.seq},${quoteSafe(link.prevHash)},`
    + `${quoteSafe(row.eventId)},${quoteSafe(row.createdAt)},${quoteSafe(row.recordedAt)},`
    + `${quote(row.action)},${quote(row.category)},${quote(row.severity)},${quote(row.outcome)},${quote(row.reason)},${quote(row.actorType)},`
    + `${quote(row.userId)},${quote(row.userRole)},${quote(row.sessionId)},${quote(row.resourceType)},${quote(row.resourceId)},`
    + `${row.details},${row.oldValue ?? 'null'},${row.newValue ?? 'null'},${row.affectedRecords === null ? 'null' : String(row.affectedRecords)},`
    + `${quote(row.traceId)},${quote(row.spanId)},${quote(row.serviceName)},${row.schemaValid},`
    + `${row.schemaErrors.length === 0 ? '[]' : JSON.stringify(row.schemaErrors)},${quoteSafe(row.piiHmac)}]`;
}

/** A string known to hold no character JSON escapes (hex, UUID, ISO time), or null, as JSON. */
function plain(v: string | null): string {
  return v === null ? 'null' : `"${v}"`;
}

/**
 * HMAC-SHA256 (hex) of an event's personal data, bound to its event id so
 * equal data in two events gives unrelated HMACs. The key's inner and outer
 * pads are hashed once and copied per event (RFC 2104, same output as createHmac).
 */
export class PiiHasher {
  private readonly inner: Hash;
  private readonly outer: Hash;
  private readonly innerPad: Buffer;
  private readonly outerPad: Buffer;
  /** innerPad followed by room for the message; grows for a longer one. */
  private innerScratch: Buffer;
  /** outerPad followed by the inner digest. */
  private readonly outerScratch: Buffer;

  constructor(key: Buffer) {
    const block = Buffer.alloc(64);
    (key.length > 64 ? createHash('sha256').update(key).digest() : key).copy(block);
    this.innerPad = Buffer.from(block.map((b) => b ^ 0x36));
    this.outerPad = Buffer.from(block.map((b) => b ^ 0x5c));
    this.innerScratch = Buffer.alloc(64 + 1024);
    this.innerPad.copy(this.innerScratch);
    this.outerScratch = Buffer.alloc(96);
    this.outerPad.copy(this.outerScratch);
    this.inner = createHash('sha256').update(this.innerPad);
    this.outer = createHash('sha256').update(this.outerPad);
  }

  /** HMAC of `[eventId, clientAddress, userAgent, fields]` as canonical JSON (`fieldsJson` already canonical). */
  hmac(eventId: string, clientAddress: string | null, userAgent: string | null, fieldsJson: string): string {
    const message = `[${jsonString(eventId)},${jsonString(clientAddress)},${jsonString(userAgent)},${fieldsJson}]`;
    if (oneShotBytes) {
      // Two one-shot hashes over pad || data: the same HMAC, about twice as fast as copying Hash objects.
      // The pads stay at the head of two scratch buffers this hasher owns: per event only the data is written.
      const length = Buffer.byteLength(message);
      if (64 + length > this.innerScratch.length) {
        this.innerScratch = Buffer.alloc(Math.max(64 + length, this.innerScratch.length * 2));
        this.innerPad.copy(this.innerScratch);
      }
      this.innerScratch.write(message, 64, length, 'utf8');
      oneShotBytes('sha256', this.innerScratch.subarray(0, 64 + length), 'buffer').copy(this.outerScratch, 64);
      return oneShotBytes('sha256', this.outerScratch, 'hex');
    }
    const innerDigest = this.inner.copy().update(message, 'utf8').digest();
    return this.outer.copy().update(innerDigest).digest('hex');
  }
}

const isWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;

/**
 * A string Postgres stores unchanged: NUL (refused by text and jsonb) becomes
 * U+FFFD, as do lone surrogates (which UTF-8 cannot carry).
 */
export function storableText(value: string): string {
  let v = value;
  if (v.includes('\0')) v = v.replace(/\0/g, '\uFFFD');
  const wellFormed = isWellFormed ? isWellFormed.call(v) : !/[\uD800-\uDFFF]/.test(v);
  if (!wellFormed) v = v.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  return v;
}

// JSON.stringify escapes NUL and lone surrogates as \u0000 / \udXXX; only then
// (or on a rare false hit after an escaped backslash) is the slow path needed.
const SUSPECT_ESCAPE = /\\u(?:0000|d[89a-f])/i;

/**
 * Canonical JSON (RFC 8785 style): no whitespace, object keys sorted by UTF-16
 * code units, numbers as ECMAScript prints them, non-finite numbers and
 * undefined as JSON.stringify treats them; strings made storable (storableText).
 */
export function canonicalJson(value: unknown): string {
  const fast = encode(value, false);
  return SUSPECT_ESCAPE.test(fast) ? encode(value, true) : fast;
}

function encode(value: unknown, clean: boolean): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return jsonString(clean ? storableText(value) : value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'object': {
      const withJson = value as { toJSON?: () => unknown };
      if (typeof withJson.toJSON === 'function') return encode(withJson.toJSON(), clean);
      if (Array.isArray(value)) {
        let out = '';
        for (let i = 0; i < value.length; i++) {
          const x: unknown = value[i];
          out += `${i ? ',' : ''}${isSkipped(x) ? 'null' : encode(x, clean)}`;
        }
        return `[${out}]`;
      }
      const obj = value as Record<string, unknown>;
      let out = '';
      if (!clean) {
        const keys = Object.keys(obj);
        if (keys.length > 1) keys.sort();
        for (const key of keys) {
          const x = obj[key];
          if (!isSkipped(x)) out += `${out ? ',' : ''}${jsonString(key)}:${encode(x, false)}`;
        }
        return `{${out}}`;
      }
      // Sort by the key as stored: a cleaned key (U+FFFD) sorts elsewhere than the raw one.
      const pairs = Object.keys(obj).map((raw) => [storableText(raw), raw] as const);
      pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      for (const [key, raw] of pairs) {
        const x = obj[raw];
        if (!isSkipped(x)) out += `${out ? ',' : ''}${JSON.stringify(key)}:${encode(x, true)}`;
      }
      return `{${out}}`;
    }
    default:
      return 'null';
  }
}

function isSkipped(x: unknown): boolean {
  return x === undefined || typeof x === 'function' || typeof x === 'symbol';
}
