// The server side of bench/browser, in a child process of its own so the load
// generator's CPU is not counted: either the browser-activity endpoint
// (validation, user-agent parsing, rows into PostgreSQL) or a baseline that
// only reads the body, parses the JSON and answers 204.
import { createServer } from 'node:http';
import { browserActivityEndpoint } from '../../src/browserEndpoint/browserActivityEndpoint';

const [variant, databaseUrl, schema] = process.argv.slice(2);

const endpoint = variant === 'endpoint'
  // No rate limit: all load comes from one address here; what is measured is the work per event.
  ? browserActivityEndpoint({ databaseUrl, schema, rateLimit: { perMinute: 1e12, burst: 1e12 } })
  : null;

/** Events the baseline answered 204 for (the endpoint counts its own in stats.accepted). */
let baselineEvents = 0;
const server = createServer((req, res) => {
  if (endpoint) return endpoint(req, res);
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const batch = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { pages: Array<{ events: unknown[] }> };
    baselineEvents += batch.pages.reduce((n, p) => n + p.events.length, 0);
    res.writeHead(204).end();
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
});

// The parent asks for the CPU used so far (after flushing what the endpoint accepted) and for the stats.
process.on('message', async (msg: string) => {
  if (msg === 'flush') await endpoint?.flush();
  const cpu = process.cpuUsage();
  process.send!({ cpuMicros: cpu.user + cpu.system, events: endpoint ? endpoint.stats.accepted : baselineEvents, stored: endpoint?.stats.written ?? 0 });
  if (msg === 'stop') {
    await endpoint?.close();
    process.exit(0);
  }
});
