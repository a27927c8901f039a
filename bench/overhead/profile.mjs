// Where the CPU time goes: runs one variant's server under --cpu-prof with
// autocannon load and prints self time by package and the hottest functions.
//   node bench/overhead/profile.mjs [cvd-activity|auto-instrumentations-node|plain] [/hello|/devices]
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import autocannon from 'autocannon';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const require = createRequire(import.meta.url);
const variant = process.argv[2] ?? 'cvd-activity';
const path = process.argv[3] ?? '/hello';
const outDir = join(root, 'bench', '.tmp', `prof-${variant}`);
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const sink = createServer((req, res) => { req.resume(); req.on('end', () => res.end('{}')); });
await new Promise((r) => sink.listen(0, '127.0.0.1', r));
const flags = { plain: [], 'auto-instrumentations-node': ['--require', require.resolve('@opentelemetry/auto-instrumentations-node/register')], 'cvd-activity': ['--require', join(root, 'dist', 'register.js')] }[variant];
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(OTEL_|CVD_ACTIVITY_)/.test(k)));
const child = fork(join(here, 'server.js'), [], {
  execArgv: [...flags, '--cpu-prof', '--cpu-prof-dir', outDir],
  env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.address().port}`, OTEL_LOG_LEVEL: 'error' },
});
const port = await new Promise((r) => child.once('message', (m) => r(m.port)));
const result = await new Promise((r) => autocannon({ url: `http://127.0.0.1:${port}${path}`, connections: 50, duration: 5 }, (e, res) => r(res)));
const requests = result['2xx'];
child.send('exit');
await new Promise((r) => child.once('exit', r));
sink.close();

const profile = JSON.parse(readFileSync(join(outDir, readdirSync(outDir)[0]), 'utf8'));
const dt = new Map();
for (let i = 0; i < profile.samples.length; i++) dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
const bucket = (url) => {
  if (!url) return '(native / gc / idle)';
  if (url.includes('/dist/')) return 'cvd-activity';
  const m = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return 'node core';
  return url.replace(root, '.');
};
const byBucket = new Map();
const byFn = new Map();
let total = 0;
for (const node of profile.nodes) {
  const t = dt.get(node.id) ?? 0;
  if (node.callFrame.functionName === '(idle)') continue;
  total += t;
  const b = bucket(node.callFrame.url);
  byBucket.set(b, (byBucket.get(b) ?? 0) + t);
  const fn = `${node.callFrame.functionName || '(anonymous)'} ${b}`;
  byFn.set(fn, (byFn.get(fn) ?? 0) + t);
}
const pct = (t) => `${((100 * t) / total).toFixed(1)}%`.padStart(6) + `${(t / requests).toFixed(1)} µs/req`.padStart(14);
console.log(`${variant} ${path}: ${requests} requests, ${(total / requests).toFixed(1)} µs busy per request (includes start-up); self time by package`);
for (const [b, t] of [...byBucket].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${pct(t)}  ${b}`);
console.log('\nhottest functions');
for (const [f, t] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${pct(t)}  ${f}`);
