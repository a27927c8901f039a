/**
 * Security finding 5: failed-login counters were bounded in keys, not bytes:
 * 2,000 failures with 100 KB user names held ~192 MiB. Measured in a child
 * process with a 64 MiB heap: 3,000 such failures (300 MB of names) must
 * neither crash it nor keep more than a few MiB.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';

const ROOT = join(__dirname, '..', '..');

const CHILD = `
const { createAuditRecorder } = require(${JSON.stringify(join(ROOT, 'dist/audit/AuditRecorder.js'))});
const { ActionRegistry } = require(${JSON.stringify(join(ROOT, 'dist/audit/ActionRegistry.js'))});
const sink = { enqueue() {}, forceFlush: async () => {}, shutdown: async () => {} };
const recorder = createAuditRecorder({
  config: { serviceName: 'memory', audit: { strict: false, maxFieldBytes: 16384, maxEventBytes: 1048576, mirror: 'none', loginFailedWindowMs: 300000, loginMaxAttempts: 5 }, redaction: { fields: ['password'] } },
  sink, registry: new ActionRegistry(),
});
const filler = 'x'.repeat(100 * 1024);
gc();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < 3000; i++) {
  recorder.loginFailed({ username: i + filler, clientAddress: i + filler, reason: 'wrong password' });
}
gc();
process.stdout.write(JSON.stringify({ grownBytes: process.memoryUsage().heapUsed - before }));
`;

describe('audit: failed-login counters are bounded in bytes (finding 5)', function () {
  this.timeout(120_000);

  it('holds 3,000 failures with 100 KB names in a 64 MiB heap, keeping under 8 MiB', () => {
    const run = spawnSync(process.execPath, ['--max-old-space-size=64', '--expose-gc', '-e', CHILD], { encoding: 'utf8' });
    expect(run.status, run.stderr.slice(-2000)).to.equal(0);
    const { grownBytes } = JSON.parse(run.stdout) as { grownBytes: number };
    expect(grownBytes).to.be.below(8 * 1024 * 1024);
  });
});
