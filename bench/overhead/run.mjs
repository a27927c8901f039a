// Overhead of activity tracking, side by side in one run: plain node:http;
// auto-instrumentations-node's register with its defaults; cvd-activity's
// register (with and without its OTLP metrics). Three interleaved rounds of autocannon per route; the servers
// export to a local OTLP sink. Writes its section of bench/RESULTS.md.
//   node bench/overhead/run.mjs [--duration 5] [--rounds 5] [--connections 50] [--no-ablation]
// Two reference servers (bench/overhead/variants/, skipped with --no-ablation)
// show where cvd-activity's remaining overhead comes from.
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { cpus } from 'node:os';
import { median, writeResultsSection } from '../results.mjs';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import autocannon from 'autocannon';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const require = createRequire(import.meta.url);
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const DURATION = arg('duration', 5);
// Five rounds: on a shared machine one noisy cell moves a three-round median.
const ROUNDS = arg('rounds', 5);
const CONNECTIONS = arg('connections', 50);
const ROUTES = [['hello-world (1 KB JSON)', '/hello'], ['50 devices (~8 KB JSON)', '/devices']];

// One sink per server that accepts any OTLP export (traces, metrics, logs),
// answers 200 and counts trace bytes: bytes per request show whether a
// variant exported every span or dropped some under load.
let exportedBytes = 0;
async function startSink() {
  const sink = { traceBytes: 0 };
  sink.server = createServer((req, res) => {
    const traces = req.url.endsWith('/v1/traces');
    req.on('data', (c) => {
      exportedBytes += c.length;
      if (traces) sink.traceBytes += c.length;
    });
    req.on('end', () => res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/json' }).end());
  });
  await new Promise((r) => sink.server.listen(0, '127.0.0.1', r));
  sink.url = `http://127.0.0.1:${sink.server.address().port}`;
  return sink;
}

const VARIANTS = [
  { name: 'plain', execArgv: [] },
  { name: 'auto-instrumentations-node', execArgv: ['--require', require.resolve('@opentelemetry/auto-instrumentations-node/register')] },
  { name: 'cvd-activity', execArgv: ['--require', join(root, 'dist', 'register.js')] },
  // The activity counters exported as OTLP metrics (on by default) must cost
  // nothing per request: this row turns them off for comparison.
  { name: 'cvd-activity, OTEL_METRICS_EXPORTER=none', execArgv: ['--require', join(root, 'dist', 'register.js')], env: { OTEL_METRICS_EXPORTER: 'none' } },
  ...(!process.argv.includes('--no-ablation') ? [
    { name: 'ablation: SDK + instrumentation-http defaults', execArgv: ['--require', join(here, 'variants', 'sdk-http-defaults.js')] },
    { name: 'ablation: SDK + bare emit-patch span', execArgv: ['--require', join(here, 'variants', 'sdk-lean-server-span.js')] },
  ] : []),
];

function cleanEnv(sinkUrl) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(OTEL_|CVD_ACTIVITY_|NODE_OPTIONS$)/.test(k)) env[k] = v;
  return { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_SERVICE_NAME: 'bench', OTEL_LOG_LEVEL: 'error' };
}

async function startServer(variant) {
  const sink = await startSink();
  const child = fork(join(here, 'server.js'), [], { execArgv: variant.execArgv, env: { ...cleanEnv(sink.url), ...variant.env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`${variant.name} server exited (${code})`)));
  });
  const cpu = () => new Promise((resolve) => {
    child.once('message', (m) => resolve(m.cpu.user + m.cpu.system));
    child.send('cpu');
  });
  return { ...variant, child, port, cpu, sink };
}

const load = (url, duration) => new Promise((resolve, reject) => {
  autocannon({ url, connections: CONNECTIONS, duration }, (err, result) => (err ? reject(err) : resolve(result)));
});

