/**
 * Turns an AuditRecord into the values stored for it, normalized so that a
 * read gives back exactly what was hashed. Never refuses a record: values
 * Postgres would reject are made storable and noted in schema_errors.
 * Two steps: `identifyRow` (cheap: id and time, for dedupe) before the batch
 * transaction, `completeRow` (canonical JSON, HMAC) while COPY streams.
 */
import { createHash } from 'node:crypto';
import type { AuditRecord } from './types';
import { canonicalJson, storableText } from './canonicalEncoding';
import type { ChainRow, PiiHasher } from './canonicalEncoding';

/** The identity of a record: what dedupe and partition routing need. */
export interface IdentifiedRow {
  record: AuditRecord;
  eventId: string;
  /** Epoch ms of the event time. */
  createdMs: number;
  createdAt: string;
  /** Notes about values that had to be replaced, appended to schema_errors. */
  notes: string[] | null;
}

/** A record ready to be chained; `recordedAt` is set by the writer just before hashing. */
export type PreparedRow = ChainRow & { personal: PreparedPersonal | null };

/** Personal data of one event, as stored in audit_personal. */
export interface PreparedPersonal {
  clientAddress: string | null;
  userAgent: string | null;
  /** Canonical JSON object text. */
  fields: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MIN_MS = new Date('0001-01-01T00:00:00Z').getTime();
const MAX_MS = new Date('9999-12-31T23:59:59.999Z').getTime();

function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return storableText(typeof v === 'string' ? v : String(v));
}

/** A stable UUID (version 8) derived from an invalid id, so replays of the same record still dedupe. */
function derivedUuid(raw: string): string {
  const h = createHash('sha256').update(`cvd-audit-event-id:${raw}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Event id and time of a record; `fallbackMs` replaces (with a note) an unusable event time. */
export function identifyRow(record: AuditRecord, fallbackMs: number): IdentifiedRow {
  let notes: string[] | null = null;
  let eventId = String(record.eventId);
  if (UUID.test(eventId)) eventId = eventId.toLowerCase();
  else {
    const derived = derivedUuid(eventId);
    notes = [`eventId: ${JSON.stringify(storableText(eventId))} is not a UUID; stored as ${derived}`];
    eventId = derived;
  }
  let createdMs = Date.parse(record.occurredAt);
  if (!(createdMs >= MIN_MS && createdMs <= MAX_MS)) {
    (notes ??= []).push(`occurredAt: ${JSON.stringify(text(record.occurredAt))} is not a usable time; stored as the time it was recorded`);
    createdMs = fallbackMs;
  }
  return { record, eventId, createdMs, createdAt: new Date(createdMs).toISOString(), notes };
}

/** Every stored value of an identified record. */
export function completeRow(id: IdentifiedRow, pii: PiiHasher): PreparedRow {
  const record = id.record;
  const errors = Array.isArray(record.schemaErrors) ? record.schemaErrors.map((e) => storableText(String(e))) : [];
  let valid = record.schemaValid !== false && id.notes === null;
  if (id.notes) errors.push(...id.notes);

  let affected: number | null = null;
  if (record.affectedRecords !== null && record.affectedRecords !== undefined) {
    if (Number.isSafeInteger(record.affectedRecords)) affected = record.affectedRecords;
    else {
      errors.push(`affectedRecords: ${JSON.stringify(text(record.affectedRecords))} is not an integer; stored as null`);
      valid = false;
    }
  }

  const actor = record.actor ?? { id: null, roles: [], sessionId: null, type: 'anonymous' };
  const roles = Array.isArray(actor.roles) ? actor.roles : [];
  const details = record.details && typeof record.details === 'object' && !Array.isArray(record.details) ? record.details : {};

  const p = record.personal;
  const fields = p?.fields && typeof p.fields === 'object' ? p.fields : {};
  const clientAddress = text(p?.clientAddress);
  const userAgent = text(p?.userAgent);
  let personal: PreparedPersonal | null = null;
  let hmac: string | null = null;
  if (clientAddress !== null || userAgent !== null || Object.keys(fields).length > 0) {
    personal = { clientAddress, userAgent, fields: canonicalJson(fields) };
    hmac = pii.hmac(id.eventId, clientAddress, userAgent, personal.fields);
  }

  return {
    eventId: id.eventId,
    createdAt: id.createdAt,
    recordedAt: '',
    action: text(record.action) ?? '',
    category: text(record.category) ?? '',
    severity: text(record.severity) ?? '',
    outcome: text(record.outcome) ?? '',
    reason: text(record.reason),
    actorType: text(actor.type) ?? 'anonymous',
    userId: text(actor.id),
    userRole: roles.length > 0 ? storableText(roles.join(',')) : null,
    sessionId: text(actor.sessionId),
    resourceType: text(record.resourceType),
    resourceId: text(record.resourceId),
    details: canonicalJson(details),
    oldValue: record.oldValue === null || record.oldValue === undefined ? null : canonicalJson(record.oldValue),
    newValue: record.newValue === null || record.newValue === undefined ? null : canonicalJson(record.newValue),
    affectedRecords: affected,
    traceId: text(record.traceId),
    spanId: text(record.spanId),
    serviceName: text(record.serviceName) ?? '',
    schemaValid: valid,
    schemaErrors: errors,
    piiHmac: hmac,
    personal,
  };
}
