/**
 * bench/checkpoint: signed checkpoints and inclusion proofs over trails of
 * 10k and 1M events (one stream, the worst case for one proof). Events are
 * written by the store's own writer (COPY, real chain hashes) into a
 * throwaway schema. Side by side in one run:
 * - checkpoint: whole stream read (no saved frontier) vs incremental (frontier
 *   of the previous checkpoint, 1000 new events);
 * - proving one event: verify-proof (offline, public key only) vs the
 *   baseline without proofs, `audit verify` walking the whole chain;
 * - proof size (bytes, hashes in the path) and `audit verify --checkpoints`.
 *
 *   npx tsx bench/checkpoint/index.ts [--sizes 10000,1000000] [--runs 200]
 * Database: CVD_ACTIVITY_BENCH_DATABASE_URL, else CVD_ACTIVITY_TEST_DATABASE_URL,
 * else postgres://postgres@127.0.0.1:5432/test.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import pg from 'pg';
import { migrate } from '../../src/store/migrate';
import { createPgAuditWriter } from '../../src/store/PgAuditWriter';
import type { AuditRecord } from '../../src/store/types';
import { verifyChain } from '../../src/store/verify';
import { checkpointFileHash, formatCheckpoint } from '../../src/store/checkpoint/checkpointText';
import { formatLeaves } from '../../src/store/checkpoint/leavesText';
import { makeProof, verifyProof } from '../../src/store/checkpoint/proof';
import { generateSignerKey, parseSignerKey, parseVerifierKey, signNote } from '../../src/store/checkpoint/signedNote';
import { takeCheckpoint } from '../../src/store/checkpoint/takeCheckpoint';
import { verifyCheckpoints } from '../../src/store/checkpoint/verifyCheckpoints';
import { median, writeResultsSection } from '../results.mjs';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const SIZES = arg('sizes', '10000,1000000').split(',').map(Number);
const RUNS = Number(arg('runs', '200'));
const ADDED = 1000;
const url = process.env.CVD_ACTIVITY_BENCH_DATABASE_URL || process.env.CVD_ACTIVITY_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const signer = parseSignerKey(generateSignerKey('bench/cvd-activity'));
const verifier = parseVerifierKey(signer.publicKey);

function record(i: number): AuditRecord {
  return {
    v: 1, eventId: randomUUID(), occurredAt: new Date(Date.now() - 86_400_000 + i).toISOString(), action: 'PRICE_CHANGE',
    category: 'financial', severity: 'high', outcome: 'success', reason: null,
    actor: { id: `user-${i % 500}`, roles: ['ops'], sessionId: `s-${i % 900}`, type: 'user' },
    resourceType: 'product', resourceId: `P-${i % 5000}`, details: { price: 1.5 + (i % 7), currency: 'EUR' },
    oldValue: { price: 1.25 }, newValue: { price: 1.5 }, affectedRecords: 1,
    personal: { clientAddress: null, userAgent: null, fields: {} }, traceId: null, spanId: null, serviceName: 'bench-api',
    schemaValid: true, schemaErrors: [],
  };
}

async function fill(pool: pg.Pool, schema: string, from: number, count: number): Promise<string[]> {
  const writer = createPgAuditWriter({ pool, schema, streamId: 'bench', piiKey: randomBytes(32) });
  const ids: string[] = [];
  for (let at = 0; at < count; at += 5000) {
    const batch = Array.from({ length: Math.min(5000, count - at) }, (_, k) => record(from + at + k));
    await writer.writeBatch(batch);
    for (const r of batch) ids.push(r.eventId);
  }
  await writer.close();
  return ids;
}

const time = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
  const t = performance.now();
  const out = await work();
  return [out, performance.now() - t];
};

async function measure(events: number) {
  const schema = `bench_ckpt_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  const client = await pool.connect();
  try {
    await migrate(client, { schema, roles: false });
    const [ids, fillMs] = await time(() => fill(pool, schema, 0, events));
    await client.query(`ANALYZE "${schema}".audit_log`);
    const [first, fullMs] = await time(() => takeCheckpoint(client, { schema, origin: 'bench' }));
    if (!first.changed) throw new Error('first checkpoint unchanged');
    const note1 = signNote(formatCheckpoint(first.checkpoint), signer);
    await fill(pool, schema, events, ADDED);
    const previous = { checkpoint: first.checkpoint, fileHash: checkpointFileHash(note1) };
    const [second, incrementalMs] = await time(() => takeCheckpoint(client, { schema, origin: 'bench', previous, frontiers: first.frontiers }));
    const [, rereadMs] = await time(() => takeCheckpoint(client, { schema, origin: 'bench', previous }));
    if (!second.changed) throw new Error('second checkpoint unchanged');
    const note2 = signNote(formatCheckpoint(second.checkpoint), signer);
    const target = ids[Math.floor(events / 2)]!;
    const [proof, proveMs] = await time(() => makeProof(client, { schema, eventId: target, checkpointNote: note2 }));
    const proofText = JSON.stringify(proof);
    const verifyTimes: number[] = [];
    for (let i = 0; i < RUNS + 10; i++) {
      const t = performance.now();
      verifyProof(proofText, verifier);
      if (i >= 10) verifyTimes.push(performance.now() - t);
    }
    const [, chainMs] = await time(() => verifyChain(client, { schema }));
    const files = [
      { name: '00000001.checkpoint', note: note1, leaves: formatLeaves(first.leaves) },
      { name: '00000002.checkpoint', note: note2, leaves: formatLeaves(second.leaves) },
    ];
    const [checked, checkpointsMs] = await time(() => verifyCheckpoints(client, { schema, files, verifier }));
    if (!checked.ok) throw new Error(`verify --checkpoints failed: ${checked.problems[0]?.message}`);
    return {
      events, fillMs, fullMs, incrementalMs, rereadMs, proveMs, chainMs, checkpointsMs,
      proofBytes: Buffer.byteLength(proofText), pathHashes: proof.path.length, checkpointBytes: Buffer.byteLength(note2),
      verifyProofMs: median(verifyTimes), leavesBytes: files.reduce((n, f) => n + Buffer.byteLength(f.leaves), 0),
    };
  } finally {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    client.release();
    await pool.end();
  }
}

async function main(): Promise<void> {
  const results: Array<Awaited<ReturnType<typeof measure>>> = [];
  for (const n of SIZES) {
    const r = await measure(n);
    console.error(JSON.stringify(r));
    results.push(r);
  }
  const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const version = (await client.query('SHOW server_version')).rows[0].server_version;
  await client.end();
  const cols = results.map((r) => `${r.events.toLocaleString('en')} events`);
  const row = (label: string, f: (r: (typeof results)[number]) => string) => `| ${label} | ${results.map(f).join(' | ')} |`;
  writeResultsSection('checkpoint', [
    '## Signed checkpoints and inclusion proofs (bench/checkpoint)',
    '',
    `One stream (the worst case for one proof), events written by the store's writer (COPY, real chain hashes). ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, shared machine, PostgreSQL \`${version}\`. verify-proof: median of ${RUNS} runs in-process; the rest: one run each.`,
    '',
    `| measure | ${cols.join(' | ')} |`,
    `|---|${cols.map(() => '---').join('|')}|`,
    row('proof file size (bytes; the signed checkpoint inside it included)', (r) => r.proofBytes.toLocaleString('en')),
    row('hashes in the inclusion path', (r) => String(r.pathHashes)),
    row('**verify-proof** (offline: signature, event hash, path) ms', (r) => ms(r.verifyProofMs)),
    row('baseline without proofs: `audit verify` walking the whole chain, ms', (r) => ms(r.chainMs)),
    row('`audit prove` (reads the stream\'s hashes, builds the path) ms', (r) => ms(r.proveMs)),
    row(`checkpoint, incremental (saved frontier, ${ADDED} new events) ms`, (r) => ms(r.incrementalMs)),
    row(`checkpoint, same trail without a saved frontier (rereads the whole stream) ms`, (r) => ms(r.rereadMs)),
    row('first checkpoint of the trail (whole stream) ms', (r) => ms(r.fullMs)),
    row('`audit verify --checkpoints` (2 checkpoints, every hash compared) ms', (r) => ms(r.checkpointsMs)),
    row('leaves files, total bytes', (r) => r.leavesBytes.toLocaleString('en')),
    '',
    `Proof size and verify time grow with log2 of the stream's length (the path), not with the trail; the checkpoint inside the proof grows with the number of streams (one line each), here 1. A checkpoint costs the rows added since the previous one when the directory's frontier.json is there, the whole trail otherwise. Filling took ${results.map((r) => `${(r.fillMs / 1000).toFixed(1)} s`).join(' / ')}.`,
    '',
    'Run: `npx tsx bench/checkpoint/index.ts` (or `npm run bench:checkpoint`)',
  ].join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
