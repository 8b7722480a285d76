/**
 * GitHub's Git Data API (refs, blobs, trees, commits) for the loopback stand-in
 * (github-stand-in.ts), in memory. Objects get real git ids (sha1 of
 * `blob <len>\0<content>`, trees and commits hashed as git hashes them), so an
 * unchanged tree keeps its sha as on GitHub. One repository: the owner and name
 * in the path are not checked.
 *
 *   const state = createGitState();
 *   seedBranch(state, 'main', { 'README.md': '# hi\n' });
 *   const github = await startGitHubStandIn(gitRoutes(state));
 *   ...
 *   branchFiles(state, 'main')?.get('art/a.edited.png')  // Buffer
 */
import { createHash } from 'node:crypto';
import type { GitHubRequest, Route, RouteAnswer } from './github-stand-in.js';

export interface GitTreeEntry {
  name: string;
  /** `100644`, `100755`, `120000` (blobs) or `040000` (trees), as the API spells them. */
  mode: string;
  type: 'blob' | 'tree';
  sha: string;
}

export interface GitPerson {
  name: string;
  email: string;
  /** ISO 8601, whole seconds, UTC. */
  date: string;
}

export interface GitCommitObject {
  tree: string;
  parents: string[];
  message: string;
  author: GitPerson;
  committer: GitPerson;
}

/** The repository: objects by sha, and refs (`heads/main` → commit sha). */
export interface GitState {
  blobs: Map<string, Buffer>;
  trees: Map<string, GitTreeEntry[]>;
  commits: Map<string, GitCommitObject>;
  refs: Map<string, string>;
  /** Shown in `url`/`html_url` fields. */
  owner: string;
  repo: string;
}

/** An empty repository. */
export function createGitState(owner = 'octo', repo = 'repo'): GitState {
  return { blobs: new Map(), trees: new Map(), commits: new Map(), refs: new Map(), owner, repo };
}

const WEB_FLOW: Omit<GitPerson, 'date'> = { name: 'GitHub', email: 'noreply@github.com' };

/** Stores a blob; its git id. */
export function writeBlob(state: GitState, content: Buffer): string {
  const sha = gitHash('blob', content);
  state.blobs.set(sha, Buffer.from(content));
  return sha;
}

/** Stores a tree (entries sorted as git sorts them); its git id. */
export function writeTree(state: GitState, entries: GitTreeEntry[]): string {
  const sorted = [...entries].sort((a, b) => compareEntries(a, b));
  const body = Buffer.concat(
    sorted.map(e => Buffer.concat([Buffer.from(`${e.mode === '040000' ? '40000' : e.mode} ${e.name}\0`, 'utf8'), Buffer.from(e.sha, 'hex')]))
  );
  const sha = gitHash('tree', body);
  state.trees.set(sha, sorted);
  return sha;
}

/** Stores a commit; its git id. */
export function writeCommit(state: GitState, commit: GitCommitObject): string {
  const lines = [`tree ${commit.tree}`, ...commit.parents.map(p => `parent ${p}`), `author ${person(commit.author)}`, `committer ${person(commit.committer)}`];
  const sha = gitHash('commit', Buffer.from(`${lines.join('\n')}\n\n${commit.message}`, 'utf8'));
  state.commits.set(sha, commit);
  return sha;
}

/** Every file in a tree, by path, as {mode, sha} (blobs only; trees are walked). */
export function flattenTree(state: GitState, treeSha: string, prefix = ''): Map<string, { mode: string; sha: string }> {
  const files = new Map<string, { mode: string; sha: string }>();
  const entries = state.trees.get(treeSha);
  if (!entries) throw new Error(`tree ${treeSha} does not exist`);
  for (const entry of entries) {
    const path = prefix + entry.name;
    if (entry.type === 'tree') for (const [p, f] of flattenTree(state, entry.sha, `${path}/`)) files.set(p, f);
    else files.set(path, { mode: entry.mode, sha: entry.sha });
  }
  return files;
}

