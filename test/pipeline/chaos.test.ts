/**
 * Chaos tests: a private PostgreSQL (stopped, started) and recorder processes
 * (killed, run in pairs). Each counts the event ids accepted against the rows
 * stored: zero lost, zero duplicated, every stream's chain intact. They wait
 * for states (failures seen, events accepted, batches committed), never for
 * a guessed time; the producers only pace themselves (10 events per 10 ms).
 */
import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createAuditPipeline } from '../../src/pipeline/createAuditPipeline';
import { migrate } from '../../src/store/migrate';
import { makeEvent } from '../support/auditEvents';
import { readTrail, storeWriterFactory } from '../support/auditTrail';
import { startPgServer } from '../support/pgServer';
import type { PgServer } from '../support/pgServer';
import { pipelineTestConfig } from '../support/pipelineConfig';
import { killRecorders, startRecorder, until } from '../support/recorderProcess';
import { startTcpProxy } from '../support/tcpProxy';

const SCHEMA = 'chaos_audit';
const pace = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pipeline chaos (private PostgreSQL)', function () {
  this.timeout(180_000);
  let server: PgServer;
  let dir: string;

  before(async () => {
    server = await startPgServer();
  });
  after(async () => {
    killRecorders();
    await server?.destroy();
  });
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cvd-chaos-'));
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await migrate(client, { schema: SCHEMA, roles: false });
    await client.end();
  });
  afterEach(() => {
    killRecorders();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Postgres stopped under load: every accepted event lands once, in order, chain intact, memory bounded', async () => {
    const handle = createAuditPipeline(
      pipelineTestConfig({ spoolDir: dir, batchSize: 100, batchDelayMs: 10, retryMaxDelayMs: 1000 }),
      { writerFactory: storeWriterFactory(server.url, SCHEMA), maxInMemory: 300 },
    );
    const accepted: string[] = [];
    let maxInMemory = 0;
    let sawFailure = false;
    let producing = true;
    const producer = (async () => {
      for (let i = 0; producing; ) {
        for (let k = 0; k < 10; k++, i++) {
          const e = makeEvent(i, 'outage');
          handle.sink.enqueue(e);
          accepted.push(e.eventId);
        }
        const s = handle.status();
        maxInMemory = Math.max(maxInMemory, s.spool.inMemory);
        sawFailure ||= s.consecutiveFailures > 0;
        await pace(10);
      }
    })();
    await until(() => handle.status().batchesCommitted >= 3, 30_000, 'first batches');
    await server.stop();
    const stoppedAt = accepted.length;
    // The outage lasts until the pipeline has failed repeatedly and the app kept recording meanwhile.
    await until(() => handle.status().consecutiveFailures >= 3 && accepted.length - stoppedAt > 1000, 60_000, 'failed attempts during the outage');
    const duringOutage = accepted.length - stoppedAt;
    await server.start();
    const committedBefore = handle.status().batchesCommitted;
    await until(() => handle.status().batchesCommitted > committedBefore + 2, 60_000, 'batches committed after the restart');
    producing = false;
    await producer;
    await handle.sink.forceFlush(60_000);
    await handle.sink.shutdown();

    expect(duringOutage, 'events were recorded while Postgres was down').to.be.greaterThan(500);
    expect(sawFailure, 'the pipeline saw the outage').to.equal(true);
    expect(maxInMemory).to.be.at.most(300);
    const trail = await readTrail(server.url, SCHEMA);
    expect(trail.duplicateIds).to.equal(0);
    expect(trail.chainProblems).to.deep.equal([]);
    expect([...trail.byStream.keys()]).to.deep.equal([handle.status().streamId]);
    expect(trail.allIds, 'all accepted, once, in order').to.deep.equal(accepted);
    expect(readdirSync(dir).filter((n) => n.endsWith('.seg'))).to.have.length(0);
  });

  it('network: a silent partition (black hole), then reset connections: every accepted event lands once, in order', async () => {
    const proxy = await startTcpProxy(server.port);
    const url = server.url.replace(`:${server.port}/`, `:${proxy.port}/`);
    const handle = createAuditPipeline(
      pipelineTestConfig({ spoolDir: dir, batchSize: 50, batchDelayMs: 10, retryMaxDelayMs: 500 }),
      { writerFactory: storeWriterFactory(url, SCHEMA), maxInMemory: 300 },
    );
    const accepted: string[] = [];
    let producing = true;
    const producer = (async () => {
      for (let i = 0; producing; ) {
        for (let k = 0; k < 10; k++, i++) {
          const e = makeEvent(i, 'partition');
          handle.sink.enqueue(e);
          accepted.push(e.eventId);
        }
        await pace(10);
      }
    })();
    try {
      await until(() => handle.status().batchesCommitted >= 3, 30_000, 'first batches');
      proxy.blackhole();
      // Events accepted from now on can only travel through the hole: none of them may be stored.
      const holeFrom = accepted.length;
      await until(() => accepted.length - holeFrom >= 300, 60_000, 'events accepted during the black hole');
      const sentIntoHole = accepted.slice(holeFrom);
      expect(await storedCount(server.url, sentIntoHole), 'nothing commits through a black hole').to.equal(0);
      proxy.reset();
      await until(() => handle.status().consecutiveFailures > 0, 60_000, 'a failure on reset connections');
      proxy.heal();
      const committedAtHeal = handle.status().batchesCommitted;
      await until(() => handle.status().batchesCommitted > committedAtHeal + 2, 60_000, 'batches committed after healing');
      producing = false;
      await producer;
      await handle.sink.forceFlush(60_000);
    } finally {
      producing = false;
      await handle.sink.shutdown();
      await proxy.close();
    }
    const trail = await readTrail(server.url, SCHEMA);
    expect(trail.duplicateIds).to.equal(0);
    expect(trail.chainProblems).to.deep.equal([]);
    expect(trail.allIds, 'all accepted, once, in order').to.deep.equal(accepted);
  });

  it('the app SIGKILLed under load: after a restart every id it accepted is stored exactly once', async () => {
    const env = { DB_URL: server.url, SCHEMA, SPOOL_DIR: dir, BATCH_SIZE: '100' };
    const first = startRecorder({ ...env, COUNT: 'forever' });
    // Kill it with thousands accepted and batches in flight.
    await until(() => first.ids.length >= 4000, 60_000, `4000 ids from the first recorder (stderr: ${first.stderr})`);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).to.equal('SIGKILL');
    const before = await readTrail(server.url, SCHEMA);
    expect(before.allIds.length, 'some were committed before the kill, some were not').to.be.lessThan(first.ids.length);

    const second = startRecorder({ ...env, COUNT: '500' });
    const exit = await second.exited;
    expect(exit.code, second.stderr).to.equal(0);
    expect(second.done).to.equal(true);

    const trail = await readTrail(server.url, SCHEMA);
    expect(trail.duplicateIds).to.equal(0);
    expect(trail.chainProblems).to.deep.equal([]);
    const stored = new Set(trail.allIds);
    const lost = [...first.ids, ...second.ids].filter((id) => !stored.has(id));
    expect(lost, 'accepted ids missing from audit_log').to.deep.equal([]);
    // Stored may also hold ids accepted in the instant between enqueue() returning and the print: never more than one batch-loop step.
    expect(trail.allIds.length - first.ids.length - second.ids.length).to.be.within(0, 20);
    expect(readdirSync(dir).filter((n) => n.endsWith('.seg') || n.endsWith('.lock')), 'spool drained, no stale locks').to.deep.equal([]);
  });

  it('two processes writing at once: separate streams, both complete, no duplicates, both chains intact', async () => {
    const env = { DB_URL: server.url, SCHEMA, SPOOL_DIR: dir, BATCH_SIZE: '100', COUNT: '3000' };
    const a = startRecorder(env);
    const b = startRecorder(env);
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    expect(ea.code, a.stderr).to.equal(0);
    expect(eb.code, b.stderr).to.equal(0);
    const trail = await readTrail(server.url, SCHEMA);
    expect(trail.duplicateIds).to.equal(0);
    expect(trail.chainProblems).to.deep.equal([]);
    expect(trail.byStream.get(a.stream!), 'stream a in order').to.deep.equal(a.ids);
    expect(trail.byStream.get(b.stream!), 'stream b in order').to.deep.equal(b.ids);
    expect(trail.byStream.size).to.equal(2);
  });
});

/** How many of `ids` audit_log holds, read straight from the server (not through the proxy). */
async function storedCount(url: string, ids: string[]): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${SCHEMA}.audit_log WHERE event_id = ANY($1::uuid[])`, [ids]);
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}
