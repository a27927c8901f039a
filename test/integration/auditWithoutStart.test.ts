// audit.record() in a process where cvd-activity never started: no id for an
// event that is not on disk. And a started process that ends with events not
// yet in the database says, in one stderr line, how many and where they wait.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, ROOT } from '../support/childApp';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runScript(flags: string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(OTEL_|CVD_ACTIVITY_|PG|NODE_OPTIONS$)/.test(k)));
  return new Promise((resolve) => {
    execFile(process.execPath, [...flags, join(FIXTURES, 'record-script.js')], { cwd: ROOT, env: { ...clean, OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (err as { code?: number }).code ?? null : 0, stdout, stderr });
    });
  });
}

describe('audit without start()', function () {
  this.timeout(30000);
  let spool: string;

  beforeEach(() => {
    spool = mkdtempSync(join(tmpdir(), 'cvd-nostart-'));
  });
  afterEach(() => rmSync(spool, { recursive: true, force: true }));

  it('refuses record() with a clear error, returns no id and leaves nothing behind, in a script with no flag and no start()', async () => {
    const ran = await runScript([], { CVD_ACTIVITY_SPOOL_DIR: spool });
    expect(ran.stdout).to.match(/^REFUSED ERR_AUDIT_NOT_STARTED: audit\.record\('CONFIG_CHANGE'\): cvd-activity is not started/);
    expect(ran.stdout).to.not.include('RECORDED');
    expect(ran.code).to.equal(2);
    expect(readdirSync(spool)).to.deep.equal([]);
  });

  it('under the flag without a database, ends with one stderr line saying how many events wait and where', async () => {
    const ran = await runScript(['--require', join(ROOT, 'dist', 'register.js')], { CVD_ACTIVITY_SPOOL_DIR: spool });
    expect(ran.stdout).to.match(/^RECORDED [0-9a-f-]{36}/);
    expect(ran.code).to.equal(0);
    const lines = ran.stderr.split('\n').filter((l) => l.includes('not yet stored'));
    expect(lines).to.deep.equal([`cvd-activity: 1 audit event(s) not yet stored in the database at exit; kept in the spool ${spool} for the next process started with that folder to store`]);
    expect(existsSync(spool) && readdirSync(spool).length).to.be.greaterThan(0);
  });
});