/** Builds and stores nested trees from files by path; the root tree's id. */
export function buildTree(state: GitState, files: Map<string, { mode: string; sha: string }>): string {
  const here: GitTreeEntry[] = [];
  const below = new Map<string, Map<string, { mode: string; sha: string }>>();
  for (const [path, file] of files) {
    const slash = path.indexOf('/');
    if (slash < 0) {
      here.push({ name: path, mode: file.mode, type: 'blob', sha: file.sha });
      continue;
    }
    const dir = path.slice(0, slash);
    if (!below.has(dir)) below.set(dir, new Map());
    below.get(dir)!.set(path.slice(slash + 1), file);
  }
  for (const [dir, inside] of below) here.push({ name: dir, mode: '040000', type: 'tree', sha: buildTree(state, inside) });
  return writeTree(state, here);
}

/**
 * Commits files onto `branch` (created when missing) as a test's "someone else
 * pushed": content `null` deletes a path. Resolves to the new head.
 */
export function seedBranch(state: GitState, branch: string, files: Record<string, Buffer | string | null>, message = 'Seed'): string {
  const head = state.refs.get(`heads/${branch}`);
  const current = head ? flattenTree(state, state.commits.get(head)!.tree) : new Map<string, { mode: string; sha: string }>();
  for (const [path, content] of Object.entries(files)) {
    if (content === null) current.delete(path);
    else current.set(path, { mode: '100644', sha: writeBlob(state, Buffer.from(content)) });
  }
  const who = { name: 'Someone', email: 'someone@example.com', date: now() };
  const sha = writeCommit(state, { tree: buildTree(state, current), parents: head ? [head] : [], message, author: who, committer: who });
  state.refs.set(`heads/${branch}`, sha);
  return sha;
}

/** The files on `branch` at its head, by path; undefined when the branch does not exist. */
export function branchFiles(state: GitState, branch: string): Map<string, Buffer> | undefined {
  const head = state.refs.get(`heads/${branch}`);
  if (!head) return undefined;
  const files = new Map<string, Buffer>();
  for (const [path, file] of flattenTree(state, state.commits.get(head)!.tree)) files.set(path, state.blobs.get(file.sha)!);
  return files;
}

/** The head commit of `branch`, or undefined. */
export function branchHead(state: GitState, branch: string): string | undefined {
  return state.refs.get(`heads/${branch}`);
}

