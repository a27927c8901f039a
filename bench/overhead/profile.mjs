// Where the CPU time goes: runs each variant's server under --cpu-prof with
// the same autocannon load and compares self time per request by package, in
// one run. Writes the `overhead-profile` section of bench/RESULTS.md.
//   node bench/overhead/profile.mjs [/hello|/devices]
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { writeResultsSection } from '../results.mjs';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import autocannon from 'autocannon';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const require = createRequire(import.meta.url);
const path = process.argv[2] ?? '/hello';
const VARIANTS = {
  plain: [],
  'auto-instrumentations-node': ['--require', require.resolve('@opentelemetry/auto-instrumentations-node/register')],
  'cvd-activity': ['--require', join(root, 'dist', 'register.js')],
};

const sink = createServer((req, res) => { req.resume(); req.on('end', () => res.end()); });
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(OTEL_|CVD_ACTIVITY_)/.test(k)));

const bucket = (url) => {
  if (!url) return '(native: syscalls, GC, JSON)';
  if (url.includes(`${root}/dist/`) && !url.includes('node_modules')) return 'cvd-activity';
  // The innermost package: auto-instrumentations-node nests an SDK of its own.
  const m = /.*node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return 'node core';
  return 'app';
};

async function profile(name) {
  const outDir = join(root, 'bench', '.tmp', `prof-${name}`);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const child = fork(join(here, 'server.js'), [], {
    execArgv: [...VARIANTS[name], '--cpu-prof', '--cpu-prof-dir', outDir],
    env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.address().port}`, OTEL_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  const port = await new Promise((r) => child.on('message', (m) => m.port && r(m.port)));
  const url = `http://127.0.0.1:${port}${path}`;
  await new Promise((r) => autocannon({ url, connections: 50, duration: 1 }, r)); // warm-up
  const result = await new Promise((r) => autocannon({ url, connections: 50, duration: 5 }, (e, res) => r(res)));
  child.send('exit');
  await new Promise((r) => child.once('exit', r));
  const prof = JSON.parse(readFileSync(join(outDir, readdirSync(outDir)[0]), 'utf8'));
  const dt = new Map();
  for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const byBucket = new Map();
  const byFn = new Map();
  for (const node of prof.nodes) {
    const t = dt.get(node.id) ?? 0;
    if (node.callFrame.functionName === '(idle)' || t === 0) continue;
    const b = bucket(node.callFrame.url);
    byBucket.set(b, (byBucket.get(b) ?? 0) + t);
    const fn = `${node.callFrame.functionName || '(anonymous)'} (${b})`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + t);
  }
  console.error(`${name}: ${result['2xx']} requests`);
  return { requests: result['2xx'], byBucket, byFn, byStage: stages(prof) };
}

// Where the time goes by stage of a request (inclusive: a sample counts for a
// stage when a matching function is on its stack). Stages may overlap where
// noted; async_hooks and GC are self time wherever they happened.
const STAGE_DEFS = [
  ['instrumentation-http request path (its hooks included, app handler excluded)', (f) => f.has('httpIncoming') && !f.has('app')],
  ['  of which WHATWG URL parsing (`new URL(req.url)`)', (f) => f.has('urlParse')],
  ['  of which starting the span (SDK Tracer.startSpan: ids, sampler, attributes)', (f) => f.has('startSpan') && !f.has('app')],
  ['response end: close handler, enrichment, span end (export excluded)', (f) => f.has('responseFinish') && !f.has('export')],
  ['batching, encoding and exporting spans (processor, serializer, OTLP/HTTP)', (f) => f.has('export')],
  ['metrics SDK (http.server duration histograms)', (f) => f.has('metrics')],
  ['AsyncLocalStorage propagation (node:async_hooks, self time)', (f, leaf) => leaf.url.startsWith('node:internal/async_hooks') || leaf.url === 'node:async_hooks'],
  ['garbage collection', (f, leaf) => leaf.functionName === '(garbage collector)'],
];
function frameFlags(cf) {
  const { functionName: fn, url } = cf;
  const flags = [];
  if (fn === 'incomingRequest' && url.includes('instrumentation-http')) flags.push('httpIncoming');
  if (url.endsWith('bench/overhead/server.js')) flags.push('app');
  if (fn === 'getInfoFromIncomingMessage') flags.push('urlParse');
  if (fn === 'startSpan' && url.includes('sdk-trace') && /\/Tracer\.[cm]?js$/.test(url)) flags.push('startSpan');
  if (fn === '_onServerResponseFinish') flags.push('responseFinish');
  if (/BatchSpanProcessorBase|otlp-exporter-base|otlp-transformer|spanSerializer|ProtobufWriter|exporter-trace-otlp/.test(url)) flags.push('export');
  if (url.includes('sdk-metrics')) flags.push('metrics');
  return flags;
}
function stages(prof) {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const dt = new Map();
  for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const out = new Map();
  for (const [id, t] of dt) {
    const leaf = byId.get(id).callFrame;
    const flags = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) for (const f of frameFlags(byId.get(at).callFrame)) flags.add(f);
    for (const [label, match] of STAGE_DEFS) if (match(flags, leaf)) out.set(label, (out.get(label) ?? 0) + t);
  }
  return out;
}

