// What the overhead benches share: an OTLP sink per server, the server child
// process (its own CPU time over IPC), and one autocannon load window.
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import autocannon from 'autocannon';

/** The number after `--name` on the command line, else `dflt`. */
export const numberArg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};

let exportedBytes = 0;

/** OTLP bytes received by every sink so far. */
export const totalExportedBytes = () => exportedBytes;

// One sink per server that accepts any OTLP export (traces, metrics, logs),
// answers 200 and counts trace bytes: bytes per request show whether a
// variant exported every span or dropped some under load.
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

function cleanEnv(sinkUrl) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(OTEL_|CVD_ACTIVITY_|NODE_OPTIONS$)/.test(k)) env[k] = v;
  return { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_SERVICE_NAME: 'bench', OTEL_LOG_LEVEL: 'error' };
}

/** Forks `script` with the variant's flags and environment; resolves once it listens. */
export async function startServer(variant, script) {
  const sink = await startSink();
  const child = fork(script, [], { execArgv: variant.execArgv, env: { ...cleanEnv(sink.url), ...variant.env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`${variant.name} server exited (${code})`)));
  });
  const cpu = () => new Promise((resolve) => {
    child.once('message', (m) => resolve(m.cpu.user + m.cpu.system));
    child.send('cpu');
  });
  const stop = () => {
    child.kill('SIGKILL');
    sink.server.close();
  };
  return { ...variant, child, port, cpu, sink, stop };
}

/** One load window of `duration` s on `url`. */
export const load = (url, duration, connections) => new Promise((resolve, reject) => {
  autocannon({ url, connections, duration }, (err, result) => (err ? reject(err) : resolve(result)));
});

/**
 * Loads `server` on `url` for `duration` s; returns req/s, latencies, the
 * server's CPU per answered request and the trace bytes it exported per request.
 */
export async function measure(server, url, duration, connections) {
  const before = await server.cpu();
  const bytesBefore = server.sink.traceBytes;
  const r = await load(url, duration, connections);
  const cpu = (await server.cpu()) - before;
  // Let the last batch of this window arrive before counting its bytes.
  await new Promise((res) => setTimeout(res, 300));
  const done = r['2xx'];
  return { rps: done / duration, p50: r.latency.p50, p99: r.latency.p99, cpuPerReq: cpu / done, bytesPerReq: (server.sink.traceBytes - bytesBefore) / done, errors: r.errors + r.non2xx };
}