const servers = [];
for (const v of VARIANTS) servers.push(await startServer(v));
const samples = {}; // `${variant}|${route}` → [{rps, p50, p99, cpuPerReq}]
try {
  // Warm every server and route once (JIT, lazy requires), unmeasured.
  for (const s of servers) for (const [, path] of ROUTES) await load(`http://127.0.0.1:${s.port}${path}`, 1);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [label, path] of ROUTES) {
      for (const s of servers) {
        const before = await s.cpu();
        const bytesBefore = s.sink.traceBytes;
        const r = await load(`http://127.0.0.1:${s.port}${path}`, DURATION);
        const cpu = (await s.cpu()) - before;
        // Let the last batch of this window arrive before counting its bytes.
        await new Promise((res) => setTimeout(res, 300));
        const traceBytes = s.sink.traceBytes - bytesBefore;
        const done = r['2xx'];
        const key = `${s.name}|${label}`;
        (samples[key] ??= []).push({ rps: done / DURATION, p50: r.latency.p50, p99: r.latency.p99, cpuPerReq: cpu / done, bytesPerReq: traceBytes / done });
        console.log(`round ${round} ${s.name.padEnd(46)} ${label.padEnd(24)} ${Math.round(done / DURATION)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  ${(cpu / done).toFixed(1)} µs CPU/req  ${(traceBytes / done).toFixed(0)} trace B/req  errors ${r.errors + r.non2xx}`);
      }
    }
  }
} finally {
  for (const s of servers) {
    s.child.kill('SIGKILL');
    s.sink.server.close();
  }
}

const m = (variant, label, field) => median(samples[`${variant}|${label}`].map((x) => x[field]));

