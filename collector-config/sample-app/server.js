/**
 * STAND-IN for the demo app in docker-compose.yml until `cvd-activity demo`
 * lands: a tiny CVD-flavoured HTTP API on node:http, run under
 * `node --require cvd-activity/register`, that also sends itself a bounded
 * trickle of traffic so the stack has something to show: routine reads,
 * price changes (audit events), 401/403 answers, slow reports and errors.
 *
 * Env: PORT (8080), SAMPLE_TRAFFIC_RPS (requests per second to itself, 0 = off; 2).
 */
'use strict';
const http = require('node:http');

// The public API, when this build has it; the app runs without it too.
let cvd = {};
try {
  cvd = require('cvd-activity');
} catch {
  cvd = {};
}

/** Records an audit event if the package's API offers it; never throws into the request. */
function audit(action, details) {
  try {
    if (cvd.audit && typeof cvd.audit.record === 'function') cvd.audit.record(action, details);
  } catch (error) {
    console.error(`audit.record failed: ${error && error.message}`);
  }
}

const prices = new Map([['1', 4.99], ['2', 12.5], ['3', 0.89]]);

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const path = url.pathname;
  if (path === '/health') return send(res, 200, { ok: true });
  if (req.method === 'GET' && path === '/api/prices') return send(res, 200, Object.fromEntries(prices));
  const price = path.match(/^\/api\/prices\/(\w+)$/);
  if (req.method === 'PUT' && price) {
    if (req.headers.authorization !== 'Bearer demo-operator') return send(res, 401, { error: 'unauthorized' });
    const old = prices.get(price[1]);
    const next = Math.round((Math.random() * 20 + 0.5) * 100) / 100;
    prices.set(price[1], next);
    audit('PRICE_CHANGE', { productId: price[1], oldPrice: old ?? null, newPrice: next });
    return send(res, 200, { id: price[1], price: next });
  }
  if (path === '/api/admin/users') return send(res, 403, { error: 'forbidden' });
  if (path === '/api/reports/sales') return setTimeout(() => send(res, 200, { rows: 1200 }), 1200 + Math.random() * 600);
  if (path === '/api/devices/sync') return send(res, 500, { error: 'device registry unavailable' });
  return send(res, 404, { error: 'not found' });
});

/** One request of the built-in traffic, picked with realistic weights. */
function nextRequest() {
  const r = Math.random();
  const id = String(1 + Math.floor(Math.random() * 3));
  if (r < 0.70) return { method: 'GET', path: '/api/prices?page=1' };
  if (r < 0.80) return { method: 'PUT', path: `/api/prices/${id}`, headers: { authorization: 'Bearer demo-operator' } };
  if (r < 0.85) return { method: 'PUT', path: `/api/prices/${id}` };
  if (r < 0.90) return { method: 'GET', path: '/api/admin/users' };
  if (r < 0.95) return { method: 'GET', path: '/api/reports/sales' };
  return { method: 'POST', path: '/api/devices/sync' };
}

const port = Number(process.env.PORT || 8080);
server.listen(port, '0.0.0.0', () => {
  console.log(`sample app listening on :${port}`);
  const rps = Number(process.env.SAMPLE_TRAFFIC_RPS ?? 2);
  if (!(rps > 0)) return;
  setInterval(() => {
    const { method, path, headers } = nextRequest();
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => res.resume());
    req.on('error', () => {});
    req.end();
  }, Math.max(10, Math.round(1000 / rps))).unref();
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => server.close(() => process.exit(0)));
}
