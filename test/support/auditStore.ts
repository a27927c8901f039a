/**
 * A migrated audit schema for tests that read the trail (alerts, dashboards),
 * and a way to seed it with events.
 * TEMPORARY: until the store branch is merged, the schema is the
 * audit_trail contract shape from auditTrailFixture.sql and seeding is a
 * plain INSERT; afterwards it is the store's migrate() and writer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { AuditRecord } from '../../src/store/types';
import { createTestSchema } from './database';

/** A test schema holding the audit tables, with a pool and a seeder. */
export interface AuditSchema {
  url: string;
  schema: string;
  pool: pg.Pool;
  /** Stores these events as the app's pipeline would. */
  seed(records: readonly AuditRecord[]): Promise<void>;
  drop(): Promise<void>;
}

/** Creates the audit tables in a fresh schema. */
export async function createAuditSchema(prefix = 'alerts'): Promise<AuditSchema> {
  const t = await createTestSchema(prefix);
  const pool = new pg.Pool({ connectionString: t.url, max: 3 });
  const fixture = readFileSync(join(__dirname, 'auditTrailFixture.sql'), 'utf8');
  const client = await pool.connect();
  try {
    await client.query(`CREATE SCHEMA "${t.schema}"; SET search_path = "${t.schema}";`);
    await client.query(fixture);
  } finally {
    await client.query('RESET search_path').catch(() => {});
    client.release();
  }
  let seq = 0;
  return {
    url: t.url,
    schema: t.schema,
    pool,
    async seed(records) {
      for (const r of records) {
        seq += 1;
        await pool.query(
          `INSERT INTO "${t.schema}".audit_trail (event_id, created_at, action, category, severity, outcome, reason, user_id, user_role,
             session_id, resource_type, resource_id, details, old_value, new_value, affected_records, trace_id, span_id, service_name,
             schema_valid, stream_id, seq, client_address, user_agent, username)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,'test',$21,$22,$23,$24)`,
          [r.eventId, r.occurredAt, r.action, r.category, r.severity, r.outcome, r.reason, r.actor.id, r.actor.roles.join(',') || null,
           r.actor.sessionId, r.resourceType, r.resourceId, { ...r.details, ...r.personal.fields }, JSON.stringify(r.oldValue ?? null),
           JSON.stringify(r.newValue ?? null), r.affectedRecords, r.traceId, r.spanId, r.serviceName, r.schemaValid, seq,
           r.personal.clientAddress, r.personal.userAgent, r.personal.fields.username ?? null],
        );
      }
    },
    async drop() {
      await pool.end();
      await t.drop();
    },
  };
}

/** What a test says about one event; everything else gets a plausible default. */
export interface EventSpec {
  action: string;
  at: Date;
  userId?: string | null;
  category?: string;
  severity?: string;
  outcome?: 'success' | 'failure';
  resourceType?: string | null;
  resourceId?: string | null;
  details?: Record<string, unknown>;
  oldValue?: unknown;
  newValue?: unknown;
  affectedRecords?: number | null;
  clientAddress?: string | null;
  /** Personal detail field `username` (LOGIN_FAILED). */
  username?: string;
  serviceName?: string;
}

/** An AuditRecord as the audit pipeline hands it to the store. */
export function auditRecord(spec: EventSpec): AuditRecord {
  return {
    v: 1,
    eventId: randomUUID(),
    occurredAt: spec.at.toISOString(),
    action: spec.action,
    category: spec.category ?? 'security',
    severity: spec.severity ?? 'medium',
    outcome: spec.outcome ?? 'success',
    reason: spec.outcome === 'failure' ? 'test failure' : null,
    actor: { id: spec.userId === undefined ? 'user-1' : spec.userId, roles: ['operator'], sessionId: 'sess-1', type: spec.userId === null ? 'anonymous' : 'user' },
    resourceType: spec.resourceType ?? null,
    resourceId: spec.resourceId ?? null,
    details: spec.details ?? {},
    oldValue: spec.oldValue ?? null,
    newValue: spec.newValue ?? null,
    affectedRecords: spec.affectedRecords ?? null,
    personal: {
      clientAddress: spec.clientAddress ?? '10.0.0.1',
      userAgent: 'test-agent/1.0',
      fields: spec.username === undefined ? {} : { username: spec.username },
    },
    traceId: 'a'.repeat(32),
    spanId: 'b'.repeat(16),
    serviceName: spec.serviceName ?? 'cvd-api',
    schemaValid: true,
    schemaErrors: [],
  };
}
