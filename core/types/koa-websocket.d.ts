declare module 'koa-websocket' {
  import type Koa from 'koa';
  import type { ServerOptions } from 'ws';
  type WsApp = Koa & { ws: { use(fn: (ctx: Koa.Context, next: Koa.Next) => unknown): void } };
  export default function websockify(app: Koa, wsOptions?: ServerOptions): WsApp;
}
