import { expect } from 'chai';
import { formatCsv, formatDetails, formatJson, formatTable } from '../../src/cli/commands/format';
import type { AuditTrailRow } from '../../src/store/query';

function row(overrides: Partial<AuditTrailRow> = {}): AuditTrailRow {
  return {
    eventId: '0190a0b0-0000-7000-8000-000000000001', createdAt: new Date('2026-11-25T10:00:00.000Z'), recordedAt: new Date('2026-11-25T10:00:00.100Z'),
    action: 'LOGIN_FAILED', category: 'security', severity: 'high', outcome: 'failure', reason: 'bad_password',
    userId: null, userRole: null, sessionId: null, resourceType: 'user', resourceId: null,
    // As the audit_trail view returns it: the personal username merged back into details, keys in jsonb order.
    details: { username: 'admin', max_attempts: 5, limit_reached: true, attempt_count: 7, address_attempt_count: 7, padding: 'x'.repeat(300) },
    oldValue: null, newValue: null, affectedRecords: null, traceId: null, spanId: null, serviceName: 'cvd-demo-api',
    schemaValid: true, streamId: 'app', seq: 1, clientAddress: '203.0.113.66', userAgent: 'curl/8', username: 'admin',
    ...overrides,
  };
}

describe('audit query output formats', () => {
  it('puts the username and attempt counts of a failed login first in the details cell', () => {
    expect(formatDetails(row())).to.match(/^username=admin attempt=7\/5 address_attempts=7 LIMIT_REACHED padding=x+ reason=bad_password$/);
  });

  it('renders other details as key=value, quoting what has spaces and keeping objects as JSON', () => {
    expect(formatDetails(row({ reason: null, details: { note: 'two words', operation: 'delete', filters: { region: 'north' }, ok: false } })))
      .to.equal('operation=delete note="two words" filters={"region":"north"} ok=false');
    expect(formatDetails(row({ reason: null, details: {} }))).to.equal('-');
  });

  it('shows the client address and the leading details legibly even when the details are long', () => {
    const table = formatTable([row()]);
    const [header, line] = table.split('\n');
    expect(header).to.match(/^created_at\s+action\s+outcome\s+user\s+resource\s+client\s+details$/);
    expect(line).to.match(/LOGIN_FAILED\s+failure\s+-\s+user\s+203\.0\.113\.66\s+username=admin attempt=7\/5 address_attempts=7 /);
    expect(line!.endsWith('…')).to.equal(true);
    expect(table).to.match(/1 event\(s\)\n$/);
  });

  it('keeps json and csv complete', () => {
    const json = JSON.parse(formatJson([row()]));
    expect(json[0].details.padding).to.have.length(300);
    expect(json[0]).to.include({ client_address: '203.0.113.66', username: 'admin', reason: 'bad_password' });
    expect(formatCsv([row()])).to.include('x'.repeat(300));
  });
});
