/**
 * Issue-comment and commit→pull-request routes for the GitHub stand-in
 * (github-stand-in.ts), with their in-memory state. Answers are shaped like
 * GitHub's REST answers (ids, html_url, user {login, type}, timestamps), and
 * comment lists are paginated as GitHub paginates them (`per_page`, `page`,
 * and a `link` header with rel="next"/"last" while there are more pages).
 *
 *   const state = createIssuesState();
 *   seedComment(state, { repo: 'octo/repo', issue: 7, body: 'hello' });
 *   const github = await startGitHubStandIn(issueRoutes(state));
 */
import { apiBase, paging, withPageLinks, type GitHubRequest, type Route, type RouteAnswer } from './github-stand-in.js';

/** The author of a comment, as GitHub shows it. */
export interface CommentUser {
  login: string;
  id: number;
  /** `Bot` for github-actions[bot] and apps, `User` for people (and a PAT's owner). */
  type: 'Bot' | 'User' | 'Organization';
}

/** A stored issue comment (GitHub's fields plus where it lives). */
export interface StoredComment {
  id: number;
  /** `owner/name`. */
  repo: string;
  issueNumber: number;
  body: string;
  user: CommentUser;
  createdAt: string;
  updatedAt: string;
}

/** A stored pull request, enough for `GET /repos/{o}/{r}/commits/{sha}/pulls`. */
export interface StoredPull {
  /** `owner/name` of the base repository. */
  repo: string;
  number: number;
  state: 'open' | 'closed';
  headSha: string;
  headRef: string;
  /** `owner/name` of the head repository; defaults to `repo`. */
  headRepo?: string;
  baseRef?: string;
  /** Other commits of the pull request (the endpoint also lists pull requests that merely contain the commit). */
  commits?: string[];
  title?: string;
}

export interface IssuesState {
  comments: StoredComment[];
  pulls: StoredPull[];
  /** Who posts through the token (the author of created comments). */
  commenter: CommentUser;
  /** The web base for html_url. */
  serverUrl: string;
  /** The next id handed out. */
  nextId: number;
}

/** The bot that GITHUB_TOKEN comments as. */
export const ACTIONS_BOT: CommentUser = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' };

/** A fresh, empty state (comments are posted as github-actions[bot]). */
export function createIssuesState(overrides: Partial<IssuesState> = {}): IssuesState {
  return { comments: [], pulls: [], commenter: ACTIONS_BOT, serverUrl: 'https://github.com', nextId: 1000, ...overrides };
}

/** Adds a comment as if someone had posted it earlier; returns it. */
export function seedComment(
  state: IssuesState,
  comment: { repo: string; issue: number; body: string; user?: CommentUser }
): StoredComment {
  const time = new Date(Date.UTC(2024, 0, 1) + state.nextId * 1000).toISOString();
  const stored: StoredComment = {
    id: state.nextId++,
    repo: comment.repo,
    issueNumber: comment.issue,
    body: comment.body,
    user: comment.user ?? { login: 'octocat', id: 583231, type: 'User' },
    createdAt: time,
    updatedAt: time
  };
  state.comments.push(stored);
  return stored;
}

/** Comments of one issue, in creation order. */
export function commentsOf(state: IssuesState, repo: string, issue: number): StoredComment[] {
  return state.comments.filter(c => c.repo === repo && c.issueNumber === issue);
}

/** GitHub's answer for a comment. */
export function commentAnswer(state: IssuesState, apiBase: string, c: StoredComment): Record<string, unknown> {
  return {
    id: c.id,
    node_id: `IC_kwDO${c.id}`,
    url: `${apiBase}/repos/${c.repo}/issues/comments/${c.id}`,
    html_url: `${state.serverUrl}/${c.repo}/pull/${c.issueNumber}#issuecomment-${c.id}`,
    issue_url: `${apiBase}/repos/${c.repo}/issues/${c.issueNumber}`,
    body: c.body,
    user: { login: c.user.login, id: c.user.id, type: c.user.type, site_admin: false },
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    author_association: c.user.type === 'Bot' ? 'NONE' : 'OWNER',
    performed_via_github_app: null
  };
}

