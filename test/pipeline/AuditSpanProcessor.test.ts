import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AuditSpanProcessor } from '../../src/pipeline/AuditSpanProcessor';
import { createAuditPipeline } from '../../src/pipeline/createAuditPipeline';
import { makeEvent } from '../support/auditEvents';
import { createTestSchema } from '../support/database';
import { pipelineTestConfig } from '../support/pipelineConfig';
import { storedEvents, tableWriterFactory } from '../support/TableWriter';

describe('AuditSpanProcessor and createAuditPipeline', function () {
  this.timeout(60_000);
  let dir: string;
  let db: Awaited<ReturnType<typeof createTestSchema>>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cvd-asp-'));
    db = await createTestSchema('asp');
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  });

  it("the SDK's forceFlush and shutdown flush and close the pipeline", async () => {
    const handle = createAuditPipeline(pipelineTestConfig({ spoolDir: dir, batchSize: 1000, batchDelayMs: 60_000 }), {
      writerFactory: await tableWriterFactory(db.url, db.schema),
    });
    expect(handle.spanProcessor).to.be.instanceOf(AuditSpanProcessor);
    const events = Array.from({ length: 25 }, (_, i) => makeEvent(i));
    events.forEach((e) => handle.sink.enqueue(e));
    await handle.spanProcessor.forceFlush(); // the batch delay is a minute: only the flush can have sent it
    expect((await storedEvents(db.url, db.schema)).map((r) => r.eventId)).to.deep.equal(events.map((e) => e.eventId));
    await handle.spanProcessor.shutdown();
    expect(handle.status().shutDown).to.equal(true);
    await handle.spanProcessor.shutdown(); // idempotent, resolves
  });

  it("creates no spans for the pipeline's own database traffic (real pg instrumentation, child process)", async () => {
    const fixture = join(__dirname, 'fixtures', 'noSpans.ts');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture, db.url, db.schema, dir], {
      timeout: 50_000,
    });
    const { pipelineSpans, controlSpans } = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(controlSpans, 'control: a query outside the pipeline is traced').to.be.greaterThan(0);
    expect(pipelineSpans).to.equal(0);
    expect(await storedEvents(db.url, db.schema)).to.have.length(35);
  });
});