const lines = [
  '## Overhead: plain vs auto-instrumentations-node vs cvd-activity',
  '',
  `Written by \`npm run bench:overhead\` (\`node bench/overhead/run.mjs\`) on ${new Date().toISOString().slice(0, 16)}Z,`,
  `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}. autocannon ${CONNECTIONS} connections, ${DURATION} s per cell,`,
  `${ROUNDS} interleaved rounds, medians. Servers export to a local OTLP/HTTP sink (${(exportedBytes / 1e6).toFixed(1)} MB received).`,
  'Server CPU is the server process\'s own user+system time (process.cpuUsage) over the load window, divided by answered requests.',
  'Trace bytes/req (OTLP protobuf received by the variant\'s own sink) shows that every variant exported its spans rather than dropping them.',
  'The load generator shares the machine\'s cores with the server: compare ratios, not absolute numbers.',
  '',
  '| route | variant | req/s | vs plain | p50 ms | p99 ms | server CPU µs/req | added CPU µs/req | added vs auto | trace bytes/req |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
];
const verdicts = [];
for (const [label] of ROUTES) {
  const plainCpu = m('plain', label, 'cpuPerReq');
  const autoAdded = m('auto-instrumentations-node', label, 'cpuPerReq') - plainCpu;
  for (const v of VARIANTS) {
    const cpu = m(v.name, label, 'cpuPerReq');
    const added = cpu - plainCpu;
    const vsAuto = v.name === 'plain' ? '' : `${(added / autoAdded).toFixed(2)}`;
    lines.push(`| ${label} | ${v.name} | ${Math.round(m(v.name, label, 'rps'))} | ${(m(v.name, label, 'rps') / m('plain', label, 'rps')).toFixed(2)} | ${m(v.name, label, 'p50')} | ${m(v.name, label, 'p99')} | ${cpu.toFixed(1)} | ${v.name === 'plain' ? '' : added.toFixed(1)} | ${vsAuto} | ${m(v.name, label, 'bytesPerReq').toFixed(0)} |`);
  }
  const ratio = (m('cvd-activity', label, 'cpuPerReq') - plainCpu) / autoAdded;
  verdicts.push(`- ${label}: cvd-activity adds ${(ratio * 100).toFixed(0)}% of the CPU per request that auto-instrumentations-node adds (${ratio < 0.5 ? 'meets the target of half' : ratio < 1 ? 'less than auto-instrumentations-node, short of the target of half' : 'NOT less than auto-instrumentations-node'}).`);
}
const HTTP = 'ablation: SDK + instrumentation-http defaults';
const BARE = 'ablation: SDK + bare emit-patch span';
if (samples[`${HTTP}|${ROUTES[0][0]}`]) {
  verdicts.push('', 'Where cvd-activity\'s added CPU goes (µs per request, from the ablation rows of this run):');
  for (const [label] of ROUTES) {
    const plainCpu = m('plain', label, 'cpuPerReq');
    const cvd = m('cvd-activity', label, 'cpuPerReq') - plainCpu;
    const http = m(HTTP, label, 'cpuPerReq') - plainCpu;
    const bare = m(BARE, label, 'cpuPerReq') - plainCpu;
    verdicts.push(`- ${label}: ${cvd.toFixed(1)} added = ${bare.toFixed(1)} recording and exporting a bare server span (SDK, sampler-free, stock batch processor and OTLP protobuf exporter)`
      + ` + ${(http - bare).toFixed(1)} instrumentation-http's incoming-request path + ${(cvd - http).toFixed(1)} cvd-activity's own parts`
      + ' (hooks, request context, enrichment, noise rules; negative means within the noise).');
  }
}
const missed = ROUTES.some(([label]) => (m('cvd-activity', label, 'cpuPerReq') - m('plain', label, 'cpuPerReq')) / (m('auto-instrumentations-node', label, 'cpuPerReq') - m('plain', label, 'cpuPerReq')) >= 0.5);
if (missed) {
  verdicts.push('', 'Why half is not reached, and what would close the gap (stage numbers: the profile section below):',
    '- What is left is mostly the floor of the design, not cvd-activity\'s code. instrumentation-http\'s incoming-request path (the ablation rows) parses every URL with `new URL()`,'
      + ' builds span, hook and metric attribute objects and two contexts, binds the request and response emitters, tracks spans in a WeakSet and times a histogram;'
      + ' the SDK then sanitizes the attributes twice before the span exists. Closing that part needs cheaper paths upstream (URL parts from `req.url`, no metric work without a MeterProvider,'
      + ' one sanitize pass) or replacing its incoming-request handling, which the design rules out (the bare emit-patch row is what that would cost).',
    Number(process.versions.node.split('.')[0]) >= 24
      ? `- AsyncLocalStorage on this Node (${process.version}) runs on AsyncContextFrame, the default from Node 24: no async_hooks init hook per async resource, for every tracer alike.`
      : '- AsyncLocalStorage on this Node runs on async_hooks: once a store exists, every async resource (each nextTick, promise and socket write) runs an init hook and carries the stores.'
        + ' Node 22 with `--experimental-async-context-frame` (the default from Node 24) removes that cost for every tracer alike.',
    '- Not done on purpose: a hand-written one-pass protobuf serializer (byte-identical to the SDK\'s, about 5 µs less per span in a microbenchmark) was tried;'
      + ' its gain was below the run-to-run noise of this bench, and the project keeps the maintained SDK exporter rather than its own encoder.',
    '- Garbage (measured once by hand on Node 20 with the OpenTelemetry 2.x line, not by this script): a request allocated about 15 KB under cvd-activity, 7 KB in the plain server and 21 KB under auto-instrumentations-node (V8 sampling heap profiler, `/hello`);'
      + ' most of the difference is instrumentation-http\'s and the SDK\'s per-request objects and the async_hooks bookkeeping above.',
    '- Already done in cvd-activity: spans go out as OTLP protobuf (the SDK\'s exporter-trace-otlp-proto; its JSON sibling costs several times more per span);'
      + ' events are bound to the request context with one closure per emit, not per listener; no metric work per request (the request counters are plain integers, read by observable instruments once per export interval on a MeterProvider that instrumentation-http does not see);'
      + ' attributes that say nothing about the activity (peer port, protocol version, server port, peer address when no proxy is trusted) are not recorded; the audit pipeline adds nothing per request.');
}
lines.push('', ...verdicts);

const resultsPath = writeResultsSection('overhead', lines.join('\n'));
console.log(`\n${lines.join('\n')}\n\nwritten to ${resultsPath}`);
