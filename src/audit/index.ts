/**
 * What the audit room offers the rest of the package (the composition root,
 * pipeline/, cli/, the docs script). The public API picks from this in
 * src/index.ts.
 */
export { audit, installAuditSink, installAuditRecorder, installedAuditRecorder } from './audit';
export type { TypedActionDefinition } from './audit';
export { AuditRecorder, createAuditRecorder } from './AuditRecorder';
export type { AuditRecorderConfig, AuditRecorderOptions, LoginFailedInput } from './AuditRecorder';
export { ActionRegistry, defaultActionRegistry } from './ActionRegistry';
export type { ActionDefinition, RegisteredAction } from './ActionRegistry';
export { builtinCatalog, catalogGroups, actionHints } from './catalog/index';
export type { ActionName, BuiltinActionName, CustomAuditActions, DetailsOf } from './catalog/index';
export type { ActionSpec, FromSchema, JsonSchema } from './catalog/schema';
export { AuditDefinitionError, AuditNotStartedError, AuditShutdownError, AuditValidationError } from './errors';
export type { AuditFieldError } from './errors';
export { MemoryAuditSink } from './MemoryAuditSink';
export type { MemoryAuditSinkOptions } from './MemoryAuditSink';
export type { ActorOverride, RecordEnvelope, RecordFields } from './recordTypes';
export type { MirrorMode } from './mirror';
export {
  AUDIT_LOG_EVENT_NAME,
  AUDIT_SCOPE_NAME,
  AUDIT_SPAN_EVENT_NAME,
  ATTR_AUDIT_ACTION,
  ATTR_AUDIT_EVENT_ID,
  ATTR_AUDIT_SEVERITY,
  ATTR_AUDIT_CATEGORY,
} from './semconv';
