// One event the database refuses for its content (here a user id too large
// for the audit_log index: SQLSTATE 54000) must not stop its stream: the
// pipeline splits the refused batch, quarantines that event, and stores the
// other events of the same and of later batches on a chain that verifies.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { runCli } from '../../src/cli/program';
import { AuditPipeline } from '../../src/pipeline/AuditPipeline';
import { Spool } from '../../src/pipeline/Spool';
import { readQuarantine } from '../../src/store/quarantine';
import { makeEvent } from '../support/auditEvents';
import { migratedSchema } from '../support/auditRecords';
import { readTrail, storeWriterFactory } from '../support/auditTrail';

describe('AuditPipeline: an event the database refuses for its content', function () {
  this.timeout(120_000);
  let dir: string;
  let db: Awaited<ReturnType<typeof migratedSchema>>;
  let pipeline: AuditPipeline | null = null;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cvd-poison-'));
    db = await migratedSchema('poison');
  });
  afterEach(async () => {
    await pipeline?.shutdown();
    pipeline = null;
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  });

  it('is quarantined (named), the other events of its batch and later batches are stored, verify passes', async () => {
    const spool = new Spool({ dir, maxBytes: 64 << 20, fsync: 'none' });
    pipeline = new AuditPipeline({
      spool, writerFactory: storeWriterFactory(db.url, db.schema), streamId: spool.instance, batchSize: 50, batchDelayMs: 20,
      retryMaxDelayMs: 200, retryBaseDelayMs: 20, spoolFsync: 'none', shutdownTimeoutMs: 3_000,
    });
    const events = Array.from({ length: 230 }, (_, i) => makeEvent(i, 'poison'));
    // Random, so it does not compress below the index's 2704-byte row limit.
    const poison = events[77]!;
    poison.actor = { ...poison.actor, id: randomBytes(8000).toString('base64') };
    for (const event of events) pipeline.enqueue(event);
    await pipeline.forceFlush(60_000);

    const trail = await readTrail(db.url, db.schema);
    expect(trail.allIds).to.deep.equal(events.filter((e) => e !== poison).map((e) => e.eventId));
    expect(trail.duplicateIds).to.equal(0);
    expect(trail.chainProblems).to.deep.equal([]);
    const quarantine = await readQuarantine(db.client, `"${db.schema}"`);
    expect(quarantine?.total).to.equal(1);
    expect(quarantine?.events[0]).to.include({ eventId: poison.eventId, action: 'PRICE_CHANGE', sqlState: '54000' });
    expect(pipeline.status().eventsQuarantined).to.equal(1);

    // `audit verify`: every chain intact (exit 0), the quarantined event named.
    let out = '';
    const stdout = { write: (text: string) => ((out += text), true) } as unknown as NodeJS.WritableStream;
    const code = await runCli(['node', 'cvd-activity', '--schema', db.schema, 'audit', 'verify'], { stdout, env: { CVD_ACTIVITY_DATABASE_URL: db.url } });
    expect(code, out).to.equal(0);
    expect(out).to.include('QUARANTINE 1 event(s)').and.include(poison.eventId).and.include('audit trail intact: 229 events');
    // `spool status`: the local spool is drained, the database's quarantine is not empty.
    out = '';
    const status = await runCli(['node', 'cvd-activity', '--schema', db.schema, 'spool', 'status', '--dir', dir], { stdout, env: { CVD_ACTIVITY_DATABASE_URL: db.url } });
    expect(status, out).to.equal(0);
    expect(out).to.include('QUARANTINE 1 event(s) refused by Postgres');
  });
});
