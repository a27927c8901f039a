/**
 * What the store room offers the rest of the package (pipeline, CLI, alerts,
 * composition root). Loads only `pg`: no OpenTelemetry, for a fast CLI.
 */
export { createPgAuditWriter } from './PgAuditWriter';
export { migrate, DEFAULT_ROLES } from './migrate';
export type { MigrateOptions, MigrateResult, AuditRoles } from './migrate';
export { verifyChain } from './verify';
export type { VerifyOptions, VerifyResult, VerifyProgress, StreamVerdict, ChainProblem, ChainProblemKind } from './verify';
export { takeCheckpoint, CheckpointRefusedError } from './checkpoint/takeCheckpoint';
export type { TakeCheckpointOptions, TakeCheckpointResult, NewLeaves } from './checkpoint/takeCheckpoint';
export { verifyCheckpoints } from './checkpoint/verifyCheckpoints';
export type { VerifyCheckpointsOptions, VerifyCheckpointsResult } from './checkpoint/verifyCheckpoints';
export type { CheckpointFile, CheckpointProblem, CheckpointProblemKind } from './checkpoint/checkpointChain';
export { makeProof, verifyProof, ProofError, PROOF_FORMAT } from './checkpoint/proof';
export type { InclusionProof, ProvenEvent } from './checkpoint/proof';
export { formatCheckpoint, parseCheckpoint, checkpointFileHash } from './checkpoint/checkpointText';
export type { Checkpoint, CheckpointStream } from './checkpoint/checkpointText';
export { generateSignerKey, parseSignerKey, parseVerifierKey, signNote, openNote, NoteFormatError } from './checkpoint/signedNote';
export type { NoteSigner, NoteVerifier } from './checkpoint/signedNote';
export { queryAuditTrail, AUDIT_TRAIL_COLUMNS } from './query';
export type { AuditQuery, AuditTrailRow } from './query';
export { dropPartitionsBefore, erasePersonalData } from './retention';
export type { RetentionOptions, RetentionResult, ErasureOptions } from './retention';
export { applyRetention, planRetention, DEFAULT_RETENTION_POLICY } from './retentionClasses';
export type { RetentionPlan, RetentionPolicy, RetentionRunOptions, RetentionClass, PartitionDrop } from './retentionClasses';
export { verifyArchive, listArchiveFiles } from './archiveRead';
export type { ArchiveVerifyResult, ArchiveFileVerdict, ArchiveFile } from './archiveRead';
export { queryWithArchive } from './archiveQuery';
export type { ArchiveManifest, ArchiveRun } from './archiveWrite';
export { exportDataSubject, dataSubjectCondition } from './dataSubject';
export type { DataSubjectExportOptions, DataSubjectEvent } from './dataSubject';
export { DEFAULT_SCHEMA } from './identifiers';
export {
  StoreError, StoreUnavailableError, StoreSchemaMissingError, StorePermissionError, StoreDataError,
  AppendOnlyViolationError, APPEND_ONLY_SQLSTATE, toStoreError,
} from './errors';
export type { AuditRecord, AuditWriter, BatchResult, PgAuditWriterOptions } from './types';
