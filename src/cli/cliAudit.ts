/**
 * The CLI's own audit events: reading the trail is itself audited
 * (VIEW_USER_ACTIVITY, or DATA_EXPORT for json/csv exports). The recorder is
 * injectable; the default writes through the store's writer on the stream
 * `cli@<host>`, shared by all CLI runs on a host (its head lock serializes them).
 * Interim: the lead routes this through the audit catalog after merging.
 */
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { createPgAuditWriter } from '../store/index';
import type { AuditRecord } from '../store/index';
import type { CliConnection } from './connection';

/** What the CLI did that must be audited. */
export interface CliAuditEvent {
  action: 'VIEW_USER_ACTIVITY' | 'DATA_EXPORT';
  severity: 'medium' | 'high';
  resourceType: string;
  resourceId: string | null;
  details: Record<string, unknown>;
  affectedRecords: number;
}

/** Stores one CLI audit event durably before the command shows anything; throws if it cannot. */
export type CliAuditRecorder = (event: CliAuditEvent, conn: CliConnection) => Promise<void>;

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** The AuditRecord of a CLI event. */
export function cliAuditRecord(event: CliAuditEvent, now = new Date()): AuditRecord {
  return {
    v: 1,
    eventId: uuidv7(),
    occurredAt: now.toISOString(),
    action: event.action,
    category: 'audit',
    severity: event.severity,
    outcome: 'success',
    reason: null,
    actor: { id: `os:${osUser()}`, roles: [], sessionId: null, type: 'user' },
    resourceType: event.resourceType,
    resourceId: event.resourceId,
    details: { ...event.details, tool: 'cvd-activity', host: hostname() },
    oldValue: null,
    newValue: null,
    affectedRecords: event.affectedRecords,
    personal: { clientAddress: null, userAgent: null, fields: {} },
    traceId: null,
    spanId: null,
    serviceName: 'cvd-activity-cli',
    schemaValid: true,
    schemaErrors: [],
  };
}

/** Default recorder: one batch of one event on the host's CLI stream. */
export const recordWithStoreWriter: CliAuditRecorder = async (event, conn) => {
  const pool = new pg.Pool({ ...conn.config, max: 1 });
  pool.on('error', () => {});
  // CLI events carry no personal data, so the HMAC key is never used: a random one will do.
  const writer = createPgAuditWriter({ pool, schema: conn.schema, streamId: `cli@${hostname()}`, piiKey: randomBytes(32) });
  try {
    await writer.writeBatch([cliAuditRecord(event)]);
  } finally {
    await writer.close();
    await pool.end();
  }
};
