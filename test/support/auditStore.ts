/**
 * A migrated audit schema for tests that read the trail (alerts, dashboards),
 * and a way to seed it with events: the store's own migrate() and its
 * hash-chained writer, so seeded rows are exactly what the app would store
 * and the chains stay valid.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createPgAuditWriter, migrate } from '../../src/store/index';
import type { AuditRecord } from '../../src/store/types';
import { createTestSchema } from './database';

/** A test schema holding the audit tables, with a pool and a seeder. */
export interface AuditSchema {
  url: string;
  schema: string;
  pool: pg.Pool;
  /** Stores these events through the store's writer (one batch, one stream). */
  seed(records: readonly AuditRecord[]): Promise<void>;
  drop(): Promise<void>;
}

/** The HMAC key the seeder's writer uses. */
export const SEED_PII_KEY = Buffer.from('dashboards-test-pii-key-0123456789');

/** Migrates a fresh schema with the store's migrations. */
export async function createAuditSchema(prefix = 'alerts'): Promise<AuditSchema> {
  const t = await createTestSchema(prefix);
  const pool = new pg.Pool({ connectionString: t.url, max: 3 });
  const client = await pool.connect();
  try {
    await migrate(client, { schema: t.schema });
  } finally {
    client.release();
  }
  const writer = createPgAuditWriter({ pool, schema: t.schema, streamId: `test-${randomUUID()}`, piiKey: SEED_PII_KEY });
  return {
    url: t.url,
    schema: t.schema,
    pool,
    async seed(records) {
      const result = await writer.writeBatch(records);
      if (result.inserted !== records.length) throw new Error(`seeded ${result.inserted} of ${records.length} events`);
    },
    async drop() {
      await writer.close();
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
