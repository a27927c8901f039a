/**
 * The canonical encoding of a stored audit row and its chain hash (version 1).
 * Everything hashed here is re-derivable from what Postgres gives back (see
 * docs/audit-trail.md, "Canonical encoding"): jsonb values are hashed as
 * canonical JSON of their parsed value, timestamps as ISO 8601 with ms, UTC.
 */
import { createHash, createHmac } from 'node:crypto';

/** Tag at the head of every hashed tuple; bumps when the encoding changes. */
export const HASH_VERSION = 'cvd-audit/1';

/** A row as stored, every value normalized to exactly what a read gives back. */
export interface ChainRow {
  streamId: string;
  seq: number;
  prevHash: string | null;
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

/** SHA-256 (lowercase hex) of the canonical tuple of `row`. */
export function chainHash(row: ChainRow): string {
  return createHash('sha256').update(hashInput(row), 'utf8').digest('hex');
}

/** The exact text that is hashed: a JSON array in fixed field order, jsonb fields embedded as canonical JSON. */
export function hashInput(r: ChainRow): string {
  const s = JSON.stringify;
  return `[${s(HASH_VERSION)},${s(r.streamId)},${r.seq},${s(r.prevHash)},${s(r.eventId)},${s(r.createdAt)},${s(r.recordedAt)},`
    + `${s(r.action)},${s(r.category)},${s(r.severity)},${s(r.outcome)},${s(r.reason)},${s(r.actorType)},`
    + `${s(r.userId)},${s(r.userRole)},${s(r.sessionId)},${s(r.resourceType)},${s(r.resourceId)},`
    + `${r.details},${r.oldValue ?? 'null'},${r.newValue ?? 'null'},${s(r.affectedRecords)},`
    + `${s(r.traceId)},${s(r.spanId)},${s(r.serviceName)},${r.schemaValid},${s(r.schemaErrors)},${s(r.piiHmac)}]`;
}

/** HMAC-SHA256 (hex) binding an event's personal data to its id, so equal data in two events gives unrelated HMACs. */
export function piiHmac(key: Buffer, eventId: string, clientAddress: string | null, userAgent: string | null, fieldsJson: string): string {
  return createHmac('sha256', key)
    .update(`[${JSON.stringify(eventId)},${JSON.stringify(clientAddress)},${JSON.stringify(userAgent)},${fieldsJson}]`, 'utf8')
    .digest('hex');
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

/**
 * Canonical JSON (RFC 8785 style): no whitespace, object keys sorted by UTF-16
 * code units, numbers as ECMAScript prints them, non-finite numbers and
 * undefined as JSON.stringify treats them; strings made storable first.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(storableText(value));
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'object': {
      const withJson = value as { toJSON?: () => unknown };
      if (typeof withJson.toJSON === 'function') return canonicalJson(withJson.toJSON());
      if (Array.isArray(value)) {
        return `[${value.map((x) => (isSkipped(x) ? 'null' : canonicalJson(x))).join(',')}]`;
      }
      const obj = value as Record<string, unknown>;
      let out = '';
      for (const key of Object.keys(obj).sort()) {
        const x = obj[key];
        if (isSkipped(x)) continue;
        out += `${out ? ',' : ''}${JSON.stringify(storableText(key))}:${canonicalJson(x)}`;
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
