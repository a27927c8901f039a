/**
 * Builds an AuditEvent from one record() call: JSON-safe copy, schema check,
 * redaction, personal fields split off, size caps, actor and context. Pure
 * apart from its inputs, so the recorder and `audit import` share it.
 */
import type { RegisteredAction } from './ActionRegistry';
import { toFieldErrors } from './ActionRegistry';
import type { AuditFieldError } from './errors';
import { capField, setOwn, toJsonSafe } from './normalize';
import { REDACTED } from './redact';
import type { Redactor } from './redact';
import type { AuditActor, AuditEvent, AuditOutcome } from './types';

/** What was true at the moment of the call (captured synchronously by record()). */
export interface CallCapture {
  eventId: string;
  occurredAt: number;
  user: { id: string; roles?: string[]; sessionId?: string } | null;
  clientAddress: string | null;
  userAgent: string | null;
  traceId: string | null;
  spanId: string | null;
}

/** Settings the builder needs. */
export interface BuildSettings {
  serviceName: string;
  maxFieldBytes: number;
  /** Largest serialized details + old/new value + personal fields (bytes). */
  maxEventBytes: number;
  redactor: Redactor;
}

/** An event and the problems found while building it (empty when valid). */
export interface BuiltEvent {
  event: AuditEvent;
  errors: AuditFieldError[];
  unknownAction: boolean;
}

const OUTCOMES: readonly AuditOutcome[] = ['success', 'failure'];

/** One record() call to turn into an event. */
export interface RecordCall {
  /** The action name as the caller wrote it. */
  name: string;
  /** Its registered definition; undefined when the action is unknown. */
  action: RegisteredAction | undefined;
  /** The caller's fields, as given. */
  fields: unknown;
  capture: CallCapture;
  /** The name to suggest when the action is unknown. */
  hint?: string;
}

/** Builds the event of one record() call. */
export function buildEvent(call: RecordCall, settings: BuildSettings): BuiltEvent {
  const { name, action, fields: rawFields, capture, hint } = call;
  const errors: AuditFieldError[] = [];
  const maxStringLength = settings.maxFieldBytes;
  const copied = rawFields === undefined ? {} : toJsonSafe(rawFields, { maxStringLength });
  let fields: Record<string, unknown>;
  if (isPlainObject(copied)) {
    fields = copied;
  } else {
    errors.push({ path: '/', rule: 'type', message: 'fields must be an object' });
    fields = { details: { _value: copied } };
  }
  if (!action) errors.push({ path: '/action', rule: 'enum', message: `'${name}' is not a known action${hint ? `; use ${hint}` : ''}` });

  let details: Record<string, unknown>;
  const rawDetails = fields.details ?? {};
  if (isPlainObject(rawDetails)) {
    details = rawDetails;
  } else {
    errors.push({ path: '/details', rule: 'type', message: 'must be an object' });
    details = { _value: rawDetails };
  }
  if (action && details === rawDetails && !action.validate(details)) errors.push(...toFieldErrors(action.validate.errors));

  const outcome = fields.outcome ?? 'success';
  if (!OUTCOMES.includes(outcome as AuditOutcome)) errors.push({ path: '/outcome', rule: 'enum', message: 'must be "success" or "failure"' });
  let affectedRecords = fields.affectedRecords ?? null;
  if (affectedRecords !== null && !(Number.isSafeInteger(affectedRecords) && (affectedRecords as number) >= 0)) {
    errors.push({ path: '/affectedRecords', rule: 'type', message: 'must be a non-negative integer' });
    affectedRecords = null;
  }
  const countField = action?.spec.affectedRecordsFrom;
  if (affectedRecords === null && countField && Number.isSafeInteger(details[countField])) affectedRecords = details[countField] as number;

  const { redactor, maxFieldBytes } = settings;
  details = redactor.redact(details) as Record<string, unknown>;
  let oldValue = redactor.redact(fields.oldValue ?? null);
  let newValue = redactor.redact(fields.newValue ?? null);
  const nameField = action?.spec.secretNameField;
  if (nameField && typeof details[nameField] === 'string' && redactor.isSecret(details[nameField] as string)) {
    details = { ...details, old_value: REDACTED, new_value: REDACTED };
    if (oldValue !== null) oldValue = REDACTED;
    if (newValue !== null) newValue = REDACTED;
  }

  const personalFields: Record<string, string> = {};
  const personal = action?.spec.personal ?? [];
  // One serialization decides for the usual small event: if details, old and new value together
  // fit one field's cap (3 bytes per UTF-16 unit at most), every single field does.
  const allFit = (JSON.stringify([details, oldValue, newValue]) ?? '').length * 3 <= maxFieldBytes;
  let kept: Record<string, unknown> = {};
  if (allFit && personal.length === 0) kept = details; // already our own copy: nothing to move or cut
  else for (const key of Object.keys(details)) {
    const value = details[key];
    if (personal.includes(key)) personalFields[key] = capField(typeof value === 'string' ? value : JSON.stringify(value), maxFieldBytes) as string;
    else setOwn(kept, key, allFit ? value : capField(value, maxFieldBytes));
  }

  let oldCapped = splitPersonal(allFit ? oldValue : capField(oldValue, maxFieldBytes), personal, 'old_value', personalFields, maxFieldBytes);
  let newCapped = splitPersonal(allFit ? newValue : capField(newValue, maxFieldBytes), personal, 'new_value', personalFields, maxFieldBytes);
  // Each field is capped, but many of them are not: one event past what Postgres takes in a
  // batch would block the trail for good. Measured only when some field needed a cap.
  const size = allFit ? 0 : Buffer.byteLength(JSON.stringify([kept, oldCapped, newCapped, personalFields]));
  if (size > settings.maxEventBytes) {
    errors.push({ path: '/', rule: 'maxEventBytes', message: `the event is ${size} bytes serialized: allowed at most audit.maxEventBytes = ${settings.maxEventBytes} bytes; details, oldValue and newValue were left out` });
    kept = { _omitted: `${size} bytes over audit.maxEventBytes (${settings.maxEventBytes})` };
    oldCapped = null;
    newCapped = null;
    for (const key of Object.keys(personalFields)) delete personalFields[key];
  }

  const event: AuditEvent = {
    v: 1,
    eventId: capture.eventId,
    occurredAt: new Date(capture.occurredAt).toISOString(),
    action: name,
    category: action?.spec.category ?? 'unknown',
    severity: action?.spec.severity ?? 'medium',
    outcome: OUTCOMES.includes(outcome as AuditOutcome) ? (outcome as AuditOutcome) : 'success',
    reason: optionalText(fields.reason, '/reason', errors, maxFieldBytes),
    actor: actorOf(fields.actor, capture, errors),
    resourceType: optionalText(fields.resourceType, '/resourceType', errors, 256) ?? action?.spec.resourceType ?? null,
    resourceId: optionalText(typeof fields.resourceId === 'number' ? String(fields.resourceId) : fields.resourceId, '/resourceId', errors, 1024),
    details: kept,
    oldValue: oldCapped,
    newValue: newCapped,
    affectedRecords: affectedRecords as number | null,
    personal: { clientAddress: capture.clientAddress, userAgent: capture.userAgent, fields: personalFields },
    traceId: capture.traceId,
    spanId: capture.spanId,
    serviceName: settings.serviceName,
    schemaValid: errors.length === 0,
    schemaErrors: [],
  };
  return { event, errors, unknownAction: !action };
}

