/**
 * The extension point of `start()`: parts of the product that hook into the
 * SDK's lifecycle. The composition root fills this in; start() wires whatever
 * it returns between our enrichment processor and the exporter.
 *
 * The audit pipeline plugs in here: its SpanProcessor goes into
 * `spanProcessors` (the SDK then calls its forceFlush/shutdown on flush, exit
 * signals and handle.shutdown()), and the audit recorder is installed on its
 * sink before the app handles its first request.
 */
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { installAuditSink } from './audit/audit';
import { pgEnvironmentConfigured } from './config/database';
import { resolvePiiKey } from './config/piiKey';
import type { CvdActivityConfig } from './config/types';
import { createAuditPipeline } from './pipeline/createAuditPipeline';
import type { AuditWriterFactory } from './pipeline/types';
import type { AuditWriter } from './store/types';

/** Something with buffered work that must be flushed and shut down with the SDK (flushed after the span processors). */
export interface LifecycleParticipant {
  /** Shown in diag messages when it fails. */
  name: string;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
  /** Whether work is buffered; lets beforeExit flush again after the first time only when there is something to flush. */
  hasPending?(): boolean;
  /** Takes in the app's work (the audit recorder): shut down before the SDK, so nothing reaches a closed pipeline. */
  closesIntake?: boolean;
}

/** What the composition root adds to start(). */
export interface StartParts {
  /** Span processors run after enrichment (attributes are final in onEnd) and before the OTLP exporter. */
  spanProcessors: SpanProcessor[];
  /** Non-span work flushed by handle.forceFlush(), exit signals and beforeExit, and shut down by handle.shutdown(). */
  participants: LifecycleParticipant[];
}

/** Builds the extra parts for a validated config. Throwing here is reported in one stderr line; tracing still starts. */
export type StartPartsBuilder = (config: CvdActivityConfig) => StartParts;

/**
 * The parts every start() adds: the audit pipeline (spool → Postgres) as a
 * span processor, so NodeSDK's flush and shutdown cover audit writes, and the
 * audit recorder installed on it, so `audit.record()` enqueues into the spool.
 * Without a configured database the events stay spooled on disk (one diag
 * warning, from the pipeline) until a process that has one drains them.
 */
export const buildStartParts: StartPartsBuilder = (config) => auditPipelineParts(config, auditWriterFactory(config));

/** The audit pipeline without a database: events are only spooled (used when the configuration is invalid). */
export const buildSpoolOnlyParts: StartPartsBuilder = (config) => auditPipelineParts(config, null);

function auditPipelineParts(config: CvdActivityConfig, writerFactory: AuditWriterFactory | null): StartParts {
  const pipeline = createAuditPipeline(config, { writerFactory });
  const recorder = installAuditSink(pipeline.sink, config);
  return { spanProcessors: [pipeline.spanProcessor], participants: [{
    name: recorder.name, forceFlush: () => recorder.forceFlush(), shutdown: () => recorder.shutdown(), closesIntake: true,
  }] };
}

/** The Postgres writer for this process's stream (migrating first when autoMigrate is on), or null without a database. */
function auditWriterFactory(config: CvdActivityConfig): AuditWriterFactory | null {
  const db = config.database;
  // The pipeline warns (once, naming the spool folder) when it gets no writer.
  if (db.url === null && !pgEnvironmentConfigured()) return null;
  const piiKey = resolvePiiKey(db.piiKey, config.pipeline.spoolDir);
  const connectionString = db.url ?? undefined;
  let migrated = false;
  return async ({ streamId, runQuietly, onBackgroundError }): Promise<AuditWriter> => {
    // pg and the store load here, on the first batch, not on the way to the app's first request.
    const pg = require('pg') as typeof import('pg');
    const { migrate } = require('./store/migrate') as typeof import('./store/migrate');
    const { createPgAuditWriter } = require('./store/PgAuditWriter') as typeof import('./store/PgAuditWriter');
    // Retried by the pipeline with backoff until Postgres is reachable.
    if (db.autoMigrate && !migrated) {
      const client = new pg.Client({ connectionString, application_name: 'cvd-activity-migrate' });
      await client.connect();
      try {
        await migrate(client, { schema: db.schema });
        migrated = true;
      } finally {
        await client.end().catch(() => {});
      }
    }
    return createPgAuditWriter({ connectionString, schema: db.schema, streamId, piiKey, runQuietly, onBackgroundError });
  };
}
