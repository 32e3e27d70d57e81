'use strict';
// The baseline: a bare Koa app with one JSON route, listening on a free port.
const Koa = require('koa');
const app = new Koa();
app.use(async ctx => {
  if (ctx.method === 'GET' && ctx.path === '/api/ping/ping') ctx.body = { ok: true, version: 'v0' };
  else ctx.status = 404;
});
const server = app.listen(0, '127.0.0.1', () => process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
