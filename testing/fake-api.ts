/**
 * Helpers for fakes of internet services (a chat platform's API, a webhook sender) on 127.0.0.1:
 * failures on demand, what was received and what was delivered.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FailureMode = { kind: '500' } | { kind: '429'; retryAfter: number } | { kind: 'hang' };

export interface FakeApi {
  url: string;
  /** Every request that the fake answered with success, in order. */
  delivered: Array<{ method: string; params: any; at: number }>;
  /** Every request received, including failed ones. */
  received: Array<{ method: string; params: any; at: number; status: number }>;
  /** Fail the next n requests (Infinity: until `heal()`). */
  fail(mode: FailureMode, n?: number): void;
  heal(): void;
  close(): Promise<void>;
}

export function readJsonBody(req: IncomingMessage): Promise<any> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => { try { resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {}); } catch (e) { reject(e); } });
    req.on('error', reject);
  });
}

export async function listenLocal(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  server.keepAliveTimeout = 1000;
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export function failureControls() {
  let mode: FailureMode | undefined;
  let left = 0;
  return {
    fail(m: FailureMode, n = Infinity) { mode = m; left = n; },
    heal() { mode = undefined; left = 0; },
    take(): FailureMode | undefined {
      if (!mode || left <= 0) return undefined;
      left--;
      return mode;
    },
  };
}

export const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
