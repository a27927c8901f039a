/**
 * Signed checkpoints end to end: the built CLI in child processes, the real
 * PostgreSQL, and tampering done the way a superuser would do it (triggers
 * off with session_replication_role = replica, every later hash and the head
 * recomputed), which plain `audit verify` cannot see.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { createPgAuditWriter } from '../../src/store/PgAuditWriter';
import { dropPartitionsBefore } from '../../src/store/retention';
import { chainHash } from '../../src/store/canonicalEncoding';
import { ROW_AS_TEXT, toChainRow } from '../../src/store/verify';
import { generateSignerKey, parseNote, parseSignerKey, signNote } from '../../src/store/checkpoint/signedNote';
import { createTestSchema } from '../support/database';
import { auditRecord, TEST_PII_KEY } from '../support/auditRecords';
import { runCliProcess } from '../support/cli';
import type { CliRun } from '../support/cli';

/** A migrated schema with events on stream `app`, a temp folder and a key, checkpointed twice. */
interface Trail {
  schema: string;
  dir: string;
  checkpoints: string;
  env: Record<string, string>;
  client: pg.Client;
  publicKey: string;
  /** Event ids of stream `app` by seq (index 0 = seq 1). */
  events: string[];
  cli(...args: string[]): Promise<CliRun>;
  drop(): Promise<void>;
}

// One template, copied with fresh ids: auditRecord() bumps a counter shared with other test files.
const TEMPLATE = auditRecord();

async function writeEvents(url: string, schema: string, n: number): Promise<string[]> {
  const writer = createPgAuditWriter({ connectionString: url, schema, streamId: 'app', piiKey: TEST_PII_KEY });
  const records = Array.from({ length: n }, (_, i) => ({ ...TEMPLATE, eventId: randomUUID(), occurredAt: new Date(Date.parse(TEMPLATE.occurredAt) + i).toISOString() }));
  await writer.writeBatch(records);
  await writer.close();
  return records.map((r) => r.eventId);
}

