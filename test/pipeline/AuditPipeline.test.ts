import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditPipeline } from '../../src/pipeline/AuditPipeline';
import type { AuditWriterFactory } from '../../src/pipeline/types';
import { FlushTimeoutError, PipelineShutdownError } from '../../src/pipeline/errors';
import { Spool } from '../../src/pipeline/Spool';
import type { AuditRecord, AuditWriter, BatchResult } from '../../src/store/types';
import { makeEvent } from '../support/auditEvents';
import { createTestSchema } from '../support/database';
import { pollUntil } from '../support/poll';
import { TableWriter, storedEvents, tableWriterFactory } from '../support/TableWriter';

/** Wraps a real writer to count calls and overlap, and to inject failures before or after the real commit. */
function instrumented(factory: AuditWriterFactory) {
  const probe = { calls: 0, active: 0, maxActive: 0, failBefore: 0, failAfterCommit: 0, batchSizes: [] as number[] };
  const wrapped: AuditWriterFactory = async (o) => {
    const inner = await factory(o);
    const writer: AuditWriter = {
      streamId: inner.streamId,
      async writeBatch(records: readonly AuditRecord[]): Promise<BatchResult> {
        probe.calls += 1;
        probe.active += 1;
        probe.maxActive = Math.max(probe.maxActive, probe.active);
        try {
          if (probe.failBefore > 0 && probe.failBefore--) throw new Error('injected failure before commit');
          const result = await inner.writeBatch(records);
          probe.batchSizes.push(records.length);
          // The commit happened but its acknowledgement is "lost": the pipeline must retry and the replay must be deduped.
          if (probe.failAfterCommit > 0 && probe.failAfterCommit--) throw new Error('injected failure after commit');
          return result;
        } finally {
          probe.active -= 1;
        }
      },
      close: () => inner.close(),
    };
    return writer;
  };
  return { probe, factory: wrapped };
}

describe('AuditPipeline (real Postgres)', function () {
  this.timeout(60_000);
  let dir: string;
  let db: Awaited<ReturnType<typeof createTestSchema>>;
  let realFactory: AuditWriterFactory;
  const pipelines: AuditPipeline[] = [];

  const start = (factory: AuditWriterFactory | null, o: Partial<{ batchSize: number; maxInMemory: number; fsync: 'none' | 'batch' | 'always' }> = {}) => {
    const spool = new Spool({ dir, maxBytes: 64 << 20, fsync: o.fsync ?? 'none', maxInMemory: o.maxInMemory ?? 10_000 });
    const p = new AuditPipeline({
      spool,
      writerFactory: factory,
      streamId: spool.instance,
      batchSize: o.batchSize ?? 100,
      batchDelayMs: 20,
      retryMaxDelayMs: 200,
      retryBaseDelayMs: 20,
      spoolFsync: o.fsync ?? 'none',
      shutdownTimeoutMs: 3_000,
    });
    pipelines.push(p);
    return p;
  };
  const ids = async () => (await storedEvents(db.url, db.schema)).map((r) => r.eventId);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cvd-pipe-'));
    db = await createTestSchema('pipe');
    realFactory = await tableWriterFactory(db.url, db.schema);
  });
  afterEach(async () => {
    for (const p of pipelines.splice(0)) await p.shutdown();
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  });

  it('writes every event once, in order, in batches of at most batchSize, one batch at a time', async () => {
    const { probe, factory } = instrumented(realFactory);
    const p = start(factory, { batchSize: 100, fsync: 'batch' });
    const events = Array.from({ length: 1050 }, (_, i) => makeEvent(i));
    events.forEach((e) => p.enqueue(e));
    await p.forceFlush();
    expect(await ids()).to.deep.equal(events.map((e) => e.eventId));
    expect(Math.max(...probe.batchSizes)).to.be.at.most(100);
    expect(probe.maxActive).to.equal(1);
    expect(readdirSync(dir).filter((n) => n.endsWith('.seg')), 'committed segments are deleted').to.have.length(0);
  });

  it('sends a partial batch after batchDelayMs without any flush', async () => {
    const p = start(realFactory, { batchSize: 1000 });
    const e = makeEvent(1);
    p.enqueue(e);
    const deadline = Date.now() + 20_000;
    while (!(await ids()).includes(e.eventId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await ids()).to.deep.equal([e.eventId]);
  });

  it('retries failed batches and stores every event exactly once, also when a commit was not acknowledged', async () => {
    const { probe, factory } = instrumented(realFactory);
    probe.failBefore = 3;
    probe.failAfterCommit = 2;
    const p = start(factory, { batchSize: 50 });
    const events = Array.from({ length: 400 }, (_, i) => makeEvent(i));
    events.forEach((e) => p.enqueue(e));
    await p.forceFlush();
    expect(await ids()).to.deep.equal(events.map((e) => e.eventId));
    expect(p.status().duplicatesSkipped, 'the replayed batches were deduplicated').to.be.at.least(2);
    expect(p.status().database).to.equal('connected');
  });

  it('keeps memory bounded while Postgres refuses, and drains the backlog from disk in order', async () => {
    const { probe, factory } = instrumented(realFactory);
    probe.failBefore = 20;
    const p = start(factory, { batchSize: 50, maxInMemory: 100 });
    const events = Array.from({ length: 2000 }, (_, i) => makeEvent(i));
    events.forEach((e) => p.enqueue(e));
    expect(p.status().spool.inMemory).to.be.at.most(100);
    expect(p.status().spool.spilled).to.equal(true);
    await p.forceFlush();
    expect(await ids()).to.deep.equal(events.map((e) => e.eventId));
  });

  it('forceFlush rejects with FlushTimeoutError while Postgres is unreachable; shutdown keeps the events for the next process', async () => {
    const unreachable: AuditWriterFactory = ({ streamId }) => new TableWriter('postgres://postgres@127.0.0.1:1/none', db.schema, streamId);
    const p = start(unreachable);
    const events = Array.from({ length: 30 }, (_, i) => makeEvent(i));
    events.forEach((e) => p.enqueue(e));
    const err = await p.forceFlush(500).then(() => null, (e: Error) => e);
    expect(err).to.be.instanceOf(FlushTimeoutError);
    expect(err!.message).to.match(/30 event\(s\) not committed/);
    await p.shutdown();
    await p.shutdown(); // idempotent
    await p.forceFlush(); // resolves after shutdown
    expect(() => p.enqueue(makeEvent(99))).to.throw(PipelineShutdownError);
    const next = start(realFactory); // the next process with a database
    await next.forceFlush();
    await pollUntil('30 stored events', async () => ((await ids()).length === 30 ? true : undefined), 20_000);
    expect(await ids()).to.deep.equal(events.map((e) => e.eventId));
  });

  it('without a database keeps events spooled, and the next process that has one drains them', async () => {
    const p = start(null);
    const events = Array.from({ length: 20 }, (_, i) => makeEvent(i));
    events.forEach((e) => p.enqueue(e));
    await p.forceFlush();
    expect(p.status().database).to.equal('none');
    await p.shutdown();
    expect(await ids()).to.have.length(0);
    start(realFactory);
    await pollUntil('20 stored events', async () => ((await ids()).length === 20 ? true : undefined), 20_000);
    expect(await ids()).to.deep.equal(events.map((e) => e.eventId));
  });
});
