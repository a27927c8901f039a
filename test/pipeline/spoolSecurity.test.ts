/**
 * Security finding 8: spool files hold personal data in clear. The folder is
 * created 0700 and its files 0600; a folder others can write to is refused;
 * a planted segment named for another host, with no lock, is never claimed.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { SpoolOpenError } from '../../src/pipeline/errors';
import { Spool } from '../../src/pipeline/Spool';
import { segmentName } from '../../src/pipeline/spoolFiles';
import { makeEvent } from '../support/auditEvents';

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('Spool: file modes and claim rules (finding 8)', () => {
  let root: string;
  const open = (dir: string) => new Spool({ dir, maxBytes: 50 << 20, fsync: 'none' });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cvd-spool-sec-'));
    chmodSync(root, 0o755);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('creates the folder 0700 and its segments and lock 0600, whatever the umask', () => {
    const old = process.umask(0o000);
    try {
      const dir = join(root, 'app', 'spool');
      const spool = open(dir);
      spool.append(makeEvent(1));
      expect(modeOf(dir)).to.equal('700');
      for (const name of readdirSync(dir)) expect(modeOf(join(dir, name)), name).to.equal('600');
      spool.close();
    } finally {
      process.umask(old);
    }
  });

  it('tightens an existing folder of its own that others may read', () => {
    const dir = join(root, 'legacy');
    const spool = open(dir);
    spool.close();
    chmodSync(dir, 0o755);
    open(dir).close();
    expect(modeOf(dir)).to.equal('700');
  });

  it('refuses a folder other users can write to, naming the mode', () => {
    const dir = join(root, 'shared');
    open(dir).close();
    chmodSync(dir, 0o777);
    expect(() => open(dir)).to.throw(SpoolOpenError, /writable by other users \(mode 777\).*chmod 700/);
  });

  it('never claims a planted segment named for another host without a lock', () => {
    const dir = join(root, 'planted');
    open(dir).close();
    const planted = segmentName('other-host.example_4242_0badc0de', 0);
    writeFileSync(join(dir, planted), JSON.stringify(makeEvent(7)) + '\n');
    const spool = open(dir);
    expect(spool.peek(10)).to.have.length(0);
    expect(readdirSync(dir)).to.include(planted);
    spool.close();
  });
});