async function trail(): Promise<Trail> {
  const test = await createTestSchema('ckpt');
  const dir = mkdtempSync(join(tmpdir(), 'cvd-ckpt-'));
  const env = { CVD_ACTIVITY_DATABASE_URL: test.url, CVD_ACTIVITY_SCHEMA: test.schema };
  const cli = (...args: string[]) => runCliProcess(args, env, { cwd: dir });
  expect((await cli('migrate', '--no-roles')).code).to.equal(0);
  const client = new pg.Client({ connectionString: test.url });
  await client.connect();
  const events = await writeEvents(test.url, test.schema, 12);
  const first = await cli('audit', 'checkpoint');
  expect(first, first.stderr).to.include({ code: 0 });
  events.push(...(await writeEvents(test.url, test.schema, 9)));
  const second = await cli('audit', 'checkpoint');
  expect(second, second.stderr).to.include({ code: 0 });
  const publicKey = /public key: (\S+)/.exec(second.stdout)![1]!;
  return {
    schema: test.schema, dir, checkpoints: join(dir, 'checkpoints'), env, client, publicKey, events, cli,
    async drop() {
      await client.end();
      await test.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** As a superuser: triggers off, change `change` on seq `seq` of stream app, recompute every later hash and the head. */
async function rewrite(t: Trail, seq: number, change: string): Promise<void> {
  const s = `"${t.schema}"`;
  await t.client.query('BEGIN; SET LOCAL session_replication_role = replica');
  await t.client.query(`UPDATE ${s}.audit_log SET ${change} WHERE stream_id = 'app' AND seq = $1`, [seq]);
  const { rows } = await t.client.query(`SELECT ${ROW_AS_TEXT} FROM ${s}.audit_log l WHERE stream_id = 'app' AND seq >= $1 ORDER BY l.seq`, [seq]);
  let prev = (await t.client.query(`SELECT hash FROM ${s}.audit_log WHERE stream_id = 'app' AND seq = $1`, [seq - 1])).rows[0]?.hash ?? null;
  for (const r of rows) {
    const hash = chainHash({ streamId: 'app', seq: Number(r.seq), prevHash: prev }, toChainRow(r));
    await t.client.query(`UPDATE ${s}.audit_log SET prev_hash = $1, hash = $2 WHERE stream_id = 'app' AND seq = $3`, [prev, hash, r.seq]);
    prev = hash;
  }
  await t.client.query(`UPDATE ${s}.audit_streams SET head_hash = $1 WHERE stream_id = 'app'`, [prev]);
  await t.client.query('COMMIT');
}

describe('signed checkpoints (audit checkpoint, verify --checkpoints, prove, verify-proof)', function () {
  this.timeout(180_000);
  let t: Trail;
  beforeEach(async () => {
    t = await trail();
  });
  afterEach(async () => {
    await t?.drop();
  });
  const verifyAgainst = () => t.cli('audit', 'verify', '--checkpoints', t.checkpoints, '--public-key', t.publicKey);

  it('creates the key with mode 0600, chains checkpoints, writes nothing when nothing changed, and verifies', async () => {
    expect(statSync(join(t.dir, '.cvd-activity', 'checkpoint.key')).mode & 0o777).to.equal(0o600);
    expect(readdirSync(t.checkpoints).filter((f) => f.endsWith('.checkpoint'))).to.deep.equal(['00000001.checkpoint', '00000002.checkpoint']);
    const again = await t.cli('audit', 'checkpoint');
    expect(again, again.stderr).to.include({ code: 0 });
    expect(again.stderr).to.include('unchanged since checkpoint 2');
    expect(readdirSync(t.checkpoints).filter((f) => f.endsWith('.checkpoint'))).to.have.length(2);
    const note = readFileSync(join(t.checkpoints, '00000002.checkpoint'), 'utf8');
    expect(note).to.match(/^cvd-activity\/127\.0\.0\.1:\d+\/test\/ckpt_\w+\n\d+\n[A-Za-z0-9+/]{43}=\ncvd-activity-checkpoint\/1\nsequence 2\ntime \S+\nprevious [A-Za-z0-9+/]{43}=\n/);
    expect(note).to.match(/\nstream 21 [0-9a-f]{64} \S+ "app"\n/);
    // The checkpoint event is in the trail and covered by the checkpoint that it announces.
    const recorded = await t.client.query(`SELECT details FROM "${t.schema}".audit_log WHERE action = 'AUDIT_CHECKPOINT' ORDER BY created_at`);
    expect(recorded.rows.map((r) => r.details.sequence)).to.deep.equal([1, 2]);
    const ok = await verifyAgainst();
    expect(ok, ok.stderr).to.include({ code: 0 });
    expect(ok.stdout).to.include('checkpoints intact: 2 checkpoint(s) up to sequence 2');
  });

  it('signs with the key from CVD_ACTIVITY_CHECKPOINT_KEY, copies to --copy-to and stdout, and never chains onto another key\'s checkpoint', async () => {
    const key = generateSignerKey('test/env');
    const withKey = (...args: string[]) => runCliProcess(args, { ...t.env, CVD_ACTIVITY_CHECKPOINT_KEY: key }, { cwd: t.dir });
    await writeEvents(t.env.CVD_ACTIVITY_DATABASE_URL!, t.schema, 2);
    const refused = await withKey('audit', 'checkpoint');
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include('00000002.checkpoint: not signed by key test/env+').and.include('refusing to chain');
    const run = await withKey('audit', 'checkpoint', '--dir', 'other', '--copy-to', 'copy', '--stdout');
    expect(run, run.stderr).to.include({ code: 0 });
    const written = readFileSync(join(t.dir, 'other', '00000001.checkpoint'), 'utf8');
    expect(run.stdout).to.equal(written);
    expect(readFileSync(join(t.dir, 'copy', '00000001.checkpoint'), 'utf8')).to.equal(written);
    expect(run.stderr).to.include(`public key: ${parseSignerKey(key).publicKey}`);
  });

  it('refuses a key file others can read, naming the file and the fix', async () => {
    const key = join(t.dir, 'loose.key');
    writeFileSync(key, `${generateSignerKey('test/loose')}\n`);
    chmodSync(key, 0o644);
    const run = await t.cli('audit', 'checkpoint', '--key-file', key);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.include(`key file ${key} is readable or writable by group or others (mode 0644)`).and.include(`chmod 600 ${key}`);
  });

  it('catches a rewritten history with every later hash and the head recomputed, naming the event, where verify alone passes', async () => {
    await rewrite(t, 5, `details = details || '{"price": 0.01}'`);
    const plain = await t.cli('audit', 'verify');
    expect(plain, plain.stdout).to.include({ code: 0 });
    const run = await verifyAgainst();
    expect(run.code).to.equal(1);
    expect(run.stdout).to.include(`BROKEN history-rewritten: 00000001.checkpoint: stream app: event ${t.events[4]} (seq 5) was rewritten`);
    // and a new checkpoint refuses to sign over it
    const refused = await t.cli('audit', 'checkpoint');
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include('no checkpoint written');
  });

  it('without leaves files, still catches the rewrite and names the range and the checkpointed head event', async () => {
    for (const f of readdirSync(t.checkpoints).filter((n) => n.endsWith('.leaves'))) unlinkSync(join(t.checkpoints, f));
    await rewrite(t, 15, `outcome = 'failure'`);
    const run = await verifyAgainst();
    expect(run.code).to.equal(1);
    expect(run.stdout).to.include(`BROKEN history-rewritten: 00000002.checkpoint: stream app: an event of seq 13..21 was rewritten after the checkpoint (the event at seq 21, ${t.events[20]}`);
  });

  it('catches reordered checkpoints', async () => {
    const [one, two] = ['00000001.checkpoint', '00000002.checkpoint'].map((f) => join(t.checkpoints, f));
    const first = readFileSync(one!, 'utf8');
    chmodSync(one!, 0o644);
    chmodSync(two!, 0o644);
    writeFileSync(one!, readFileSync(two!, 'utf8'));
    writeFileSync(two!, first);
    const run = await verifyAgainst();
    expect(run.code).to.equal(1);
    expect(run.stdout).to.include('BROKEN checkpoint-order: 00000002.checkpoint: sequence 1 comes after 00000001.checkpoint (sequence 2)');
  });

  it('catches a forged checkpoint (same key name, another key)', async () => {
    const file = join(t.checkpoints, '00000002.checkpoint');
    const text = parseNote(readFileSync(file, 'utf8')).text;
    const name = t.publicKey.split('+')[0]!;
    chmodSync(file, 0o644);
    writeFileSync(file, signNote(text, parseSignerKey(generateSignerKey(name))));
    const run = await verifyAgainst();
    expect(run.code).to.equal(1);
    expect(run.stdout).to.match(/BROKEN bad-signature: 00000002\.checkpoint: not signed by key /);
  });

  it('catches a checkpoint deleted in the middle, and the newest one deleted', async () => {
    await writeEvents(t.env.CVD_ACTIVITY_DATABASE_URL!, t.schema, 3);
    expect((await t.cli('audit', 'checkpoint')).code).to.equal(0);
    unlinkSync(join(t.checkpoints, '00000002.checkpoint'));
    const middle = await verifyAgainst();
    expect(middle.code).to.equal(1);
    expect(middle.stdout).to.include('BROKEN checkpoint-missing: 00000003.checkpoint: checkpoint 2 is missing before this one');
    unlinkSync(join(t.checkpoints, '00000003.checkpoint'));
    const newest = await verifyAgainst();
    expect(newest.code).to.equal(1);
    expect(newest.stdout).to.match(/BROKEN checkpoint-missing: 00000001\.checkpoint: the trail records checkpoint 3 \(event [0-9a-f-]{36}\)/);
  });

  it('catches a stream that vanished (rows and head deleted), which verify alone does not see', async () => {
    await t.client.query(`BEGIN; SET LOCAL session_replication_role = replica;
      DELETE FROM "${t.schema}".audit_log WHERE stream_id = 'app'; DELETE FROM "${t.schema}".audit_streams WHERE stream_id = 'app'; COMMIT`);
    expect((await t.cli('audit', 'verify')).code).to.equal(0);
    const run = await verifyAgainst();
    expect(run.code).to.equal(1);
    expect(run.stdout).to.include('BROKEN stream-vanished: 00000002.checkpoint: stream app: the stream vanished: the checkpoint signed 21 events');
  });

  it('catches a truncated tail with the head rewound, which verify alone does not see', async () => {
    const s = `"${t.schema}"`;
    await t.client.query(`BEGIN; SET LOCAL session_replication_role = replica;
      DELETE FROM ${s}.audit_log WHERE stream_id = 'app' AND seq > 15;
      UPDATE ${s}.audit_streams SET head_seq = 15, head_hash = (SELECT hash FROM ${s}.audit_log WHERE stream_id = 'app' AND seq = 15) WHERE stream_id = 'app';
      COMMIT`);
    expect((await t.cli('audit', 'verify')).code).to.equal(0);
    const run = await verifyAgainst();
    expect(run.code).to.equal(1);
    expect(run.stdout).to.include(`BROKEN tail-truncated: 00000002.checkpoint: stream app: events seq 16..21, covered by the checkpoint, are gone: the tail was cut after event ${t.events[14]} (seq 15), its head rewound to seq 15`);
  });

  it('accepts checkpointed events that retention dropped (listing them), and checkpoints on after it', async () => {
    // As run two years on, when the policy (keepMonths 24) lets November 2026 go.
    const dropped = await dropPartitionsBefore(t.client, { schema: t.schema, before: new Date(Date.UTC(2026, 11, 1)), now: new Date(Date.UTC(2028, 11, 2)) });
    expect(dropped.dropped).to.include('audit_log_p202611');
    const run = await verifyAgainst();
    expect(run, run.stdout).to.include({ code: 0 });
    expect(run.stdout).to.include('note   stream app: events seq 1..21 removed by retention (partition audit_log_p202611');
    await writeEvents(t.env.CVD_ACTIVITY_DATABASE_URL!, t.schema, 2);
    const next = await t.cli('audit', 'checkpoint');
    expect(next, next.stderr).to.include({ code: 0 });
    expect(readFileSync(join(t.checkpoints, '00000003.checkpoint'), 'utf8')).to.match(/\nstream 23 [0-9a-f]{64} \S+ "app"\n/);
    expect((await verifyAgainst()).code).to.equal(0);
  });

  it('proves one event offline; a flipped byte in the event, the proof or the checkpoint fails', async () => {
    const proofFile = join(t.dir, 'proof.json');
    const notACheckpoint = await t.cli('audit', 'prove', t.events[6]!, '--checkpoint', join(t.checkpoints, '00000002.leaves'));
    expect(notACheckpoint.code).to.equal(2);
    expect(notACheckpoint.stderr).to.include('00000002.leaves: not a signed note');
    const made = await t.cli('audit', 'prove', t.events[6]!, '--checkpoint', join(t.checkpoints, '00000002.checkpoint'), '--out', proofFile);
    expect(made, made.stderr).to.include({ code: 0 });
    // No database: an address where nothing listens.
    const offline = (file: string) => runCliProcess(['audit', 'verify-proof', file, '--public-key', t.publicKey], { CVD_ACTIVITY_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    const ok = await offline(proofFile);
    expect(ok, ok.stderr).to.include({ code: 0 });
    expect(ok.stdout).to.include(`proof valid: event ${t.events[6]} (PRICE_CHANGE`).and.include('at seq 7 of stream app');
    const proof = JSON.parse(readFileSync(proofFile, 'utf8'));
    const variants: Array<[string, (p: any) => void]> = [
      ['event', (p) => { p.event.details = p.event.details.replace('1.5', '1.6'); }],
      ['proof path', (p) => { p.path[1] = flip(p.path[1]); }],
      ['checkpoint', (p) => { p.checkpoint = p.checkpoint.replace(/\nsequence 2\n/, '\nsequence 3\n'); }],
    ];
    for (const [what, change] of variants) {
      const bad = structuredClone(proof);
      change(bad);
      const file = join(t.dir, `bad-${what.replace(' ', '-')}.json`);
      writeFileSync(file, JSON.stringify(bad));
      const run = await offline(file);
      expect(run.code, `flipped ${what}: ${run.stdout}`).to.equal(1);
      expect(run.stderr).to.include('proof INVALID');
    }
  });
});

/** Base64 of the same bytes with the first bit flipped. */
function flip(b64: string): string {
  const bytes = Buffer.from(b64, 'base64');
  bytes[0] ^= 1;
  return bytes.toString('base64');
}
