// Overhead per framework, all in one run: for node:http, Express 4 and 5,
// Fastify 5, Koa 3 + @koa/router, Hono + @hono/node-server and NestJS, the
// plain framework vs auto-instrumentations-node's register vs cvd-activity's,
// on a route mounted under /api/v2 (so route extraction runs per request).
// Each framework's three servers run interleaved rounds; writes its section
// of bench/RESULTS.md.
//   node bench/overhead/frameworks.mjs [--duration 3] [--rounds 3] [--connections 50]
import { cpSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, writeResultsSection } from '../results.mjs';
import { load, measure, numberArg, startServer } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const require = createRequire(import.meta.url);
const DURATION = numberArg('duration', 3);
const ROUNDS = numberArg('rounds', 3);
const CONNECTIONS = numberArg('connections', 50);
const PATH = '/api/v2/items/item-42';

// Express 4 is installed as the alias express4; module hooks match packages by
// folder name, so it is loaded from a folder named node_modules/express.
const EXPRESS4 = join(root, '.test-frameworks', 'node_modules', 'express');
if (!existsSync(join(EXPRESS4, 'package.json'))) cpSync(join(root, 'node_modules', 'express4'), EXPRESS4, { recursive: true });

const FRAMEWORKS = [
  { name: 'node:http', env: { BENCH_FRAMEWORK: 'node:http' } },
  { name: 'Express 4', env: { BENCH_FRAMEWORK: 'express', BENCH_EXPRESS: EXPRESS4 } },
  { name: 'Express 5', env: { BENCH_FRAMEWORK: 'express' } },
  { name: 'Fastify 5', env: { BENCH_FRAMEWORK: 'fastify' } },
  { name: 'Koa 3 + @koa/router', env: { BENCH_FRAMEWORK: 'koa' } },
  { name: 'Hono + node-server', env: { BENCH_FRAMEWORK: 'hono' } },
  { name: 'NestJS (express)', env: { BENCH_FRAMEWORK: 'nestjs' } },
];
const VARIANTS = [
  { name: 'plain', execArgv: [] },
  { name: 'auto-instrumentations-node', execArgv: ['--require', require.resolve('@opentelemetry/auto-instrumentations-node/register')] },
  { name: 'cvd-activity', execArgv: ['--require', join(root, 'dist', 'register.js')] },
];

const samples = {}; // `${framework}|${variant}` → [measurements]
for (const framework of FRAMEWORKS) {
  const servers = [];
  try {
    for (const v of VARIANTS) servers.push(await startServer({ ...v, env: framework.env }, join(here, 'frameworkServer.js')));
    for (const s of servers) await load(`http://127.0.0.1:${s.port}${PATH}`, 1, CONNECTIONS); // warm-up, unmeasured
    for (let round = 1; round <= ROUNDS; round++) {
      for (const s of servers) {
        const x = await measure(s, `http://127.0.0.1:${s.port}${PATH}`, DURATION, CONNECTIONS);
        (samples[`${framework.name}|${s.name}`] ??= []).push(x);
        console.log(`round ${round} ${framework.name.padEnd(20)} ${s.name.padEnd(28)} ${Math.round(x.rps)} req/s  ${x.cpuPerReq.toFixed(1)} µs CPU/req  ${x.bytesPerReq.toFixed(0)} trace B/req  errors ${x.errors}`);
      }
    }
  } finally {
    for (const s of servers) s.stop();
  }
}

const m = (framework, variant, field) => median(samples[`${framework}|${variant}`].map((x) => x[field]));
const added = (framework, variant) => m(framework, variant, 'cpuPerReq') - m(framework, 'plain', 'cpuPerReq');
const lines = [
  '## Overhead per framework: plain vs auto-instrumentations-node vs cvd-activity',
  '',
  `Written by \`node bench/overhead/frameworks.mjs\` on ${new Date().toISOString().slice(0, 16)}Z, node ${process.version},`,
  `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}. \`GET ${PATH.replace('item-42', ':itemId')}\` (1 KB JSON) on a router mounted on or prefixed with /api/v2,`,
  `autocannon ${CONNECTIONS} connections, ${DURATION} s per cell, ${ROUNDS} interleaved rounds per framework, medians; each server exports to its own local OTLP sink.`,
  'Added CPU is the server\'s CPU per request minus the plain framework\'s in the same run. cvd-activity\'s route extraction runs on every',
  'request of every framework row except node:http (no router); its cost is the difference between a framework\'s added CPU and node:http\'s.',
  '',
  '| framework | plain req/s | auto req/s | cvd req/s | plain CPU µs/req | auto added µs/req | cvd added µs/req | cvd added − node:http\'s | cvd trace B/req |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
];
const httpAdded = added('node:http', 'cvd-activity');
for (const { name } of FRAMEWORKS) {
  const cvd = added(name, 'cvd-activity');
  lines.push(`| ${name} | ${Math.round(m(name, 'plain', 'rps'))} | ${Math.round(m(name, 'auto-instrumentations-node', 'rps'))} | ${Math.round(m(name, 'cvd-activity', 'rps'))} | `
    + `${m(name, 'plain', 'cpuPerReq').toFixed(1)} | ${added(name, 'auto-instrumentations-node').toFixed(1)} | ${cvd.toFixed(1)} | ${name === 'node:http' ? '' : (cvd - httpAdded).toFixed(1)} | ${m(name, 'cvd-activity', 'bytesPerReq').toFixed(0)} |`);
}
// Noise: the spread (max − min) of node:http's cvd-activity added CPU across rounds.
const rounds = samples['node:http|cvd-activity'].map((x, i) => x.cpuPerReq - samples['node:http|plain'][i].cpuPerReq);
const noise = Math.max(...rounds) - Math.min(...rounds);
lines.push('', `Noise of the node:http row in this run (spread of its added CPU over the rounds): ${noise.toFixed(1)} µs/req. `
  + `Frameworks whose added CPU exceeds node:http's by more than that: ${FRAMEWORKS.filter(({ name }) => name !== 'node:http' && added(name, 'cvd-activity') - httpAdded > noise).map(({ name }) => name).join(', ') || 'none'}.`);

const resultsPath = writeResultsSection('overhead-frameworks', lines.join('\n'));
console.log(`\n${lines.join('\n')}\n\nwritten to ${resultsPath}`);
