/**
 * A loopback stand-in of the GitHub Actions artifact service, as @actions/artifact
 * v6 talks to it: Twirp JSON (`CreateArtifact`, `FinalizeArtifact`) and the Azure
 * Blob block upload to the signed URL (`PUT ?comp=block&blockid=…`, then
 * `PUT ?comp=blocklist`; a single `PUT` is accepted too). It records every call
 * and assembles the uploaded blob (the artifact's zip).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const TWIRP = '/twirp/github.actions.results.api.v1.ArtifactService/';

export interface ServiceCall {
  method: string;
  path: string;
  /** Twirp method name (`CreateArtifact`, …) or `block`, `blocklist`, `blob`. */
  kind: string;
  /** The parsed JSON body of a Twirp call. */
  json?: Record<string, unknown>;
}

export interface ArtifactService {
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  calls: ServiceCall[];
  /** The committed blob (the zip), once the block list was committed. */
  blob(): Buffer | undefined;
  /** The environment @actions/artifact needs to talk to this stand-in. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

export interface ArtifactServiceOptions {
  /** Answer CreateArtifact with this HTTP status and a Twirp error (400 is not retried by the client). */
  failCreateWith?: number;
  /** The artifact id FinalizeArtifact returns. */
  artifactId?: string;
}

/** An unsigned JWT whose `scp` claim carries the run and job ids, as the client reads them. */
export function runtimeToken(runId = 'run-backend-1', jobId = 'job-backend-1'): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ scp: `Actions.GenericRead:x Actions.Results:${runId}:${jobId}` })}.`;
}

/** Starts the stand-in on 127.0.0.1 (a free port). */
export async function startArtifactService(options: ArtifactServiceOptions = {}): Promise<ArtifactService> {
  const calls: ServiceCall[] = [];
  const blocks = new Map<string, Buffer>();
  let committed: Buffer | undefined;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', chunk => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const json = (status: number, value: object): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.method === 'POST' && url.pathname.startsWith(TWIRP)) {
        const kind = url.pathname.slice(TWIRP.length);
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        } catch {
          // recorded as {}
        }
        calls.push({ method: 'POST', path: url.pathname, kind, json: parsed });
        if (kind === 'CreateArtifact') {
          if (options.failCreateWith) {
            json(options.failCreateWith, { code: 'invalid_argument', msg: 'stand-in refuses the artifact' });
            return;
          }
          json(200, { ok: true, signedUploadUrl: `${origin}/upload/${encodeURIComponent(String(parsed.name))}?sig=stand-in` });
          return;
        }
        if (kind === 'FinalizeArtifact') {
          json(200, { ok: true, artifactId: options.artifactId ?? '123' });
          return;
        }
        json(404, { code: 'bad_route', msg: `no method ${kind}` });
        return;
      }
      if (req.method === 'PUT' && url.pathname.startsWith('/upload/')) {
        const comp = url.searchParams.get('comp');
        if (comp === 'block') {
          calls.push({ method: 'PUT', path: url.pathname, kind: 'block' });
          blocks.set(url.searchParams.get('blockid') ?? '', body);
        } else if (comp === 'blocklist') {
          calls.push({ method: 'PUT', path: url.pathname, kind: 'blocklist' });
          const ids = [...body.toString('utf8').matchAll(/<(?:Latest|Committed|Uncommitted)>([^<]*)<\//g)].map(m => m[1]);
          committed = Buffer.concat(ids.map(id => blocks.get(id) ?? Buffer.alloc(0)));
        } else {
          calls.push({ method: 'PUT', path: url.pathname, kind: 'blob' });
          committed = body;
        }
        res.writeHead(201, { etag: '"stand-in"', 'last-modified': new Date(0).toUTCString(), 'x-ms-request-server-encrypted': 'true' });
        res.end();
        return;
      }
      calls.push({ method: req.method ?? '', path: url.pathname, kind: 'unknown' });
      res.writeHead(404);
      res.end();
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    calls,
    blob: () => committed,
    env: () => ({
      ACTIONS_RUNTIME_TOKEN: runtimeToken(),
      ACTIONS_RESULTS_URL: `${origin}/`,
      GITHUB_SERVER_URL: 'https://github.com',
      NO_PROXY: '127.0.0.1,localhost'
    }),
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      })
  };
}

/** The file names in a zip's central directory (read from the end-of-central-directory record). */
export function zipEntryNames(zip: Buffer): string[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end === -1) throw new Error('not a zip: no end-of-central-directory record');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`not a zip: no central directory entry at ${at}`);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    names.push(zip.subarray(at + 46, at + 46 + nameLength).toString('utf8'));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}
