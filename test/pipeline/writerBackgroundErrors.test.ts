// The pipeline hands the writer factory its runQuietly and onBackgroundError
// (docs/audit-trail.md, "The writer"): an idle pooled writer connection that
// the server drops (restart, failover, idle timeout) is reported through diag,
// never silently swallowed and never thrown into the app.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { expect } from 'chai';
import { AuditPipeline } from '../../src/pipeline/AuditPipeline';
import { Spool } from '../../src/pipeline/Spool';
import { createPgAuditWriter } from '../../src/store/PgAuditWriter';
import { makeEvent } from '../support/auditEvents';
import { migratedSchema, TEST_PII_KEY } from '../support/auditRecords';
import { pollUntil } from '../support/poll';

describe('AuditPipeline: background errors of the writer', function () {
  this.timeout(60_000);
  const errors: string[] = [];
  let dir: string;
  let db: Awaited<ReturnType<typeof migratedSchema>>;
  let pipeline: AuditPipeline | null = null;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cvd-bgerr-'));
    db = await migratedSchema('bgerr');
    const ignore = () => {};
    diag.setLogger({ error: (...args: unknown[]) => void errors.push(args.map(String).join(' ')), warn: ignore, info: ignore, debug: ignore, verbose: ignore }, DiagLogLevel.ERROR);
  });
  afterEach(async () => {
    await pipeline?.shutdown();
    pipeline = null;
    diag.disable();
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  });

  it('reports an idle writer connection the server terminated through diag.error', async () => {
    const spool = new Spool({ dir, maxBytes: 1 << 20, fsync: 'none' });
    pipeline = new AuditPipeline({
      spool, streamId: spool.instance, batchSize: 10, batchDelayMs: 10, retryMaxDelayMs: 100, spoolFsync: 'none',
      // What startParts does: the pipeline's options go through to the store writer.
      writerFactory: (options) => createPgAuditWriter({ ...options, connectionString: db.url, schema: db.schema, piiKey: TEST_PII_KEY }),
    });
    pipeline.enqueue(makeEvent(1));
    await pipeline.forceFlush(20_000);
    // The writer's idle connection is the one whose last statement moved this schema's stream head.
    const killed = await db.client.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cvd-activity-writer' AND state = 'idle' AND query LIKE $1`,
      [`%"${db.schema}".audit_streams%`],
    );
    expect(killed.rowCount).to.equal(1);
    await pollUntil('the idle-connection error in diag', () => (errors.some((e) => /idle .*Postgres connection/i.test(e)) ? true : undefined), 10_000);
  });
});
