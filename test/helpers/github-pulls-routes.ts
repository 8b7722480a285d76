/**
 * Pull-request file and commit-comparison routes for the GitHub stand-in
 * (github-stand-in.ts), with their in-memory state, for `only-changed`:
 *
 * - `GET /repos/{o}/{r}/pulls/{n}/files`: GitHub's diff entries, paginated as
 *   GitHub does it (`per_page` default 30, at most 100; `page`; a `link` header
 *   with rel="next"/"last" while there are more pages), and at most 3000 files
 *   in all (GitHub's cap: entries beyond are never listed).
 * - `GET /repos/{o}/{r}/compare/{base}...{head}`: a comparison (`status`,
 *   `ahead_by`, `total_commits`, `commits`, `files`, …). As GitHub documents it,
 *   `page`/`per_page` page the commits, and the files (at most 300 for the whole
 *   comparison) come with the first page only; `filesPagedLikeCommits: true`
 *   instead spreads those files over the pages with `per_page` like a list, for
 *   tests that a reader copes with either.
 *
 *   const state = createPullsState();
 *   seedPullFiles(state, { repo: 'octo/repo', number: 7, files: [{ filename: 'a.png', status: 'added' }] });
 *   seedComparison(state, { repo: 'octo/repo', base: 'b'.repeat(40), head: 'c'.repeat(40), files: [...] });
 *   const github = await startGitHubStandIn(pullRoutes(state));
 */
import { createHash } from 'node:crypto';
import { apiBase, paging, withPageLinks, type GitHubRequest, type Route, type RouteAnswer } from './github-stand-in.js';

/** GitHub's file statuses in a diff entry. */
export type DiffStatus = 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged';

/** A changed file as seeded: its path, status and (for renames and copies) where it came from. */
export interface SeedFile {
  filename: string;
  status: DiffStatus;
  previous_filename?: string;
}

/** A stored comparison between two commits. */
export interface StoredComparison {
  /** `owner/name`. */
  repo: string;
  base: string;
  head: string;
  /** The commits from the merge base to `head` (oldest first); two made-up ones unless seeded. */
  commits: string[];
  files: SeedFile[];
  /** `ahead` unless seeded (`behind`, `diverged`, `identical`). */
  status?: 'ahead' | 'behind' | 'diverged' | 'identical';
}

export interface PullsState {
  /** Files of each pull request, keyed `owner/name#number`. */
  pullFiles: Map<string, SeedFile[]>;
  comparisons: StoredComparison[];
  /** The web base for html_url/blob_url. */
  serverUrl: string;
  /** See the file comment: false (GitHub's documented behaviour) lists every file on the first page. */
  filesPagedLikeCommits: boolean;
}

/** GitHub's cap on the files listed for a pull request. */
export const PULL_FILES_CAP = 3000;
/** GitHub's cap on the files listed for a comparison. */
export const COMPARE_FILES_CAP = 300;

/** A fresh, empty state. */
export function createPullsState(overrides: Partial<PullsState> = {}): PullsState {
  return { pullFiles: new Map(), comparisons: [], serverUrl: 'https://github.com', filesPagedLikeCommits: false, ...overrides };
}

/** Sets the files of a pull request (in the order GitHub would list them). */
export function seedPullFiles(state: PullsState, pull: { repo: string; number: number; files: SeedFile[] }): void {
  state.pullFiles.set(`${pull.repo}#${pull.number}`, pull.files);
}

/** Adds a comparison `base...head`; returns it. */
export function seedComparison(
  state: PullsState,
  comparison: { repo: string; base: string; head: string; files: SeedFile[]; commits?: string[]; status?: StoredComparison['status'] }
): StoredComparison {
  const stored: StoredComparison = {
    repo: comparison.repo,
    base: comparison.base,
    head: comparison.head,
    files: comparison.files,
    commits: comparison.commits ?? [fakeSha(`${comparison.base}:1`), comparison.head],
    status: comparison.status
  };
  state.comparisons.push(stored);
  return stored;
}

/** A 40-hex sha made from `seed` (stable). */
export function fakeSha(seed: string): string {
  return createHash('sha1').update(seed).digest('hex');
}

