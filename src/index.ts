/**
 * The public API of cvd-activity. Everything a user may import is listed here
 * by name; nothing else is public.
 */
export { setUser, setErrorCode, setRoute, markActivity } from './audit/context';
export type { UserInfo, ActivityType } from './audit/context';
export type { AuditEvent, AuditSink, AuditActor, AuditSeverity, AuditOutcome, AuditPersonalData } from './audit/types';
export { audit, AuditValidationError, AuditDefinitionError, AuditShutdownError, MemoryAuditSink } from './audit/index';
/** The built-in action catalog (read-only): schemas, severities and an example call per action. */
export { builtinCatalog as auditCatalog } from './audit/index';
export type {
  ActionName,
  ActionDefinition,
  ActorOverride,
  AuditFieldError,
  CustomAuditActions,
  DetailsOf,
  LoginFailedInput,
  RecordEnvelope,
  RecordFields,
  TypedActionDefinition,
} from './audit/index';
export type { CvdActivityConfig, CvdActivityOptions } from './config/types';
export { start, getActivityStats } from './start';
export type { ActivityHandle, ActivityStats, StartOptions } from './start';
export type { NoiseRule, NoiseRequest, NoiseDecision } from './instrumentation/NoiseRule';
export { loadConfig } from './config/loadConfig';
export { defaultConfig } from './config/defaults';
export { databaseConnectionConfig } from './config/database';
export type { DatabaseConnectionConfig } from './config/database';
export { ConfigError } from './config/ConfigError';
export type { ConfigProblem } from './config/ConfigError';
/** Retention and erasure of the audit trail (docs/audit-trail.md, "Retention", "Personal data and erasure"). */
export { dropPartitionsBefore, erasePersonalData } from './store/retention';
export type { RetentionOptions, RetentionResult, ErasureOptions } from './store/retention';
