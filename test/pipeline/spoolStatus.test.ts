import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/program';
import { Spool } from '../../src/pipeline/Spool';
import { readSpoolStatus } from '../../src/pipeline/spoolStatus';
import { safeHostname, segmentName } from '../../src/pipeline/spoolFiles';
import { makeEvent } from '../support/auditEvents';

describe('spool status', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'cvd-status-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('counts waiting events per process and tells live processes from dead ones', () => {
    const live = new Spool({ dir, maxBytes: 1 << 20, fsync: 'none' });
    for (let i = 0; i < 3; i++) live.append(makeEvent(i));
    const dead = `${safeHostname()}_999999999_deadbeef`; // no lock and no such pid
    writeFileSync(join(dir, segmentName(dead, 0)), [1, 2].map((i) => JSON.stringify(makeEvent(i)) + '\n').join(''));
    const s = readSpoolStatus(dir);
    expect(s.totalEvents).to.equal(5);
    const byId = new Map(s.instances.map((i) => [i.instance, i]));
    expect(byId.get(live.instance)).to.include({ state: 'live', segments: 1, events: 3 });
    expect(byId.get(dead)).to.include({ state: 'dead', segments: 1, events: 2 });
    live.close();
  });

  it('prints JSON with --format json (and --json)', async () => {
    for (const flag of [['--format', 'json'], ['--json']]) {
      let out = '';
      const stdout = { write: (text: string) => ((out += text), true) } as unknown as NodeJS.WritableStream;
      const code = await runCli(['node', 'cvd-activity', 'spool', 'status', '--dir', dir, ...flag], { stdout });
      expect(code).to.equal(0);
      expect(JSON.parse(out)).to.include({ dir, exists: true, totalEvents: 0 });
    }
  });

  it('exits 2 naming the setting when the configuration is invalid (not 4, internal error)', async () => {
    let err = '';
    const stderr = { write: (text: string) => ((err += text), true) } as unknown as NodeJS.WritableStream;
    const env = { ...process.env, CVD_ACTIVITY_NOISE_SAMPLE_RATIO: 'lots' };
    const code = await runCli(['node', 'cvd-activity', 'spool', 'status'], { stdout: stderr, stderr, env });
    expect(code, err).to.equal(2);
    expect(err).to.match(/^cvd-activity: .*noise.*sampleRatio/i);
  });

  it('runs as `cvd-activity spool status --dir` in the CLI', async () => {
    let out = '';
    const stdout = { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream;
    const code = await runCli(['node', 'cvd-activity', 'spool', 'status', '--dir', dir], { stdout });
    expect(code).to.equal(0);
    expect(out).to.match(/is empty/);
  });
});
