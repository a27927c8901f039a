/**
 * Security finding 9: a user name such as `mallory\x1b[8m…` reached the
 * admin's terminal raw through `audit query` tables and `alerts check`.
 * Output of the real CLI process, captured: no control character but tab and
 * line ends, in any format, and JSON still gives back the stored value.
 */
import { expect } from 'chai';
import { escapeControl } from '../../src/cli/terminalText';
import { runCliProcess } from '../support/cli';
import { auditRecord, createAuditSchema } from '../support/auditStore';
import type { AuditSchema } from '../support/auditStore';

const HOSTILE = 'mallory\u001b[8mhidden\u009b2J\u0007\rroot';
const RAW_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|\r(?!\n)/;

describe('cli: control characters are escaped in every output (finding 9)', function () {
  this.timeout(60_000);
  let db: AuditSchema;
  const run = (...args: string[]) => runCliProcess(['--schema', db.schema, ...args], { CVD_ACTIVITY_DATABASE_URL: db.url });

  before(async () => {
    db = await createAuditSchema('escapes');
    const at = new Date(Date.now() - 60_000);
    await db.seed(Array.from({ length: 7 }, (_, i) => auditRecord({
      action: 'LOGIN_FAILED', at: new Date(at.getTime() + i * 1000), userId: null, outcome: 'failure', username: HOSTILE,
      clientAddress: '203.0.113.9', details: { attempt_count: i + 1, max_attempts: 5, limit_reached: i >= 4 },
    })));
  });
  after(async () => {
    await db?.drop();
  });

  it('escapeControl writes C0 (but tab and line ends), DEL and C1 as \\u escapes', () => {
    expect(escapeControl('a\u001b[8mb\u009bc\u007f\td\r\ne\rf')).to.equal('a\\u001b[8mb\\u009bc\\u007f\td\r\ne\\u000df');
  });

  for (const format of ['table', 'csv', 'json']) {
    it(`audit query --format ${format}`, async () => {
      const r = await run('audit', 'query', '--action', 'LOGIN_FAILED', '--format', format);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.include('mallory\\u001b[8mhidden\\u009b2J');
      expect(RAW_CONTROL.test(r.stdout), 'a raw control character was printed').to.equal(false);
      if (format === 'json') expect((JSON.parse(r.stdout) as Array<{ username: string }>)[0]!.username).to.equal(HOSTILE);
    });
  }

  it('alerts check, as text and as JSON', async () => {
    for (const format of ['table', 'json']) {
      const r = await run('alerts', 'check', '--format', format);
      expect(r.code).to.equal(1);
      expect(r.stdout).to.include('mallory\\u001b[8m');
      expect(RAW_CONTROL.test(r.stdout + r.stderr), 'a raw control character was printed').to.equal(false);
    }
  });
});
