import { expect } from 'chai';
import type { DemoSummary } from '../../src/demo/run';
import { formatSummary } from '../../src/demo/summary';

function summary(failedLogins: DemoSummary['audit']['failedLogins']): DemoSummary {
  return {
    database: { kind: 'embedded', url: 'postgres://postgres:***@127.0.0.1:54329/cvd_demo', schema: 'cvd_activity' },
    durationMs: 30_000,
    simulator: { requests: 100, networkErrors: 0, largeExport: { records: 16_000, bytes: 400 * 1024 }, browser: { sessions: 4, events: 60, users: ['alice', 'mona'] } } as unknown as DemoSummary['simulator'],
    activity: { requests: 100, spansDropped: 5, spansSampledOut: 2, spansExported: 0, auditEventsRecorded: 30 } as unknown as DemoSummary['activity'],
    traces: { exporter: 'none', endpoint: null },
    audit: { total: 30, byCategory: { security: 24, device: 6 }, byAction: { LOGIN_FAILED: 24, DEVICE_CREATE: 6 }, schemaInvalid: 0, failedLogins },
    browser: { total: 60, byType: { vital: 42, page_view: 10, search: 8 }, users: ['alice', 'mona'] },
    verification: { ok: true, events: 30, message: '30 events on 2 hash chain(s) intact' },
    alerts: [],
    nextCommands: ['npx cvd-activity audit query --action LOGIN_FAILED'],
  };
}

describe('demo summary text', () => {
  it('counts every stored failed login per address, with the highest attempt count and the limit', () => {
    const burst = (n: number) => Array.from({ length: n }, (_, i) => ({ username: 'admin', clientAddress: '203.0.113.66', attemptCount: i + 1, maxAttempts: 5 }));
    const text = formatSummary(summary([...burst(12), ...burst(12), { username: 'bob', clientAddress: '198.51.100.7', attemptCount: 1, maxAttempts: 5 }]));
    expect(text).to.include('failed logins           24 from 203.0.113.66 for user admin, up to attempt 12 (the limit is 5)');
    expect(text).to.include('failed logins           1 from 198.51.100.7 for user bob, up to attempt 1 (the limit is 5)');
    expect(text).to.include('chain verification      OK: 30 events on 2 hash chain(s) intact');
    expect(text).to.include('browser events stored   60 from 4 web UI sessions of alice, mona');
    expect(text).to.include('  by type               vital 42, page_view 10, search 8');
    expect(text).to.match(/Next, try:\n {2}npx cvd-activity audit query --action LOGIN_FAILED\n$/);
  });
});
