/**
 * The CLI's own audit events: reading the trail is itself audited
 * (VIEW_USER_ACTIVITY / VIEW_ACTIVITY_MONITOR, DATA_EXPORT for json/csv and GDPR
 * exports, PERSONAL_DATA_ERASURE for `gdpr erase`, AUDIT_IMPORT, RETENTION_APPLY),
 * `alerts check --record` stores SECURITY_ALERTs and `audit checkpoint` an
 * AUDIT_CHECKPOINT. They go through
 * the audit catalog (createAuditRecorder, strict: category, severity and schema
 * come from the one source of truth) into a sink that writes through the
 * store's writer on the stream `cli@<host>`, shared by all CLI runs on a host
 * (its head lock serializes them). `flush` resolves once they are committed.
 */
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import pg from 'pg';
import type { ActorOverride, RecordFields } from '../audit/index';
import type { AuditEvent, AuditSink } from '../audit/types';
import { defaultConfig } from '../config/defaults';
import { createPgAuditWriter } from '../store/index';
import type { CliConnection } from './connection';

/** Actions the CLI records about itself. */
export type CliAction = 'VIEW_USER_ACTIVITY' | 'VIEW_ACTIVITY_MONITOR' | 'DATA_EXPORT' | 'SECURITY_ALERT' | 'AUDIT_CHECKPOINT'
  | 'PERSONAL_DATA_ERASURE' | 'AUDIT_IMPORT' | 'RETENTION_APPLY';

/** One CLI audit event: an action and its `record()` fields (typed by the catalog). */
export type CliAuditEvent = { [A in CliAction]: { action: A; fields: RecordFields<A> } }[CliAction];

/** Stores CLI audit events durably (all or none) before the command shows anything; throws if it cannot. `piiKey`: the configured HMAC key. */
export type CliAuditRecorder = (events: readonly CliAuditEvent[], conn: CliConnection, piiKey?: Buffer | null) => Promise<void>;

/** The operating-system user running the CLI: the actor of its reads. */
export function cliActor(): ActorOverride {
  let name: string;
  try {
    name = userInfo().username;
  } catch {
    name = 'unknown';
  }
  return { id: `os:${name}`, type: 'user' };
}

/** An AuditSink that writes through the store's writer: enqueue collects, forceFlush commits one batch. */
class StoreWriterSink implements AuditSink {
  private pending: AuditEvent[] = [];
  private readonly pool: pg.Pool;
  private readonly writer: ReturnType<typeof createPgAuditWriter>;

  constructor(conn: CliConnection, piiKey: Buffer | null) {
    this.pool = new pg.Pool({ ...conn.config, max: 1 });
    this.pool.on('error', () => {}); // an idle connection dropping surfaces in the next query
    // SECURITY_ALERT carries personal data (who fired): its HMAC must use the configured key, so
    // `audit verify` with that key checks it. With none configured nobody can check any HMAC,
    // and a key of this run alone is as good as any.
    this.writer = createPgAuditWriter({ pool: this.pool, schema: conn.schema, streamId: `cli@${hostname()}`, piiKey: piiKey ?? randomBytes(32) });
  }

  enqueue(event: AuditEvent): void {
    this.pending.push(event);
  }

  async forceFlush(): Promise<void> {
    const batch = this.pending.splice(0);
    if (batch.length > 0) await this.writer.writeBatch(batch);
  }

  async shutdown(): Promise<void> {
    try {
      await this.forceFlush();
    } finally {
      await this.writer.close().catch(() => {});
      await this.pool.end().catch(() => {});
    }
  }
}

/** Builds events with the catalog (strict: a wrong field is a bug of ours and throws) into `sink`. */
export function recordCliEvents(events: readonly CliAuditEvent[], sink: AuditSink): void {
  // Loaded on first use: the catalog (and @opentelemetry/api) costs start-up time that
  // commands which record nothing (--help, verify, migrate) should not pay.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createAuditRecorder } = require('../audit/index') as typeof import('../audit/index');
  const config = defaultConfig();
  const recorder = createAuditRecorder({
    config: { serviceName: 'cvd-activity-cli', audit: { ...config.audit, strict: true, mirror: 'none' }, redaction: config.redaction },
    sink,
  });
  for (const e of events) recorder.record(e.action, { actor: cliActor(), ...e.fields });
}

/** Default recorder: the events, built by the catalog, committed as one batch on the host's CLI stream. */
export const recordWithStoreWriter: CliAuditRecorder = async (events, conn, piiKey = null) => {
  const sink = new StoreWriterSink(conn, piiKey);
  try {
    recordCliEvents(events, sink);
    await sink.forceFlush();
  } finally {
    await sink.shutdown();
  }
};