function actorOf(override: unknown, capture: CallCapture, errors: AuditFieldError[]): AuditActor {
  if (override !== undefined && override !== null) {
    const o = override as { id?: unknown; roles?: unknown; sessionId?: unknown; type?: unknown };
    if (typeof o.id !== 'string' || o.id === '') {
      errors.push({ path: '/actor/id', rule: 'type', message: 'must be a non-empty string' });
    } else {
      const type = o.type === 'user' || o.type === 'system' ? o.type : o.id.startsWith('system:') ? 'system' : 'user';
      const roles = Array.isArray(o.roles) ? o.roles.map(String) : [];
      return { id: o.id, roles, sessionId: typeof o.sessionId === 'string' ? o.sessionId : null, type };
    }
  }
  const user = capture.user;
  if (!user) return { id: null, roles: [], sessionId: null, type: 'anonymous' };
  return { id: user.id, roles: user.roles ? [...user.roles] : [], sessionId: user.sessionId ?? null, type: 'user' };
}

function optionalText(value: unknown, path: string, errors: AuditFieldError[], maxBytes: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    errors.push({ path, rule: 'type', message: 'must be a string' });
    return capField(JSON.stringify(value), maxBytes) as string;
  }
  return capField(value, maxBytes) as string;
}

/**
 * `value` without the catalog's personal keys (an e-mail in a USER_UPDATE's
 * before/after), which go to the personal fields as `old_value.email` /
 * `new_value.email`: erasable like the details' own personal fields.
 */
function splitPersonal(value: unknown, personal: readonly string[], prefix: string, into: Record<string, string>, maxBytes: number): unknown {
  if (personal.length === 0 || !isPlainObject(value) || !personal.some((key) => Object.hasOwn(value, key))) return value;
  const kept: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (personal.includes(key)) into[`${prefix}.${key}`] = capField(typeof v === 'string' ? v : JSON.stringify(v), maxBytes) as string;
    else setOwn(kept, key, v);
  }
  return kept;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