/** The Git Data API routes over `state`. */
export function gitRoutes(state: GitState = createGitState()): Route[] {
  const repoPath = '^/repos/([^/]+)/([^/]+)/git';
  return [
    {
      method: 'GET',
      pattern: new RegExp(`${repoPath}/ref/(.+)$`),
      handle: (_req, m) => {
        const ref = decodeURIComponent(m[3]);
        const sha = state.refs.get(ref);
        return sha ? { status: 200, body: refBody(state, ref, sha) } : notFound();
      }
    },
    {
      method: 'POST',
      pattern: new RegExp(`${repoPath}/refs$`),
      handle: req => {
        const { ref, sha } = (req.body ?? {}) as { ref?: unknown; sha?: unknown };
        if (typeof ref !== 'string' || !/^refs\/[^/]+\/.+/.test(ref)) return invalid('Reference name must start with refs/ and have at least two slashes.');
        if (typeof sha !== 'string' || !state.commits.has(sha)) return invalid('Object does not exist');
        const name = ref.slice('refs/'.length);
        if (state.refs.has(name)) return invalid('Reference already exists');
        state.refs.set(name, sha);
        return { status: 201, body: refBody(state, name, sha) };
      }
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`${repoPath}/refs/(.+)$`),
      handle: (req, m) => {
        const name = decodeURIComponent(m[3]);
        const { sha, force } = (req.body ?? {}) as { sha?: unknown; force?: unknown };
        const current = state.refs.get(name);
        if (!current) return invalid('Reference does not exist');
        if (typeof sha !== 'string' || !state.commits.has(sha)) return invalid('Object does not exist');
        if (force !== true && !ancestors(state, sha).has(current)) return invalid('Update is not a fast forward');
        state.refs.set(name, sha);
        return { status: 200, body: refBody(state, name, sha) };
      }
    },
    {
      method: 'POST',
      pattern: new RegExp(`${repoPath}/blobs$`),
      handle: req => {
        const { content, encoding = 'utf-8' } = (req.body ?? {}) as { content?: unknown; encoding?: unknown };
        if (typeof content !== 'string') return invalid('Invalid request.\n\n"content" wasn\'t supplied.');
        if (encoding !== 'utf-8' && encoding !== 'utf8' && encoding !== 'base64') return invalid(`encoding must be utf-8 or base64, not ${String(encoding)}`);
        const sha = writeBlob(state, Buffer.from(content, encoding === 'base64' ? 'base64' : 'utf8'));
        return { status: 201, body: { sha, url: `${apiBase(state)}/git/blobs/${sha}` } };
      }
    },
    {
      method: 'GET',
      pattern: new RegExp(`${repoPath}/blobs/([0-9a-f]{40})$`),
      handle: (_req, m) => {
        const content = state.blobs.get(m[3]);
        if (!content) return notFound();
        return { status: 200, body: { sha: m[3], size: content.length, encoding: 'base64', content: content.toString('base64'), url: `${apiBase(state)}/git/blobs/${m[3]}` } };
      }
    },
    {
      method: 'GET',
      pattern: new RegExp(`${repoPath}/commits/([0-9a-f]{40})$`),
      handle: (_req, m) => (state.commits.has(m[3]) ? { status: 200, body: commitBody(state, m[3]) } : notFound())
    },
    {
      method: 'POST',
      pattern: new RegExp(`${repoPath}/commits$`),
      handle: req => {
        const body = (req.body ?? {}) as { message?: unknown; tree?: unknown; parents?: unknown; author?: Partial<GitPerson>; committer?: Partial<GitPerson> };
        if (typeof body.message !== 'string') return invalid('Invalid request.\n\n"message" wasn\'t supplied.');
        if (typeof body.tree !== 'string' || !state.trees.has(body.tree)) return invalid('Tree SHA does not exist');
        const parents = Array.isArray(body.parents) ? body.parents : [];
        if (parents.some(p => typeof p !== 'string' || !state.commits.has(p))) return invalid('Parent SHA does not exist or is not a commit object');
        const date = now();
        const author = body.author?.name ? { name: body.author.name, email: body.author.email ?? '', date: body.author.date ?? date } : { ...WEB_FLOW, date };
        const committer = body.committer?.name ? { name: body.committer.name, email: body.committer.email ?? '', date: body.committer.date ?? date } : { ...WEB_FLOW, date };
        const sha = writeCommit(state, { tree: body.tree, parents: parents as string[], message: body.message, author, committer });
        return { status: 201, body: commitBody(state, sha) };
      }
    },
    {
      method: 'GET',
      pattern: new RegExp(`${repoPath}/trees/([0-9a-f]{40})$`),
      handle: (req, m) => {
        if (!state.trees.has(m[3])) return notFound();
        const recursive = req.query.has('recursive') && !['0', 'false'].includes(req.query.get('recursive') ?? '');
        return { status: 200, body: treeBody(state, m[3], recursive) };
      }
    },
    {
      method: 'POST',
      pattern: new RegExp(`${repoPath}/trees$`),
      handle: req => createTree(state, req)
    }
  ];
}

/** POST /git/trees: entries on top of `base_tree` (nested paths, `sha: null` deletes, `content` makes a blob). */
function createTree(state: GitState, req: GitHubRequest): RouteAnswer {
  const body = (req.body ?? {}) as { base_tree?: unknown; tree?: unknown };
  if (!Array.isArray(body.tree)) return invalid('Invalid request.\n\n"tree" wasn\'t supplied.');
  let files = new Map<string, { mode: string; sha: string }>();
  if (body.base_tree !== undefined && body.base_tree !== null) {
    if (typeof body.base_tree !== 'string' || !state.trees.has(body.base_tree)) return invalid('base_tree is not a valid tree oid');
    files = flattenTree(state, body.base_tree);
  }
  for (const raw of body.tree as Array<Record<string, unknown>>) {
    const { path, mode, type, sha, content } = raw;
    if (typeof path !== 'string' || !path || path.startsWith('/') || path.split('/').some(s => s === '' || s === '.' || s === '..')) {
      return invalid(`tree.path ${JSON.stringify(path)} is invalid`);
    }
    if (!['100644', '100755', '120000', '040000', '160000'].includes(String(mode))) return invalid(`tree.mode ${String(mode)} is invalid`);
    for (const existing of [...files.keys()]) if (existing.startsWith(`${path}/`)) files.delete(existing);
    if (sha === null) {
      files.delete(path);
      continue;
    }
    if (type === 'tree') {
      if (typeof sha !== 'string' || !state.trees.has(sha)) return invalid(`tree.sha ${String(sha)} is not a valid tree`);
      files.delete(path);
      for (const [p, f] of flattenTree(state, sha, `${path}/`)) files.set(p, f);
      continue;
    }
    if (type !== 'blob') return invalid(`tree.type ${String(type)} is invalid`);
    let blob: string;
    if (typeof content === 'string') blob = writeBlob(state, Buffer.from(content, 'utf8'));
    else if (typeof sha === 'string' && state.blobs.has(sha)) blob = sha;
    else return invalid(`tree.sha ${String(sha)} is not a valid blob`);
    // A file where a folder was (or inside what was a file) replaces it, as on GitHub.
    for (const existing of [...files.keys()]) if (path.startsWith(`${existing}/`)) files.delete(existing);
    files.set(path, { mode: String(mode), sha: blob });
  }
  const sha = buildTree(state, files);
  return { status: 201, body: treeBody(state, sha, false) };
}

