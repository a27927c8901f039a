/**
 * The stored form of a SECURITY_ALERT for one firing, for writers that bypass
 * `audit.record()` (the CLI writing through the store's writer). Mirrors what
 * the action catalog would produce: category security, catalog severity
 * critical, details { rule, alert_severity, evidence }.
 */
import { v7 as uuidv7 } from 'uuid';
import { hostname } from 'node:os';
import type { AuditRecord } from '../store/types';
import { ACTIONS } from './auditVocabulary';
import { ALERTS_ACTOR_ID, securityAlertEvent } from './report';
import type { AlertFiring } from './types';

/** The AuditRecord of one firing, recorded now by the alerts job. */
export function securityAlertRecord(firing: AlertFiring, now: Date = new Date()): AuditRecord {
  const event = securityAlertEvent(firing);
  return {
    v: 1,
    eventId: uuidv7(),
    occurredAt: now.toISOString(),
    action: ACTIONS.securityAlert,
    category: 'security',
    severity: 'critical',
    outcome: 'success',
    reason: null,
    actor: { id: ALERTS_ACTOR_ID, roles: [], sessionId: null, type: 'system' },
    resourceType: event.resourceType,
    resourceId: event.resourceId,
    details: { ...event.details, evidence: { ...event.details.evidence, host: hostname() } },
    oldValue: null,
    newValue: null,
    affectedRecords: null,
    personal: { clientAddress: null, userAgent: null, fields: {} },
    traceId: null,
    spanId: null,
    serviceName: 'cvd-activity-cli',
    schemaValid: true,
    schemaErrors: [],
  };
}
