/** Audit records for store tests: complete, valid, and each one distinct. */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { AuditRecord } from '../../src/store/types';
import { migrate } from '../../src/store/migrate';
import { createTestSchema } from './database';

let counter = 0;

/** A fully filled record; `overrides` replace top-level fields. */
export function auditRecord(overrides: Partial<AuditRecord> = {}): AuditRecord {
  counter += 1;
  return {
    v: 1,
    eventId: randomUUID(),
    occurredAt: new Date(Date.UTC(2026, 10, 25, 12, 0, 0, counter % 1000)).toISOString(),
    action: 'PRICE_CHANGE',
    category: 'business',
    severity: 'medium',
    outcome: 'success',
    reason: null,
    actor: { id: `user-${counter % 7}`, roles: ['admin', 'ops'], sessionId: `sess-${counter}`, type: 'user' },
    resourceType: 'product',
    resourceId: `P-${counter}`,
    details: { price: 1.5, currency: 'EUR', n: counter, nested: { b: [1, 'x', null], a: true } },
    oldValue: { price: 1.25 },
    newValue: { price: 1.5 },
    affectedRecords: 1,
    personal: { clientAddress: '203.0.113.7', userAgent: 'curl/8.5', fields: { username: 'alice' } },
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    serviceName: 'cvd-api',
    schemaValid: true,
    schemaErrors: [],
    ...overrides,
  };
}

/** A fixed HMAC key for tests. */
export const TEST_PII_KEY = Buffer.from('0123456789abcdef0123456789abcdef');

/** A migrated schema of its own, a pg client connected to it, and cleanup. */
export async function migratedSchema(prefix: string): Promise<{ url: string; schema: string; client: pg.Client; drop(): Promise<void> }> {
  const test = await createTestSchema(prefix);
  const client = new pg.Client({ connectionString: test.url });
  await client.connect();
  await migrate(client, { schema: test.schema });
  return {
    url: test.url,
    schema: test.schema,
    client,
    async drop() {
      await client.end().catch(() => {});
      await test.drop();
    },
  };
}
