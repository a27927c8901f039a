/**
 * What the pipeline room offers the composition root and the CLI. The CLI
 * should import `spoolStatus` directly (it loads no OpenTelemetry).
 */
export { createAuditPipeline } from './createAuditPipeline';
export type { AuditPipelineHandle, CreateAuditPipelineOptions } from './createAuditPipeline';
export { AuditPipeline } from './AuditPipeline';
export type { AuditPipelineOptions, AuditWriterFactory, PipelineStatus } from './AuditPipeline';
export { AuditSpanProcessor } from './AuditSpanProcessor';
export { Spool } from './Spool';
export type { SpoolOptions, SpoolStatus } from './Spool';
export { readSpoolStatus } from './spoolStatus';
export type { SpoolFolderStatus, SpoolInstanceStatus } from './spoolStatus';
export { FlushTimeoutError, PipelineShutdownError, SpoolFullError, SpoolOpenError, SpoolWriteError } from './errors';
