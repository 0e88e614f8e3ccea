// One HTTP server on 127.0.0.1 (random port) for both the OpenAI-compatible API and the
// WebSocket stream at /ws. Both need the token; the WebSocket takes it as `?token=` (browsers,
// hence webviews, cannot set headers on a WebSocket) or as `Authorization: Bearer`.
import { timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { WS_PATH, type DaemonStatus, type WsMessage } from '../protocol/messages';
import type { EventHub } from './hub';

/** A slow client holding more than this unsent is dropped rather than buffering without bound. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export interface EndpointOptions {
  token: string;
  hub: EventHub;
  version: string;
  status: () => DaemonStatus;
  /** Handles every plain HTTP request (the API checks the token itself). */
  http: (req: http.IncomingMessage, res: http.ServerResponse) => void;
}

export interface Endpoints {
  port: number;
  httpUrl: string;
  wsUrl: string;
  close(): Promise<void>;
}

/** The token from an `Authorization: Bearer <token>` header, if any. */
export function bearerToken(req: http.IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

/** Constant-time comparison, so response timing does not leak how much of a guess was right. */
export function tokenMatches(given: string | undefined | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function refuseUpgrade(socket: Duplex, code: number, reason: string): void {
  socket.end(`HTTP/1.1 ${code} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

/** Starts the server on 127.0.0.1 and a random port. */
export async function startEndpoints(opts: EndpointOptions): Promise<Endpoints> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const clients = new Set<WebSocket>();
  const server = http.createServer(opts.http);

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== WS_PATH) return refuseUpgrade(socket, 404, 'Not Found');
    if (!tokenMatches(url.searchParams.get('token') ?? bearerToken(req), opts.token))
      return refuseUpgrade(socket, 401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      // hello and replay go out before the socket joins the broadcast set, and all of this runs
      // in one tick, so a client sees every message exactly once and in order.
      const hello: WsMessage = { type: 'hello', version: opts.version, status: opts.status() };
      ws.send(JSON.stringify(hello));
      ws.send(JSON.stringify(opts.hub.replay()));
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('error', () => clients.delete(ws));
    });
  });

  const unsubscribe = opts.hub.subscribe((msg) => {
    if (!clients.size) return;
    const data = JSON.stringify(msg);
    for (const ws of clients) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        ws.terminate();
        clients.delete(ws);
        continue;
      }
      ws.send(data);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}${WS_PATH}`,
    close: async () => {
      unsubscribe();
      for (const ws of clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
