import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Test pages on 127.0.0.1: a link, a form, a slow page, a page that never loads, popups, redirects and subresources elsewhere. */
export interface TestSite { base: string; port: number; hits: string[]; close(): Promise<void> }

export async function startSite(elsewhere = ''): Promise<TestSite> {
  const hits: string[] = [];
  const html = (title: string, body: string) => `<!doctype html><html><head><title>${title}</title></head><body>${body}</body></html>`;
  const server: Server = createServer(async (req, res) => {
    hits.push(`${req.method} ${req.url}`);
    const page = (title: string, body: string) => { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }); res.end(html(title, body)); };
    let raw = '';
    for await (const c of req) raw += c;
    const url = new URL(req.url!, 'http://x');
    switch (url.pathname) {
      case '/': return page('Home', '<h1>Welcome</h1><p>Plinth   test\n\n\n site.</p><a href="/form">Form</a><div style="height:3000px"></div><p id="bottom">bottom</p>');
      case '/form': return page('Form', `<form method="post" action="/submit"><label>Name <input name="name" id="name"></label>
        <select name="color" id="color"><option value="red">Red</option><option value="blue">Blue</option></select>
        <button type="submit" id="send">Send</button></form>`);
      case '/submit': {
        const f = new URLSearchParams(raw);
        res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': 'seen=1; Path=/' });
        return res.end(html('Thanks', `<p id="thanks">Thanks, ${f.get('name')}! You chose ${f.get('color')}.</p>`));
      }
      case '/cookie': return page('Cookie', `<p id="c">${req.headers.cookie ?? 'none'}</p>`);
      case '/slow': await new Promise(r => setTimeout(r, 700)); return page('Slow', '<p>finally</p>');
      case '/never': return; // headers never come
      case '/late': setTimeout(() => page('Late', '<p id="late">here</p>'), 100); return;
      case '/popups': return page('Popups', '<script>for (let i = 0; i < 6; i++) window.open("/?popup=" + i);</script><p>opened</p>');
      case '/redirect-away': res.writeHead(302, { location: `${elsewhere}/` }); return res.end();
      case '/image-away': return page('Image', `<img src="${elsewhere}/pixel.png"><p>with an image from elsewhere</p>`);
      case '/pixel.png': res.writeHead(200, { 'content-type': 'image/png' }); return res.end(Buffer.alloc(10));
      case '/ws': return page('WS', '<script>const w = new WebSocket("ws://" + location.host + "/sock"); w.onclose = () => document.title = "closed"; w.onopen = () => document.title = "open";</script>');
      default: res.writeHead(404); return res.end('no');
    }
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`, port, hits,
    close: () => new Promise(r => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
