// The server under load: two routes, a 1 KB hello-world and a ~8 KB list of
// 50 devices, on plain node:http. The bench asks it for its own CPU time over IPC.
const http = require('node:http');

const hello = JSON.stringify({ message: 'hello world', padding: 'x'.repeat(990) });
const devices = JSON.stringify(Array.from({ length: 50 }, (_, i) => ({
  id: `dev-${String(i).padStart(4, '0')}`, name: `Cooler ${i}`, site: `Store ${i % 7}`, status: i % 5 ? 'online' : 'offline',
  temperature: 3.5 + (i % 4) / 2, firmware: '4.2.17', lastSeen: '2026-11-25T10:00:00.000Z',
})));

const server = http.createServer((req, res) => {
  const body = req.url === '/devices' ? devices : hello;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});

process.on('message', (m) => {
  if (m === 'cpu') process.send({ cpu: process.cpuUsage() });
  if (m === 'exit') process.exit(0); // lets --cpu-prof write its profile
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
