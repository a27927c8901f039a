// handle.shutdown() from the app's side: in lenient mode (the default) an
// audit.record() made while the shutdown is under way must not throw into the
// app (README, audit/types.ts). It is reported as "cannot record after
// shutdown" with the whole event instead.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { FIXTURES, ROOT } from '../support/childApp';

describe('integration: audit.record() during handle.shutdown()', function () {
  this.timeout(30000);

  it('lenient mode: no throw into the app at any point of the shutdown; each late event is reported', () => {
    const spool = mkdtempSync(join(tmpdir(), 'cvd-shutdown-'));
    try {
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, CVD_ACTIVITY_SPOOL_DIR: spool };
      const run = spawnSync(process.execPath, [join(FIXTURES, 'record-during-shutdown.js')], { cwd: ROOT, env, encoding: 'utf8' });
      const line = /OUTCOMES (.*)/.exec(run.stdout);
      expect(line, `stdout: ${run.stdout}\nstderr: ${run.stderr}`).to.not.equal(null);
      const outcomes = JSON.parse(line![1]!) as Array<{ id?: string; threw?: string }>;
      expect(outcomes).to.have.length(3);
      for (const outcome of outcomes) expect(outcome.threw, 'record() threw into the app').to.equal(undefined);
      expect(run.stderr.match(/cannot record after shutdown/g) ?? []).to.have.length.of.at.least(3);
    } finally {
      rmSync(spool, { recursive: true, force: true });
    }
  });
});
