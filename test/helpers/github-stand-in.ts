/**
 * A loopback stand-in for GitHub's REST API (`GITHUB_API_URL`), for the delivery
 * tests (comment, commit, preview branch). It records every request and answers
 * from route sets that keep their own state (see github-issues-routes.ts and
 * github-git-routes.ts); a route set is a list of {@link Route}s.
 *
 *   const github = await startGitHubStandIn([...issueRoutes(state), ...gitRoutes(state)]);
 *   env.GITHUB_API_URL = github.url;
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitHubRequest {
  method: string;
  /** The path without the query, e.g. `/repos/octo/repo/issues/7/comments`. */
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** The JSON body, parsed; undefined when there is none. */
  body: unknown;
}

export interface RouteAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: string;
  /** Matched against the whole path (anchor it: `^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$`). */
  pattern: RegExp;
  handle(request: GitHubRequest, match: RegExpExecArray): RouteAnswer | Promise<RouteAnswer>;
}

export interface GitHubStandIn {
  /** The API base URL, for GITHUB_API_URL (no trailing slash). */
  url: string;
  /** Every request received, in order. */
  requests: GitHubRequest[];
  /**
   * The next `times` requests matching `method` and `pattern` get this answer instead of the
   * route's (e.g. 403 "Resource not accessible by integration", as for a fork's read-only token).
   */
  failNext(method: string, pattern: RegExp, answer: RouteAnswer, times?: number): void;
  close(): Promise<void>;
}

/** Starts the stand-in on 127.0.0.1 (a free port). Unknown routes answer 404 as GitHub does. */
export async function startGitHubStandIn(routes: Route[]): Promise<GitHubStandIn> {
  const requests: GitHubRequest[] = [];
  const faults: Array<{ method: string; pattern: RegExp; answer: RouteAnswer; times: number }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = raw ? JSON.parse(raw) : undefined;
        } catch {
          return send(res, { status: 400, body: { message: 'Problems parsing JSON' } });
        }
        const request: GitHubRequest = { method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body };
        requests.push(request);
        const fault = faults.find(f => f.method === request.method && f.pattern.test(request.path) && f.times > 0);
        if (fault) {
          fault.times--;
          return send(res, fault.answer);
        }
        for (const route of routes) {
          if (route.method !== request.method) continue;
          const match = route.pattern.exec(request.path);
          if (!match) continue;
          try {
            return send(res, await route.handle(request, match));
          } catch (error) {
            return send(res, { status: 500, body: { message: `stand-in failure: ${(error as Error).message}` } });
          }
        }
        send(res, { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } });
      })();
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(method, pattern, answer, times = 1) {
      faults.push({ method, pattern, answer, times });
    },
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      })
  };
}

/** `per_page` (default 30, at most 100) and `page` (from 1), as GitHub reads them. */
export function paging(request: GitHubRequest): { perPage: number; page: number } {
  const perPage = Math.min(Math.max(Number(request.query.get('per_page') ?? 30) || 30, 1), 100);
  const page = Math.max(Number(request.query.get('page') ?? 1) || 1, 1);
  return { perPage, page };
}

/** The API base the client used (so that `link` and `url` fields point back at the stand-in). */
export function apiBase(request: GitHubRequest): string {
  return `http://${request.headers.host ?? '127.0.0.1'}`;
}

/** Adds GitHub's `link` header (prev/next/last/first) to `answer` when there is more than one page. */
export function withPageLinks(request: GitHubRequest, perPage: number, page: number, last: number, answer: RouteAnswer): RouteAnswer {
  const at = (n: number): string => {
    const query = new URLSearchParams(request.query);
    query.set('per_page', String(perPage));
    query.set('page', String(n));
    return `<${apiBase(request)}${request.path}?${query.toString()}>`;
  };
  const links: string[] = [];
  if (page > 1) links.push(`${at(page - 1)}; rel="prev"`);
  if (page < last) links.push(`${at(page + 1)}; rel="next"`, `${at(last)}; rel="last"`);
  if (page > 1) links.push(`${at(1)}; rel="first"`);
  return links.length ? { ...answer, headers: { ...answer.headers, link: links.join(', ') } } : answer;
}

function send(res: http.ServerResponse, answer: RouteAnswer): void {
  const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...answer.headers
  });
  res.end(text);
}
