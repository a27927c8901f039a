/**
 * `audit`, the public facade. It delegates to the recorder start() installs;
 * before that, calls are captured (id, time, actor, request and trace context,
 * a snapshot of the fields) in a bounded pre-start buffer and replayed into
 * the recorder on installation, so an app that records early loses nothing.
 */
import { diag } from '@opentelemetry/api';
import type { ActionDefinition } from './ActionRegistry';
import { defaultActionRegistry } from './ActionRegistry';
import { captureCall, createAuditRecorder } from './AuditRecorder';
import type { AuditRecorder, AuditRecorderConfig, LoginFailedInput } from './AuditRecorder';
import type { CallCapture } from './buildEvent';
import type { ActionName } from './catalog/index';
import type { FromSchema, JsonSchema } from './catalog/schema';
import { FailedLogins } from './FailedLogins';
import { toJsonSafe } from './normalize';
import type { RecordArgs, RecordEnvelope, RecordFieldsWith } from './recordTypes';
import type { AuditSink } from './types';

/** Events kept before a recorder is installed; beyond it, calls are counted and reported, not kept. */
export const PRE_START_BUFFER_MAX = 10_000;
// Before start() no configuration is known; these match the documented defaults.
const PRE_START_LOGIN_WINDOW_MS = 5 * 60_000;
const PRE_START_LOGIN_MAX_ATTEMPTS = 5;

interface PendingCall {
  action: string;
  fields: unknown;
  capture: CallCapture;
}

let installed: AuditRecorder | undefined;
const pending: PendingCall[] = [];
let droppedBeforeStart = 0;
let preStartLogins: FailedLogins | undefined;

/** Installs the recorder `audit` delegates to, and replays what was recorded before (start() calls this). */
export function installAuditRecorder(recorder: AuditRecorder): void {
  if (installed && installed !== recorder && !installed.isShutdown) {
    diag.warn('cvd-activity: a second audit recorder was installed; the first one no longer receives events');
  }
  installed = recorder;
  const calls = pending.splice(0, pending.length);
  for (const call of calls) recorder.replay(call.action, call.fields, call.capture);
  if (droppedBeforeStart > 0) {
    diag.error(`cvd-activity: ${droppedBeforeStart} audit events recorded before start() were dropped: the pre-start buffer holds ${PRE_START_BUFFER_MAX}`);
    droppedBeforeStart = 0;
  }
  preStartLogins = undefined;
}

/**
 * start()'s one call: a recorder for `config` writing into `sink`, installed
 * (pre-start events replayed). Returns it: a lifecycle participant whose
 * shutdown() stops recording, then shuts the sink down.
 */
export function installAuditSink(sink: AuditSink, config: AuditRecorderConfig): AuditRecorder {
  const recorder = createAuditRecorder({ config, sink });
  installAuditRecorder(recorder);
  return recorder;
}

/** The recorder `audit` delegates to, if one is installed. */
export function installedAuditRecorder(): AuditRecorder | undefined {
  return installed;
}

/** Forgets the installed recorder and any pre-start events (tests only; start()/shutdown() do not need it). */
export function resetAuditForTests(): void {
  installed = undefined;
  pending.length = 0;
  droppedBeforeStart = 0;
  preStartLogins = undefined;
}

function recordCall(action: string, fields: unknown): string {
  if (installed) return installed.record(action, fields);
  const capture = captureCall();
  if (pending.length >= PRE_START_BUFFER_MAX) {
    if (droppedBeforeStart++ === 0) diag.warn(`cvd-activity: the audit pre-start buffer is full (${PRE_START_BUFFER_MAX} events); events recorded before start() are being dropped`);
    return capture.eventId;
  }
  // A snapshot: the app may change its objects after the call.
  pending.push({ action, fields: toJsonSafe(fields, { maxStringLength: 65_536 }), capture });
  return capture.eventId;
}

/** An app action definition whose details schema types the returned recorder function. */
export interface TypedActionDefinition<D extends JsonSchema> extends Omit<ActionDefinition, 'details' | 'example'> {
  details: D;
  example?: { details: Details<D> } & RecordEnvelope;
}

