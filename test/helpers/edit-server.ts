/**
 * A programmable loopback HTTP server for the edit client's tests. It records
 * every request (method, url, headers, raw body and, for multipart bodies, the
 * parsed form) and answers each with the next handler of its queue.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32, deflateSync } from 'node:zlib';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The raw body as received. */
  body: Buffer;
  /** The multipart body, parsed by the platform's own parser. */
  form?: FormData;
  /** Why the multipart body could not be parsed, if it could not. */
  formError?: string;
}

/** Answers one request. The body has been read (and parsed) already. */
export type Handler = (req: RecordedRequest, res: http.ServerResponse) => void | Promise<void>;

export interface TestServer {
  origin: string;
  url(path?: string): URL;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Queues handlers: each answers the next request. */
  queue(...handlers: Handler[]): void;
  /** Answers requests once the queue is empty (default: HTTP 500 "no handler queued"). */
  fallback: Handler;
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 (a free port). */
export async function startEditServer(): Promise<TestServer> {
  const handlers: Handler[] = [];
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => undefined);
    req.on('end', () => {
      void (async () => {
        const recorded: RecordedRequest = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks)
        };
        const contentType = req.headers['content-type'] ?? '';
        if (contentType.startsWith('multipart/form-data')) {
          try {
            recorded.form = await new Request(`http://127.0.0.1${recorded.url}`, {
              method: recorded.method,
              headers: { 'content-type': contentType },
              body: recorded.body,
              duplex: 'half'
            } as RequestInit).formData();
          } catch (err) {
            recorded.formError = String(err);
          }
        }
        requests.push(recorded);
        const handler = handlers.shift() ?? api.fallback;
        try {
          await handler(recorded, res);
        } catch (err) {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`handler failed: ${String(err)}`);
        }
      })();
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const api: TestServer = {
    origin,
    url: (path = '/v1/images/edits') => new URL(path, origin),
    requests,
    queue: (...more) => void handlers.push(...more),
    fallback: (_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'no handler queued' } }));
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
    }
  };
  return api;
}

/** Answers JSON. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

/** Answers raw bytes or text with a given content type. */
export function raw(status: number, body: string | Buffer, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  };
}

/** Never answers (the client must time out or abort). */
export function hang(): Handler {
  return () => undefined;
}

/** Sends headers and part of a body, then stalls. */
export function stall(): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    res.write('{"created":1,"data":[');
  };
}

/** Drops the connection without an answer. */
export function reset(): Handler {
  return (_req, res) => {
    res.socket?.destroy();
  };
}

/** Redirects to `location`. */
export function redirect(status: number, location: string): Handler {
  return (_req, res) => {
    res.writeHead(status, { location });
    res.end();
  };
}

/** Answers an event stream, written frame by frame. */
export function sse(events: Array<{ event?: string; data: unknown }>, headers: Record<string, string> = {}): Handler {
  return async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers });
    for (const { event, data } of events) {
      const text = typeof data === 'string' ? data : JSON.stringify(data);
      res.write(`${event ? `event: ${event}\n` : ''}data: ${text}\n\n`);
      await new Promise(resolve => setTimeout(resolve, 5));
    }
    res.end();
  };
}

/** A small valid PNG (RGB, `width`×`height`), its pixels varied by `seed`. */
export function tinyPng(width = 2, height = 2, seed = 0): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width * 3; x++) row[1 + x] = (seed * 31 + y * 7 + x * 13) & 0xff;
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0))
  ]);
}
