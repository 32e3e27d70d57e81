'use strict';
// A local OTLP/HTTP trace receiver for benchmarks: accepts POST /v1/traces, counts exports and
// bytes without decoding them (GET /count), listening on a free port.
const http = require('node:http');
let received = 0;
let bytes = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/count') return res.end(JSON.stringify({ exports: received, bytes }));
  req.on('data', d => { bytes += d.length; });
  req.on('end', () => { received++; res.writeHead(200, { 'content-type': 'application/json' }); res.end('{}'); });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
