import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpoolFullError } from '../../src/pipeline/errors';
import { Spool } from '../../src/pipeline/Spool';
import type { SpoolOptions } from '../../src/pipeline/types';
import { safeHostname, segmentName } from '../../src/pipeline/spoolFiles';
import { makeEvent } from '../support/auditEvents';

/** A pid that ran and exited: its lock is a dead process's. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

function fakeInstance(dir: string, pid: number, host = safeHostname()): string {
  const instance = `${host}_${pid}_abcdef01`;
  writeFileSync(join(dir, `${instance}.lock`), JSON.stringify({ host, pid, startTime: null, createdAt: '' }));
  return instance;
}

describe('Spool', () => {
  let dir: string;
  const open = (o: Partial<SpoolOptions> = {}) => new Spool({ dir, maxBytes: 50 << 20, fsync: 'none', ...o });
  const segFiles = () => readdirSync(dir).filter((n) => n.endsWith('.seg'));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cvd-spool-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps events in order and deletes a segment only once all its events are committed', () => {
    const spool = open({ segmentMaxEvents: 10 });
    const events = Array.from({ length: 25 }, (_, i) => makeEvent(i));
    events.forEach((e) => spool.append(e));
    expect(segFiles()).to.have.length(3);
    expect(spool.peek(25).map((e) => e.eventId)).to.deep.equal(events.map((e) => e.eventId));
    spool.commit(9);
    expect(segFiles(), 'one event of the first segment is uncommitted').to.have.length(3);
    spool.commit(1);
    expect(segFiles()).to.have.length(2);
    spool.commit(15);
    expect(spool.empty).to.equal(true);
    expect(segFiles(), 'a drained spool keeps no segment').to.have.length(0);
    expect(spool.committedOwn).to.equal(25);
    spool.close();
  });

  it('holds at most maxInMemory events and reads the rest back from disk in order', () => {
    const spool = open({ maxInMemory: 10, segmentMaxEvents: 15 });
    // Multi-byte text (and a newline inside a string) read back from disk must come back as it went in.
    const events = Array.from({ length: 100 }, (_, i) => ({ ...makeEvent(i), reason: i % 3 === 0 ? `Preis geändert € 🍫\n${i}` : null }));
    events.forEach((e) => spool.append(e));
    expect(spool.inMemory).to.equal(10);
    expect(spool.spilled).to.equal(true);
    const seen: string[] = [];
    const reasons: Array<string | null> = [];
    while (!spool.empty) {
      const batch = spool.peek(7);
      expect(spool.inMemory).to.be.at.most(10);
      seen.push(...batch.map((e) => e.eventId));
      reasons.push(...batch.map((e) => e.reason));
      spool.commit(batch.length);
    }
    expect(seen).to.deep.equal(events.map((e) => e.eventId));
    expect(reasons).to.deep.equal(events.map((e) => e.reason));
    expect(segFiles()).to.have.length(0);
    spool.close();
  });

  it('recovers segments of a dead process, skipping a torn last line but none before it', () => {
    const dead = fakeInstance(dir, deadPid());
    const lines = [0, 1, 2].map((i) => JSON.stringify(makeEvent(i)) + '\n');
    writeFileSync(join(dir, segmentName(dead, 0)), lines.join(''));
    appendFileSync(join(dir, segmentName(dead, 0)), JSON.stringify(makeEvent(3)).slice(0, 57)); // killed mid-write
    writeFileSync(join(dir, segmentName(dead, 1)), JSON.stringify(makeEvent(4)) + '\n');
    const spool = open();
    expect(spool.status().recoveredSegments).to.equal(2);
    const got = spool.peek(100);
    expect(got.map((e) => (e.details as { i: number }).i)).to.deep.equal([0, 1, 2, 4]);
    expect(spool.status().skippedLines).to.equal(1);
    expect(readdirSync(dir).some((n) => n.startsWith(dead)), 'claimed files and the dead lock are renamed/removed').to.equal(false);
    spool.commit(got.length);
    expect(segFiles()).to.have.length(0);
    spool.close();
  });

  it('leaves the segments of a live process alone and claims orphans exactly once', () => {
    const live = fakeInstance(dir, process.pid); // this test process is alive
    writeFileSync(join(dir, segmentName(live, 0)), JSON.stringify(makeEvent(0)) + '\n');
    const orphan = `${safeHostname()}_${deadPid()}_0badc0de`; // no lock at all
    writeFileSync(join(dir, segmentName(orphan, 0)), JSON.stringify(makeEvent(1)) + '\n');
    const first = open();
    const second = open();
    expect(first.peek(10)).to.have.length(1);
    expect(second.peek(10), 'the second process finds nothing left to claim').to.have.length(0);
    expect(readdirSync(dir)).to.include(segmentName(live, 0));
    first.close();
    second.close();
  });

  it('adopts segments of a process that died after start-up, after the events already waiting', () => {
    const spool = open({ segmentMaxEvents: 1000 });
    const mine = [0, 1, 2].map((i) => makeEvent(i));
    mine.forEach((e) => spool.append(e));
    const dead = fakeInstance(dir, deadPid());
    const theirs = [10, 11].map((i) => makeEvent(i));
    writeFileSync(join(dir, segmentName(dead, 0)), theirs.map((e) => JSON.stringify(e) + '\n').join(''));
    expect(spool.adoptOrphans()).to.equal(1);
    expect(spool.adoptOrphans(), 'claimed once').to.equal(0);
    const later = makeEvent(20);
    spool.append(later);
    const order = [...mine, ...theirs, later].map((e) => e.eventId);
    expect(spool.peek(10).map((e) => e.eventId)).to.deep.equal(order);
    spool.commit(6);
    expect(spool.empty).to.equal(true);
    expect(segFiles()).to.have.length(0);
    spool.close();
  });

  it("with fsync 'always' the line is complete in the file when append returns", () => {
    const spool = open({ fsync: 'always' });
    const e = makeEvent(1);
    spool.append(e);
    const [file] = segFiles();
    expect(readFileSync(join(dir, file!), 'utf8')).to.equal(JSON.stringify(e) + '\n');
    spool.close();
  });

  it('goes on with the next segment when a spilled segment was deleted behind its back', () => {
    const spool = open({ maxInMemory: 2, segmentMaxEvents: 3 });
    const events = Array.from({ length: 9 }, (_, i) => makeEvent(i));
    events.forEach((e) => spool.append(e));
    const [, second] = segFiles().sort();
    rmSync(join(dir, second!)); // events 3..5
    const seen: number[] = [];
    while (!spool.empty) {
      const batch = spool.peek(2);
      seen.push(...batch.map((e) => (e.details as { i: number }).i));
      spool.commit(batch.length);
    }
    expect(seen).to.deep.equal([0, 1, 2, 6, 7, 8]);
    expect(spool.status().usedBytes, 'no phantom bytes left counted against spoolMaxBytes').to.equal(0);
    spool.close();
  });

  it('leaves uncommitted events for the next process after close()', () => {
    const a = open();
    const events = Array.from({ length: 5 }, (_, i) => makeEvent(i));
    events.forEach((e) => a.append(e));
    a.commit(2);
    a.close();
    const b = open();
    // The first two were committed but share the segment: replay re-sends them and the writer skips them by event id.
    expect(b.peek(10).map((e) => e.eventId)).to.deep.equal(events.map((e) => e.eventId));
    b.close();
  });

  it('refuses events with SpoolFullError when full, and accepts again once the backlog is committed', () => {
    const size = Buffer.byteLength(JSON.stringify(makeEvent(0)) + '\n');
    const spool = open({ maxBytes: size * 3 + 10 });
    for (let i = 0; i < 3; i++) spool.append(makeEvent(i));
    expect(() => spool.append(makeEvent(3))).to.throw(SpoolFullError).with.property('code', 'CVD_AUDIT_SPOOL_FULL');
    expect(spool.accepted).to.equal(3);
    expect(spool.status().refusedFull).to.equal(1);
    spool.commit(spool.peek(3).length);
    spool.append(makeEvent(4));
    expect(spool.peek(5)).to.have.length(1);
    spool.close();
  });
});
