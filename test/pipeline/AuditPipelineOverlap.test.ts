import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../../src/audit/types';
import { AuditPipeline } from '../../src/pipeline/AuditPipeline';
import type { AuditWriterFactory } from '../../src/pipeline/types';
import { Spool } from '../../src/pipeline/Spool';
import type { AuditRecord, AuditWriter } from '../../src/store/types';
import { makeEvent } from '../support/auditEvents';
import { migratedSchema } from '../support/auditRecords';
import { readTrail, storeWriterFactory } from '../support/auditTrail';

/** The real store writer, counting how many writeBatch calls are pending at once. */
function counting(factory: AuditWriterFactory) {
  const probe = { active: 0, maxActive: 0, failures: 0 };
  const wrapped: AuditWriterFactory = async (o) => {
    const inner = await factory(o);
    const writer: AuditWriter = {
      streamId: inner.streamId,
      overlapsBatches: inner.overlapsBatches,
      prepare: (records: readonly AuditRecord[]) => inner.prepare?.(records),
      async writeBatch(records) {
        probe.active += 1;
        probe.maxActive = Math.max(probe.maxActive, probe.active);
        try {
          return await inner.writeBatch(records);
        } catch (err) {
          probe.failures += 1;
          throw err;
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

describe('AuditPipeline with the store writer: two batches in flight', function () {
  this.timeout(120_000);
  let dir: string;
  let db: Awaited<ReturnType<typeof migratedSchema>>;
  let pipeline: AuditPipeline | null = null;

  const start = (factory: AuditWriterFactory) => {
    const spool = new Spool({ dir, maxBytes: 64 << 20, fsync: 'none', maxInMemory: 10_000 });
    pipeline = new AuditPipeline({
      spool, writerFactory: factory, streamId: spool.instance, batchSize: 100, batchDelayMs: 20,
      retryMaxDelayMs: 200, retryBaseDelayMs: 20, spoolFsync: 'none', shutdownTimeoutMs: 3_000,
    });
    return pipeline;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cvd-overlap-'));
    db = await migratedSchema('pipeoverlap');
  });
  afterEach(async () => {
    await pipeline?.shutdown();
    pipeline = null;
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  });

  it('keeps two batches in flight and stores every event once, in order, on a chain that verifies', async () => {
    const { probe, factory } = counting(storeWriterFactory(db.url, db.schema));
    const p = start(factory);
    const events = Array.from({ length: 3000 }, (_, i) => makeEvent(i));
    events.forEach((e) => p.enqueue(e));
    await p.forceFlush(60_000);
    const trail = await readTrail(db.url, db.schema);
    expect(trail.allIds).to.deep.equal(events.map((e) => e.eventId));
    expect(trail.duplicateIds).to.equal(0);
    expect(trail.chainProblems).to.deep.equal([]);
    expect(probe.maxActive).to.equal(2);
  });

  it('after a batch fails with the next one in flight, retries both: every event once, in order, chain intact', async () => {
    // A trigger fails every batch holding the marked event until it is disabled.
    await db.client.query(`CREATE FUNCTION "${db.schema}".fail_me() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.user_agent = 'fail-me' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER fail_me BEFORE INSERT ON "${db.schema}".audit_personal FOR EACH ROW EXECUTE FUNCTION "${db.schema}".fail_me()`);
    const { probe, factory } = counting(storeWriterFactory(db.url, db.schema));
    const p = start(factory);
    const events: AuditEvent[] = Array.from({ length: 1000 }, (_, i) => makeEvent(i));
    events[450] = { ...events[450]!, personal: { clientAddress: null, userAgent: 'fail-me', fields: {} } };
    events.forEach((e) => p.enqueue(e));
    const deadline = Date.now() + 30_000;
    while (probe.failures < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(probe.failures, 'the failing batch and the one overlapping it failed').to.be.at.least(2);
    await db.client.query(`DROP TRIGGER fail_me ON "${db.schema}".audit_personal`);
    await p.forceFlush(60_000);
    const trail = await readTrail(db.url, db.schema);
    expect(trail.allIds).to.deep.equal(events.map((e) => e.eventId));
    expect(trail.duplicateIds).to.equal(0);
    expect(trail.chainProblems).to.deep.equal([]);
  });
});