const results = {};
for (const name of Object.keys(VARIANTS)) results[name] = await profile(name);
sink.close();

// µs per request (profile includes start-up and warm-up; the same for all variants).
const per = (name, t) => t / results[name].requests;
const buckets = [...new Set(Object.values(results).flatMap((r) => [...r.byBucket.keys()]))]
  .sort((a, b) => (results['cvd-activity'].byBucket.get(b) ?? 0) - (results['cvd-activity'].byBucket.get(a) ?? 0));
const names = Object.keys(VARIANTS);
const lines = [
  `## Where the CPU goes (\`node bench/overhead/profile.mjs ${path}\`)`,
  '',
  `Self time per request by package under \`--cpu-prof\`, 5 s of autocannon (50 connections) on \`${path}\`, one run, ${new Date().toISOString().slice(0, 16)}Z.`,
  'Profiling inflates absolute numbers; compare rows across columns.',
  '',
  `| package | ${names.join(' | ')} |`,
  `|---|${names.map(() => '---:').join('|')}|`,
];
// Rows under 0.5 µs/req everywhere are folded into one.
const small = (b) => names.every((n) => per(n, results[n].byBucket.get(b) ?? 0) < 0.5);
for (const b of buckets.filter((b) => !small(b))) lines.push(`| ${b} | ${names.map((n) => (per(n, results[n].byBucket.get(b) ?? 0)).toFixed(1)).join(' | ')} |`);
lines.push(`| (other packages) | ${names.map((n) => per(n, buckets.filter(small).reduce((a, b) => a + (results[n].byBucket.get(b) ?? 0), 0)).toFixed(1)).join(' | ')} |`);
lines.push(`| **total** | ${names.map((n) => per(n, [...results[n].byBucket.values()].reduce((a, c) => a + c, 0)).toFixed(1)).join(' | ')} |`);
lines.push('', 'By stage of a request (µs per request, inclusive of what each stage calls; the indented rows are part of the row above):', '');
lines.push(`| stage | ${names.join(' | ')} |`, `|---|${names.map(() => '---:').join('|')}|`);
for (const [label] of STAGE_DEFS) lines.push(`| ${label.replace(/^  /, '&nbsp;&nbsp;')} | ${names.map((n) => per(n, results[n].byStage.get(label) ?? 0).toFixed(1)).join(' | ')} |`);
lines.push('', 'Hottest functions of cvd-activity\'s server (µs per request):', '');
for (const [fn, t] of [...results['cvd-activity'].byFn].sort((a, b) => b[1] - a[1]).slice(0, 20)) lines.push(`- ${per('cvd-activity', t).toFixed(1)} ${fn}`);
const section = lines.join('\n');
console.log(section);

const resultsPath = writeResultsSection('overhead-profile', lines.join('\n'));
