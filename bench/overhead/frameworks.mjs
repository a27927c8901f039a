// Overhead per framework, all in one run: for node:http, Express 4 and 5,
// Fastify 5, Koa 3 + @koa/router, Hono + @hono/node-server and NestJS, the
// plain framework vs auto-instrumentations-node's register vs cvd-activity's
// (and cvd-activity with its route extraction off, to isolate that cost), on
// a route mounted under /api/v2 (so route extraction runs per request).
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
  // Ablation: the same without route extraction; the difference is what extraction costs.
  { name: 'cvd-activity, routes off', execArgv: ['--require', join(here, 'variants', 'cvd-no-routes.js')] },
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
  'Added CPU is the server\'s CPU per request minus the plain framework\'s in the same run. Route extraction is cvd-activity\'s CPU per request',
  'minus the same register with route extraction switched off (bench/overhead/variants/cvd-no-routes.js); on node:http (no router) it does nothing,',
  'so that row\'s value is the run\'s noise floor. Frameworks that create more promises per request pay more for context propagation under any tracer.',
  '',
  '| framework | plain req/s | auto req/s | cvd req/s | plain CPU µs/req | auto added µs/req | cvd added µs/req | cvd vs auto | route extraction µs/req | cvd trace B/req |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];
const extraction = (name) => m(name, 'cvd-activity', 'cpuPerReq') - m(name, 'cvd-activity, routes off', 'cpuPerReq');
for (const { name } of FRAMEWORKS) {
  const cvd = added(name, 'cvd-activity');
  lines.push(`| ${name} | ${Math.round(m(name, 'plain', 'rps'))} | ${Math.round(m(name, 'auto-instrumentations-node', 'rps'))} | ${Math.round(m(name, 'cvd-activity', 'rps'))} | `
    + `${m(name, 'plain', 'cpuPerReq').toFixed(1)} | ${added(name, 'auto-instrumentations-node').toFixed(1)} | ${cvd.toFixed(1)} | ${(cvd / added(name, 'auto-instrumentations-node')).toFixed(2)} | `
    + `${extraction(name).toFixed(1)} | ${m(name, 'cvd-activity', 'bytesPerReq').toFixed(0)} |`);
}
// Noise: the spread (max − min) over the rounds of node:http's cvd-activity CPU per request.
const httpRounds = samples['node:http|cvd-activity'].map((x) => x.cpuPerReq);
const noise = Math.max(...httpRounds) - Math.min(...httpRounds);
const above = FRAMEWORKS.filter(({ name }) => name !== 'node:http' && extraction(name) > noise).map(({ name }) => name);
lines.push('', `Noise of the node:http row in this run (spread of cvd-activity's CPU per request over its rounds): ${noise.toFixed(1)} µs/req. `
  + `Route extraction above that noise: ${above.length === 0 ? 'none' : above.join(', ')}.`);

const resultsPath = writeResultsSection('overhead-frameworks', lines.join('\n'));
console.log(`\n${lines.join('\n')}\n\nwritten to ${resultsPath}`);