/** GitHub's (abridged) answer for a pull request. */
function pullAnswer(state: IssuesState, apiBase: string, p: StoredPull): Record<string, unknown> {
  const headRepo = p.headRepo ?? p.repo;
  return {
    id: 500000 + p.number,
    number: p.number,
    state: p.state,
    title: p.title ?? `Pull request #${p.number}`,
    url: `${apiBase}/repos/${p.repo}/pulls/${p.number}`,
    html_url: `${state.serverUrl}/${p.repo}/pull/${p.number}`,
    user: { login: 'octocat', id: 583231, type: 'User' },
    head: { label: `${headRepo.split('/')[0]}:${p.headRef}`, ref: p.headRef, sha: p.headSha, repo: { full_name: headRepo } },
    base: { label: `${p.repo.split('/')[0]}:${p.baseRef ?? 'main'}`, ref: p.baseRef ?? 'main', repo: { full_name: p.repo } }
  };
}

const MAX_BODY = 65536;

/** The comment routes and the commit→pull-request route, over `state`. */
export function issueRoutes(state: IssuesState = createIssuesState()): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/,
      handle(request, match) {
        const repo = `${match[1]}/${match[2]}`;
        const all = commentsOf(state, repo, Number(match[3]));
        const { perPage, page } = paging(request);
        const last = Math.max(Math.ceil(all.length / perPage), 1);
        const slice = all.slice((page - 1) * perPage, page * perPage);
        return withPageLinks(request, perPage, page, last, { status: 200, body: slice.map(c => commentAnswer(state, apiBase(request), c)) });
      }
    },
    {
      method: 'POST',
      pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/,
      handle(request, match) {
        const invalid = checkBody(request);
        if (invalid) return invalid;
        const now = new Date().toISOString();
        const stored: StoredComment = {
          id: state.nextId++,
          repo: `${match[1]}/${match[2]}`,
          issueNumber: Number(match[3]),
          body: (request.body as { body: string }).body,
          user: state.commenter,
          createdAt: now,
          updatedAt: now
        };
        state.comments.push(stored);
        return { status: 201, body: commentAnswer(state, apiBase(request), stored) };
      }
    },
    {
      method: 'PATCH',
      pattern: /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/,
      handle(request, match) {
        const repo = `${match[1]}/${match[2]}`;
        const stored = state.comments.find(c => c.repo === repo && c.id === Number(match[3]));
        if (!stored) return notFound();
        const invalid = checkBody(request);
        if (invalid) return invalid;
        stored.body = (request.body as { body: string }).body;
        stored.updatedAt = new Date().toISOString();
        return { status: 200, body: commentAnswer(state, apiBase(request), stored) };
      }
    },
    {
      method: 'GET',
      pattern: /^\/repos\/([^/]+)\/([^/]+)\/commits\/([^/]+)\/pulls$/,
      handle(request, match) {
        const repo = `${match[1]}/${match[2]}`;
        const sha = match[3];
        const pulls = state.pulls.filter(p => p.repo === repo && (p.headSha === sha || p.commits?.includes(sha)));
        return { status: 200, body: pulls.map(p => pullAnswer(state, apiBase(request), p)) };
      }
    }
  ];
}

/** 422 as GitHub answers a missing or too long body; undefined when the body is fine. */
function checkBody(request: GitHubRequest): RouteAnswer | undefined {
  const body = (request.body as { body?: unknown } | undefined)?.body;
  if (typeof body !== 'string') {
    return { status: 422, body: { message: 'Invalid request.\n\n"body" wasn\'t supplied.', documentation_url: 'https://docs.github.com/rest' } };
  }
  if (body.length > MAX_BODY) {
    return {
      status: 422,
      body: {
        message: 'Validation Failed',
        errors: [{ resource: 'IssueComment', code: 'custom', field: 'body', message: `body is too long (maximum is ${MAX_BODY} characters)` }],
        documentation_url: 'https://docs.github.com/rest/issues/comments'
      }
    };
  }
  return undefined;
}

function notFound(): RouteAnswer {
  return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } };
}
