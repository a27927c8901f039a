/** Audit events for tests: valid, distinct, with a recognisable sequence number in details. */
import { v7 as uuidv7 } from 'uuid';
import type { AuditEvent } from '../../src/audit/types';

/** The i-th test event of a run; `tag` names the producer (a process, a test). */
export function makeEvent(i: number, tag = 'test'): AuditEvent {
  return {
    v: 1,
    eventId: uuidv7(),
    occurredAt: new Date().toISOString(),
    action: 'PRICE_CHANGE',
    category: 'pricing',
    severity: 'high',
    outcome: 'success',
    reason: null,
    actor: { id: `user-${i % 17}`, roles: ['pricing-admin'], sessionId: 'sess-1', type: 'user' },
    resourceType: 'product',
    resourceId: `sku-${i}`,
    details: { tag, i, currency: 'EUR', note: 'x'.repeat(40) },
    oldValue: { price: 100 + i },
    newValue: { price: 101 + i },
    affectedRecords: 1,
    personal: { clientAddress: '203.0.113.7', userAgent: 'test-agent/1.0', fields: {} },
    traceId: null,
    spanId: null,
    serviceName: 'pipeline-test',
    schemaValid: true,
    schemaErrors: [],
  };
}