/** App-defined details are closed unless the schema says otherwise, as at run time. */
type Details<D> = FromSchema<D extends { readonly additionalProperties: unknown } ? D : D & { readonly additionalProperties: false }>;

/** Records audit events. Each call is synchronous and returns the event id (a UUIDv7). */
export const audit = {
  /** Records `action` with its `fields`; strict mode throws AuditValidationError on bad input. */
  record<A extends ActionName>(action: A, ...args: RecordArgs<A>): string {
    return recordCall(action, args[0]);
  },

  /** LOGIN_FAILED, counting attempts per username and per client address over the configured window. */
  loginFailed(input: LoginFailedInput): string {
    if (installed) return installed.loginFailed(input);
    preStartLogins ??= new FailedLogins({ windowMs: PRE_START_LOGIN_WINDOW_MS, maxAttempts: PRE_START_LOGIN_MAX_ATTEMPTS });
    return recordCall('LOGIN_FAILED', preStartLogins.fields(input, captureCall().clientAddress));
  },

  /** DATA_EXPORT: what left the system, in which format, how many records, with which filters. */
  dataExport(input: { dataset: string; format: 'csv' | 'xlsx' | 'pdf' | 'json' | 'xml' | 'zip' | 'other'; recordCount: number; filters?: Record<string, unknown>; dateRange?: { from: string; to: string }; resourceId?: string }): string {
    const { dataset, format, recordCount, filters, dateRange, resourceId } = input;
    return audit.record('DATA_EXPORT', { resourceId: resourceId ?? dataset, details: { dataset, format, record_count: recordCount, filters, date_range: dateRange } });
  },

  /** PERMISSION_CHANGE: a user's role from `oldRole` to `newRole`. */
  permissionChange(input: { targetUserId: string | number; oldRole: string | null; newRole: string; reason?: string }): string {
    const { targetUserId, oldRole, newRole, reason } = input;
    return audit.record('PERMISSION_CHANGE', { resourceId: targetUserId, reason, details: { target_user_id: targetUserId, old_role: oldRole, new_role: newRole } });
  },

  /** CONFIG_CHANGE: `setting` from `oldValue` to `newValue` (values redacted when the setting's name looks secret). */
  configChange(input: { setting: string; oldValue: unknown; newValue: unknown }): string {
    const { setting, oldValue, newValue } = input;
    return audit.record('CONFIG_CHANGE', { resourceId: setting, details: { setting, old_value: oldValue ?? null, new_value: newValue ?? null } });
  },

  /** PRICE_CHANGE: `product` from `oldPrice` to `newPrice`. */
  priceChange(input: { product: string | number; oldPrice: number; newPrice: number; currency?: string; deviceId?: string | number }): string {
    const { product, oldPrice, newPrice, currency, deviceId } = input;
    return audit.record('PRICE_CHANGE', { resourceId: product, details: { product, old_price: oldPrice, new_price: newPrice, currency, device_id: deviceId } });
  },

  /** BULK_OPERATION: one operation on many records. */
  bulkOperation(input: { operation: string; targetType: string; affectedRecords: number; filters?: Record<string, unknown> }): string {
    const { operation, targetType, affectedRecords, filters } = input;
    return audit.record('BULK_OPERATION', { resourceType: targetType, details: { operation, target_type: targetType, affected_records: affectedRecords, filters } });
  },

  /**
   * Adds an app's own action (validated; a taken name is an AuditDefinitionError)
   * and returns a recorder function typed by its details schema.
   */
  defineAction<const D extends JsonSchema>(definition: TypedActionDefinition<D>): (fields: RecordFieldsWith<Details<D>>) => string {
    const registry = installed?.registry ?? defaultActionRegistry();
    const { name } = registry.define(definition as ActionDefinition);
    return (fields) => recordCall(name, fields);
  },

  /** Resolves when every event recorded so far is durably stored (no-op before start()). */
  forceFlush(): Promise<void> {
    return installed ? installed.forceFlush() : Promise.resolve();
  },
};