/** The pull-request files route and the compare route, over `state`. */
export function pullRoutes(state: PullsState = createPullsState()): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/files$/,
      handle(request, match) {
        const repo = `${match[1]}/${match[2]}`;
        const files = state.pullFiles.get(`${repo}#${Number(match[3])}`);
        if (!files) return notFound();
        const listed = files.slice(0, PULL_FILES_CAP);
        const { perPage, page } = paging(request);
        const last = Math.max(Math.ceil(listed.length / perPage), 1);
        const slice = listed.slice((page - 1) * perPage, page * perPage);
        const headSha = fakeSha(`${repo}#${match[3]}`);
        return withPageLinks(request, perPage, page, last, {
          status: 200,
          body: slice.map(f => diffEntry(state, apiBase(request), repo, headSha, f))
        });
      }
    },
    {
      method: 'GET',
      pattern: /^\/repos\/([^/]+)\/([^/]+)\/compare\/([^/]+)$/,
      handle(request, match) {
        const repo = `${match[1]}/${match[2]}`;
        const basehead = decodeURIComponent(match[3]);
        const split = basehead.indexOf('...');
        if (split <= 0 || split + 3 >= basehead.length) return notFound();
        const base = basehead.slice(0, split);
        const head = basehead.slice(split + 3);
        const c = state.comparisons.find(x => x.repo === repo && x.base === base && x.head === head);
        if (!c) return notFound();

        const paged = request.query.has('page') || request.query.has('per_page');
        const { perPage, page } = paging(request);
        // Without paging parameters GitHub lists the last 250 commits; with them, one page of commits.
        const commits = paged ? c.commits.slice((page - 1) * perPage, page * perPage) : c.commits.slice(-250);
        const last = Math.max(Math.ceil(c.commits.length / perPage), 1);
        const allFiles = c.files.slice(0, COMPARE_FILES_CAP);
        let files: SeedFile[];
        if (state.filesPagedLikeCommits && paged) files = allFiles.slice((page - 1) * perPage, page * perPage);
        else files = !paged || page === 1 ? allFiles : [];
        const filePages = Math.max(Math.ceil(allFiles.length / perPage), 1);
        const lastPage = state.filesPagedLikeCommits ? Math.max(last, filePages) : last;

        const base_ = apiBase(request);
        const status = c.status ?? 'ahead';
        const body = {
          url: `${base_}/repos/${repo}/compare/${base}...${head}`,
          html_url: `${state.serverUrl}/${repo}/compare/${base}...${head}`,
          permalink_url: `${state.serverUrl}/${repo}/compare/${repo.split('/')[0]}:${base}...${repo.split('/')[0]}:${head}`,
          diff_url: `${state.serverUrl}/${repo}/compare/${base}...${head}.diff`,
          patch_url: `${state.serverUrl}/${repo}/compare/${base}...${head}.patch`,
          base_commit: commitAnswer(state, base_, repo, base),
          merge_base_commit: commitAnswer(state, base_, repo, base),
          status,
          ahead_by: status === 'identical' || status === 'behind' ? 0 : c.commits.length,
          behind_by: status === 'behind' || status === 'diverged' ? 1 : 0,
          total_commits: c.commits.length,
          commits: commits.map(sha => commitAnswer(state, base_, repo, sha)),
          files: files.map(f => diffEntry(state, base_, repo, head, f))
        };
        const answer: RouteAnswer = { status: 200, body };
        return paged ? withPageLinks(request, perPage, page, lastPage, answer) : answer;
      }
    }
  ];
}

/** GitHub's diff entry for a file. */
function diffEntry(state: PullsState, apiBase: string, repo: string, ref: string, f: SeedFile): Record<string, unknown> {
  const changes = f.status === 'renamed' ? 0 : 3;
  const entry: Record<string, unknown> = {
    sha: f.status === 'removed' ? '0000000000000000000000000000000000000000' : fakeSha(`${repo}:${f.filename}`),
    filename: f.filename,
    status: f.status,
    additions: f.status === 'removed' ? 0 : changes,
    deletions: f.status === 'added' ? 0 : f.status === 'removed' ? 3 : 0,
    changes,
    blob_url: `${state.serverUrl}/${repo}/blob/${ref}/${encodeURI(f.filename)}`,
    raw_url: `${state.serverUrl}/${repo}/raw/${ref}/${encodeURI(f.filename)}`,
    contents_url: `${apiBase}/repos/${repo}/contents/${encodeURI(f.filename)}?ref=${ref}`
  };
  if (f.previous_filename !== undefined) entry.previous_filename = f.previous_filename;
  return entry;
}

/** GitHub's (abridged) commit object in a comparison. */
function commitAnswer(state: PullsState, apiBase: string, repo: string, sha: string): Record<string, unknown> {
  const person = { name: 'Octo Cat', email: 'octocat@github.com', date: '2024-01-01T00:00:00Z' };
  return {
    sha,
    node_id: `C_kwDO${sha.slice(0, 12)}`,
    commit: { author: person, committer: person, message: `commit ${sha.slice(0, 7)}`, tree: { sha: fakeSha(`tree:${sha}`) } },
    url: `${apiBase}/repos/${repo}/commits/${sha}`,
    html_url: `${state.serverUrl}/${repo}/commit/${sha}`,
    parents: []
  };
}

function notFound(): RouteAnswer {
  return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } };
}
