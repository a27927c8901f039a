import { expect } from 'chai';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendLine } from '../../src/pipeline/segmentLines';
import { SpillReader } from '../../src/pipeline/SpillReader';

interface Seg {
  path: string;
  bytes: number;
}

describe('SpillReader and appendLine (spool segment lines)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cvd-spill-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const segment = (name: string, text: string): Seg => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return { path, bytes: Buffer.byteLength(text) };
  };

  /** Reads everything, `room` lines per call, as `segment:line[:torn]`. */
  const readAll = (reader: SpillReader<Seg>, segs: Seg[], room: number) => {
    const got: string[] = [];
    const next = (s: Seg) => segs[segs.indexOf(s) + 1];
    let calls = 0;
    while (reader.active && calls++ < 100) {
      reader.read(room, next, (line, seg, torn) => {
        got.push(`${seg.path.slice(dir.length + 1)}:${line}${torn ? ':torn' : ''}`);
        return true;
      });
    }
    return got;
  };

  it('hands back whole lines in order across segments, at most `room` per call, with lines longer than its chunk', () => {
    const long = 'é'.repeat(40); // 80 bytes, multi-byte characters, 5x the first chunk
    const segs = [segment('a', `one\n${long}\nthree\n`), segment('b', 'four\nfive\n')];
    const reader = new SpillReader<Seg>(16);
    reader.startAt(segs[0]!, 0);
    const first: string[] = [];
    reader.read(2, (s) => segs[segs.indexOf(s) + 1], (line) => first.push(line) > 0);
    expect(first, 'the first call stops at room = 2').to.deep.equal(['one', long]);
    expect(readAll(reader, segs, 2)).to.deep.equal(['a:three', 'b:four', 'b:five']);
    expect(reader.active, 'caught up: no read position left').to.equal(false);
  });

  it('passes an unterminated last line as torn, and does not count skipped lines against the room', () => {
    const segs = [segment('a', 'bad\nok-1\nbad\nok-2\nhalf-writ')];
    const reader = new SpillReader<Seg>();
    reader.startAt(segs[0]!, 0);
    let kept = 0;
    reader.read(2, () => undefined, (line) => (line.startsWith('ok') ? ++kept > 0 : false));
    expect(kept, 'two good lines despite the skipped ones before them').to.equal(2);
    expect(readAll(reader, segs, 5)).to.deep.equal(['a:half-writ:torn']);
  });

  it('keeps the first read position when asked to start again (what waits on disk first is read first)', () => {
    const segs = [segment('a', 'x\ny\n'), segment('b', 'z\n')];
    const reader = new SpillReader<Seg>();
    reader.startAt(segs[0]!, 2);
    reader.startAt(segs[1]!, 0);
    expect(reader.segment).to.equal(segs[0]);
    expect(readAll(reader, segs, 10)).to.deep.equal(['a:y', 'b:z']);
  });

  it('returns the bytes of a file shorter than counted, and of one deleted behind its back', () => {
    const segs = [segment('a', 'x\ny\n'), segment('b', 'z\n')];
    segs[0]!.bytes += 10; // the spool believes 10 more bytes were written
    segs[1]!.bytes = 2;
    rmSync(segs[1]!.path);
    const reader = new SpillReader<Seg>();
    reader.startAt(segs[0]!, 0);
    const lines: string[] = [];
    const lost = reader.read(10, (s) => segs[segs.indexOf(s) + 1], (line) => lines.push(line) > 0);
    expect(lines).to.deep.equal(['x', 'y']);
    expect(lost).to.equal(12);
    expect(segs.map((s) => s.bytes)).to.deep.equal([4, 0]);
    expect(reader.active).to.equal(false);
  });

  it('appendLine writes the whole line, and on a failed write leaves the file as it was and throws', () => {
    const path = join(dir, 'seg');
    const fd = openSync(path, 'a');
    appendLine(fd, 'héllo\n', 7, 0, true);
    closeSync(fd);
    expect(readFileSync(path, 'utf8')).to.equal('héllo\n');
    const readOnly = openSync(path, 'r');
    try {
      expect(() => appendLine(readOnly, 'more\n', 5, 7, false)).to.throw(/EBADF/);
    } finally {
      closeSync(readOnly);
    }
    expect(statSync(path).size).to.equal(7);
  });
});
