import { expect } from 'chai';
import { Command } from 'commander';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spoolCommands } from '../../src/cli/commands/spool';
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

  it('registers `spool status --json` on a commander program', async () => {
    const program = new Command().exitOverride();
    spoolCommands({ spoolDir: () => dir })(program);
    let out = '';
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
    try {
      await program.parseAsync(['node', 'cvd-activity', 'spool', 'status', '--json']);
    } finally {
      process.stdout.write = write;
    }
    expect(JSON.parse(out)).to.include({ dir, exists: true, totalEvents: 0 });
  });

  it('runs as `cvd-activity spool status --dir` in the CLI', async () => {
    let out = '';
    const stdout = { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream;
    const code = await runCli(['node', 'cvd-activity', 'spool', 'status', '--dir', dir], { stdout });
    expect(code).to.equal(0);
    expect(out).to.match(/is empty/);
  });
});