function treeBody(state: GitState, sha: string, recursive: boolean): unknown {
  const entries: Array<Record<string, unknown>> = [];
  const walk = (treeSha: string, prefix: string): void => {
    for (const entry of state.trees.get(treeSha)!) {
      const path = prefix + entry.name;
      entries.push({
        path,
        mode: entry.mode,
        type: entry.type,
        sha: entry.sha,
        ...(entry.type === 'blob' ? { size: state.blobs.get(entry.sha)?.length ?? 0 } : {}),
        url: `${apiBase(state)}/git/${entry.type}s/${entry.sha}`
      });
      if (recursive && entry.type === 'tree') walk(entry.sha, `${path}/`);
    }
  };
  walk(sha, '');
  return { sha, url: `${apiBase(state)}/git/trees/${sha}`, tree: entries, truncated: false };
}

function commitBody(state: GitState, sha: string): unknown {
  const commit = state.commits.get(sha)!;
  const signed = commit.committer.email === WEB_FLOW.email;
  return {
    sha,
    node_id: `C_${sha.slice(0, 16)}`,
    url: `${apiBase(state)}/git/commits/${sha}`,
    html_url: `https://github.com/${state.owner}/${state.repo}/commit/${sha}`,
    author: commit.author,
    committer: commit.committer,
    message: commit.message,
    tree: { sha: commit.tree, url: `${apiBase(state)}/git/trees/${commit.tree}` },
    parents: commit.parents.map(p => ({ sha: p, url: `${apiBase(state)}/git/commits/${p}`, html_url: `https://github.com/${state.owner}/${state.repo}/commit/${p}` })),
    verification: signed
      ? { verified: true, reason: 'valid', signature: '-----BEGIN PGP SIGNATURE-----\n(stand-in)\n-----END PGP SIGNATURE-----', payload: '', verified_at: commit.committer.date }
      : { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null }
  };
}

function refBody(state: GitState, name: string, sha: string): unknown {
  return {
    ref: `refs/${name}`,
    node_id: `REF_${Buffer.from(name).toString('base64')}`,
    url: `${apiBase(state)}/git/refs/${name}`,
    object: { sha, type: 'commit', url: `${apiBase(state)}/git/commits/${sha}` }
  };
}

/** Every commit reachable from `sha` (itself included). */
function ancestors(state: GitState, sha: string): Set<string> {
  const seen = new Set<string>();
  const stack = [sha];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(state.commits.get(next)?.parents ?? []));
  }
  return seen;
}

function compareEntries(a: GitTreeEntry, b: GitTreeEntry): number {
  // git compares names as bytes, a tree's name as if it ended in '/'.
  const ka = Buffer.from(a.type === 'tree' ? `${a.name}/` : a.name, 'utf8');
  const kb = Buffer.from(b.type === 'tree' ? `${b.name}/` : b.name, 'utf8');
  return Buffer.compare(ka, kb);
}

function gitHash(type: string, body: Buffer): string {
  return createHash('sha1').update(`${type} ${body.length}\0`).update(body).digest('hex');
}

function person(p: GitPerson): string {
  return `${p.name} <${p.email}> ${Math.floor(Date.parse(p.date) / 1000)} +0000`;
}

function now(): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function apiBase(state: GitState): string {
  return `https://api.github.com/repos/${state.owner}/${state.repo}`;
}

function notFound(): RouteAnswer {
  return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/git', status: '404' } };
}

function invalid(message: string): RouteAnswer {
  return { status: 422, body: { message, documentation_url: 'https://docs.github.com/rest/git', status: '422' } };
}
