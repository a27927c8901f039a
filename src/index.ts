/**
 * The public API of cvd-activity. Everything a user may import is listed here
 * by name; nothing else is public.
 */
export { setUser, setErrorCode, markActivity } from './audit/context';
export type { UserInfo, ActivityType } from './audit/context';
export type { AuditEvent, AuditSink, AuditActor, AuditSeverity, AuditOutcome, AuditPersonalData } from './audit/types';
export type { CvdActivityConfig, CvdActivityOptions } from './config/types';
