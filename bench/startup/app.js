// The app whose start-up is measured: a plain node:http server answering on
// the port the bench gives it (PORT). The bench polls it from the moment it
// spawns the process until the first answer.
const http = require('node:http');

http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"ok":true}');
}).listen(Number(process.env.PORT), '127.0.0.1');
