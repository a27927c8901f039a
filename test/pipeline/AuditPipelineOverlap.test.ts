import { randomBytes } from 'node:crypto';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../../src/audit/types';
import { AuditPipeline } from '../../src/pipeline/AuditPipeline';
import type { AuditWriterFactory } from '../../src/pipeline/types';
import { Spool } from '../../src/pipeline/Spool';
import type { AuditRecord, AuditWriter } from '../../src/store/types';
import { runCli } from '../../src/cli/program';
import { createPgAuditWriter } from '../../src/store/PgAuditWriter';
import { readQuarantine } from '../../src/store/quarantine';
import { makeEvent } from '../support/auditEvents';
import { migratedSchema, TEST_PII_KEY } from '../support/auditRecords';
import { pollUntil } from '../support/poll';
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

describe('AuditPipeline with the store writer: batches in flight, refused events, background errors', function () {
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

  // One event the database refuses for its content (here a user id too large
  // for the audit_log index: SQLSTATE 54000) must not stop its stream: the
  // pipeline splits the refused batch, quarantines that event, and stores the
  // other events of the same and of later batches on a chain that verifies.
  it('quarantines an event Postgres refuses (named); the other events of its batch and later batches are stored, verify passes', async () => {
    const p = start(storeWriterFactory(db.url, db.schema));
    const events = Array.from({ length: 230 }, (_, i) => makeEvent(i, 'poison'));
    // Random, so it does not compress below the index's 2704-byte row limit.
    const poison = events[77]!;
    poison.actor = { ...poison.actor, id: randomBytes(8000).toString('base64') };
    for (const event of events) p.enqueue(event);
    await p.forceFlush(60_000);

    const trail = await readTrail(db.url, db.schema);
    expect(trail.allIds).to.deep.equal(events.filter((e) => e !== poison).map((e) => e.eventId));
    expect(trail.duplicateIds).to.equal(0);
    expect(trail.chainProblems).to.deep.equal([]);
    const quarantine = await readQuarantine(db.client, `"${db.schema}"`);
    expect(quarantine?.total).to.equal(1);
    expect(quarantine?.events[0]).to.include({ eventId: poison.eventId, action: 'PRICE_CHANGE', sqlState: '54000' });
    expect(p.status().eventsQuarantined).to.equal(1);

    // `audit verify`: every chain intact (exit 0), the quarantined event named.
    let out = '';
    const stdout = { write: (text: string) => ((out += text), true) } as unknown as NodeJS.WritableStream;
    const env = { CVD_ACTIVITY_DATABASE_URL: db.url };
    expect(await runCli(['node', 'cvd-activity', '--schema', db.schema, 'audit', 'verify'], { stdout, env }), out).to.equal(0);
    expect(out).to.include('QUARANTINE 1 event(s)').and.include(poison.eventId).and.include('audit trail intact: 229 events');
    // `spool status`: the local spool is drained, the database's quarantine is not empty.
    out = '';
    expect(await runCli(['node', 'cvd-activity', '--schema', db.schema, 'spool', 'status', '--dir', dir], { stdout, env }), out).to.equal(0);
    expect(out).to.include('QUARANTINE 1 event(s) refused by Postgres');
  });

  // The pipeline hands the writer factory its runQuietly and onBackgroundError
  // (docs/audit-trail.md, "The writer"): an idle pooled writer connection the
  // server drops (restart, failover) is reported through diag, never swallowed.
  it('reports an idle writer connection the server terminated through diag.error', async () => {
    const errors: string[] = [];
    const ignore = () => {};
    diag.setLogger({ error: (...args: unknown[]) => void errors.push(args.map(String).join(' ')), warn: ignore, info: ignore, debug: ignore, verbose: ignore }, DiagLogLevel.ERROR);
    try {
      // What startParts does: the pipeline's options go through to the store writer.
      const p = start((options) => createPgAuditWriter({ ...options, connectionString: db.url, schema: db.schema, piiKey: TEST_PII_KEY }));
      p.enqueue(makeEvent(1));
      await p.forceFlush(20_000);
      // The writer's idle connection is the one whose last statement moved this schema's stream head.
      const killed = await db.client.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cvd-activity-writer' AND state = 'idle' AND query LIKE $1`,
        [`%"${db.schema}".audit_streams%`],
      );
      expect(killed.rowCount).to.equal(1);
      await pollUntil('the idle-connection error in diag', () => (errors.some((e) => /idle .*Postgres connection/i.test(e)) ? true : undefined), 10_000);
    } finally {
      diag.disable();
    }
  });
});
