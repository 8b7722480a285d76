/**
 * The commit and preview-branch deliveries: commitWithApi against the loopback
 * GitHub stand-in with a real Octokit (Git Data API in memory, real git ids),
 * and commitWithGit with real git repositories on disk (a bare "origin").
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  commitMessage,
  commitWithApi,
  commitWithGit,
  gitRunner,
  previewPath,
  redactCredentials,
  type CommitFile
} from '../src/delivery/commit.js';
import { createGitHubClient, type GitHubClient, type GitHubContext } from '../src/github.js';
import type { Log } from '../src/log.js';
import {
  branchFiles,
  branchHead,
  createGitState,
  gitRoutes,
  seedBranch,
  writeBlob,
  buildTree,
  type GitState
} from './helpers/github-git-routes.js';
import { startGitHubStandIn, type GitHubStandIn } from './helpers/github-stand-in.js';
import { makePng } from './helpers/images.js';

/** A log that keeps what it was told. */
function recordingLog(): Log & { infos: string[]; warnings: string[] } {
  const infos: string[] = [];
  const warnings: string[] = [];
  return {
    infos,
    warnings,
    info: m => infos.push(m),
    warning: m => warnings.push(m),
    error: m => warnings.push(`error: ${m}`),
    debug: () => {},
    group: (_n, fn) => fn()
  };
}

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes files under `root`; returns them as CommitFiles. */
function writeFiles(root: string, files: Record<string, Buffer | string>): CommitFile[] {
  return Object.entries(files).map(([rel, content]) => {
    const absolute = path.join(root, ...rel.split('/'));
    fs.mkdirSync(path.dirname(absolute), { recursive: true });
    fs.writeFileSync(absolute, content);
    return { path: rel, absolute };
  });
}

const MANIFEST = JSON.stringify({ version: 1, files: { 'art/a.png': { outputs: ['art/a.edited.png'] } } }, null, 2) + '\n';

describe('commitMessage and previewPath', () => {
  it('fills {count} and {model}, keeps other text (and $ patterns) as is', () => {
    expect(commitMessage('Edit {count} image(s) with {model}', { count: 3, model: 'gpt-image-1' })).toBe('Edit 3 image(s) with gpt-image-1');
    expect(commitMessage('{model}: {count} {count} $& {other}', { count: 1, model: 'dall-e-2' })).toBe('dall-e-2: 1 1 $& {other}');
  });

  it('puts an output under pr-<number>/', () => {
    expect(previewPath(7, 'art/a.edited.png')).toBe('pr-7/art/a.edited.png');
    expect(previewPath(12, './logo.edited.webp')).toBe('pr-12/logo.edited.webp');
  });

  it('removes credentials from text', () => {
    const text = "fatal: unable to access 'https://x-access-token:ghs_abcdefghijklmnopqrstuvwxyz0123@github.com/o/r/': 403 ghp_ABCDEFGHIJKLMNOPQRSTUV12";
    const clean = redactCredentials(text);
    expect(clean).not.toContain('ghs_');
    expect(clean).not.toContain('ghp_');
    expect(clean).not.toContain('x-access-token');
    expect(clean).toContain('https://***@github.com/o/r/');
  });
});

describe('commitWithApi (loopback GitHub, real Octokit)', () => {
  let state: GitState;
  let github: GitHubStandIn;
  let client: GitHubClient;
  let context: GitHubContext;
  let workspace: string;
  let log: ReturnType<typeof recordingLog>;
  let outputs: CommitFile[];

  const png1 = makePng(24, 16);
  const png2 = makePng(8, 8, (x, y) => [255 - x, y * 10, 0, 200]);

  async function start(routes = gitRoutes(state)): Promise<void> {
    github = await startGitHubStandIn(routes);
    context = {
      apiUrl: github.url,
      serverUrl: 'https://github.com',
      owner: 'octo',
      repo: 'repo',
      eventName: 'push',
      branch: 'main',
      sha: branchHead(state, 'main') ?? '',
      runId: '1'
    };
    client = await createGitHubClient('test-token', context);
  }

  const count = (method: string, pattern: RegExp): number => github.requests.filter(r => r.method === method && pattern.test(r.path)).length;

  beforeEach(() => {
    state = createGitState();
    seedBranch(state, 'main', { 'README.md': '# repo\n', 'art/a.png': makePng(4, 4) }, 'Initial');
    workspace = tempDir('commit-api-');
    log = recordingLog();
    outputs = writeFiles(workspace, { 'art/a.edited.png': png1, 'art/icons/deep/b.edited.png': png2, '.image-edits.json': MANIFEST });
  });

  afterEach(async () => {
    await github?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  it('makes one commit with the outputs and the manifest (nested paths), on top of the head', async () => {
    await start();
    const before = branchHead(state, 'main')!;
    const result = await commitWithApi(client, context, { branch: 'main', message: 'Edit 2 image(s) with gpt-image-1', files: outputs }, log);

    expect(result?.created).toBe(true);
    expect(result?.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(branchHead(state, 'main')).toBe(result!.sha);
    const commit = state.commits.get(result!.sha)!;
    expect(commit.parents).toEqual([before]);
    expect(commit.message).toBe('Edit 2 image(s) with gpt-image-1');
    expect(commit.author.name).toBe('GitHub'); // no author given: GitHub's own, signed

    const files = branchFiles(state, 'main')!;
    for (const file of outputs) expect(files.get(file.path)!.equals(fs.readFileSync(file.absolute))).toBe(true);
    expect(files.get('README.md')!.toString()).toBe('# repo\n'); // the rest of the tree is kept
    expect(files.size).toBe(5);
    expect(count('POST', /\/git\/blobs$/)).toBe(3);
    expect(count('POST', /\/git\/commits$/)).toBe(1);
    expect(count('PATCH', /\/git\/refs\//)).toBe(1);
    const patch = github.requests.find(r => r.method === 'PATCH')!;
    expect(patch.body).toEqual({ sha: result!.sha, force: false });
    expect(JSON.stringify(github.requests.map(r => r.body))).not.toContain('test-token');
    expect(log.warnings).toEqual([]);
  });

  it('makes no commit on a rerun with the same bytes', async () => {
    await start();
    const first = await commitWithApi(client, context, { branch: 'main', message: 'one', files: outputs }, log);
    const commitsBefore = count('POST', /\/git\/commits$/);
    const second = await commitWithApi(client, context, { branch: 'main', message: 'two', files: outputs }, log);

    expect(second).toEqual({ sha: first!.sha, created: false });
    expect(branchHead(state, 'main')).toBe(first!.sha);
    expect(count('POST', /\/git\/commits$/)).toBe(commitsBefore);
    expect(count('PATCH', /\/git\/refs\//)).toBe(1);
    expect(log.infos.some(m => m.includes('nothing changed'))).toBe(true);
  });

  it('rebuilds the commit on the new head when the branch moved during the commit', async () => {
    const routes = gitRoutes(state);
    const patch = routes.find(r => r.method === 'PATCH')!;
    let moved = '';
    routes.splice(routes.indexOf(patch), 1, {
      ...patch,
      handle: (req, m) => {
        // Someone pushes just before our ref update: the update is no longer a fast forward.
        if (!moved) moved = seedBranch(state, 'main', { 'docs/other.md': 'pushed meanwhile\n' }, 'Meanwhile');
        return patch.handle(req, m);
      }
    });
    await start(routes);
    const result = await commitWithApi(client, context, { branch: 'main', message: 'Edit', files: outputs }, log);

    expect(result?.created).toBe(true);
    expect(branchHead(state, 'main')).toBe(result!.sha);
    expect(state.commits.get(result!.sha)!.parents).toEqual([moved]);
    const files = branchFiles(state, 'main')!;
    expect(files.get('docs/other.md')!.toString()).toBe('pushed meanwhile\n');
    expect(files.get('art/a.edited.png')!.equals(png1)).toBe(true);
    expect(count('PATCH', /\/git\/refs\//)).toBe(2);
    expect(count('POST', /\/git\/blobs$/)).toBe(3); // blobs are not uploaded twice
    expect(log.warnings).toEqual([]);
  });

  it('retries after a 422 on the ref update (failNext) and commits', async () => {
    await start();
    github.failNext('PATCH', /\/git\/refs\//, { status: 422, body: { message: 'Update is not a fast forward' } });
    const result = await commitWithApi(client, context, { branch: 'main', message: 'Edit', files: outputs }, log);
    expect(result?.created).toBe(true);
    expect(branchHead(state, 'main')).toBe(result!.sha);
    expect(count('PATCH', /\/git\/refs\//)).toBe(2);
    expect(log.infos.some(m => m.includes('moved'))).toBe(true);
  });

  it('gives up with a warning when the branch keeps moving', async () => {
    await start();
    const before = branchHead(state, 'main');
    github.failNext('PATCH', /\/git\/refs\//, { status: 422, body: { message: 'Update is not a fast forward' } }, 10);
    const result = await commitWithApi(client, context, { branch: 'main', message: 'Edit', files: outputs }, log);
    expect(result).toBeUndefined();
    expect(branchHead(state, 'main')).toBe(before);
    expect(count('PATCH', /\/git\/refs\//)).toBe(4);
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toContain('kept moving');
  });

  it('commits to a branch whose name has slashes', async () => {
    seedBranch(state, 'feature/art/v2', { 'x.txt': 'x' });
    await start();
    const result = await commitWithApi(client, context, { branch: 'feature/art/v2', message: 'Edit', files: outputs }, log);
    expect(result?.created).toBe(true);
    expect(branchHead(state, 'feature/art/v2')).toBe(result!.sha);
    expect(branchFiles(state, 'feature/art/v2')!.has('art/icons/deep/b.edited.png')).toBe(true);
  });

  it('creates a preview branch that does not exist, with only pr-<n>/ files', async () => {
    await start();
    const files = outputs.slice(0, 1).map(f => ({ path: previewPath(7, f.path), absolute: f.absolute }));
    const result = await commitWithApi(client, context, { branch: 'image-previews', message: 'Previews for #7', files, createBranch: true }, log);

    expect(result?.created).toBe(true);
    expect(branchHead(state, 'image-previews')).toBe(result!.sha);
    expect(state.commits.get(result!.sha)!.parents).toEqual([]);
    const stored = branchFiles(state, 'image-previews')!;
    expect([...stored.keys()]).toEqual(['pr-7/art/a.edited.png']);
    expect(stored.get('pr-7/art/a.edited.png')!.equals(png1)).toBe(true);
    const created = github.requests.find(r => r.method === 'POST' && /\/git\/refs$/.test(r.path))!;
    expect(created.body).toEqual({ ref: 'refs/heads/image-previews', sha: result!.sha });
  });

  it('adds to an existing preview branch and keeps the other PRs\' files', async () => {
    const old = seedBranch(state, 'image-previews', { 'pr-3/art/z.edited.png': makePng(2, 2) }, 'Previews for #3');
    await start();
    const files = outputs.slice(0, 2).map(f => ({ path: previewPath(7, f.path), absolute: f.absolute }));
    const result = await commitWithApi(client, context, { branch: 'image-previews', message: 'Previews for #7', files, createBranch: true }, log);

    expect(result?.created).toBe(true);
    expect(state.commits.get(result!.sha)!.parents).toEqual([old]);
    const stored = branchFiles(state, 'image-previews')!;
    expect([...stored.keys()].sort()).toEqual(['pr-3/art/z.edited.png', 'pr-7/art/a.edited.png', 'pr-7/art/icons/deep/b.edited.png']);
    expect(count('POST', /\/git\/refs$/)).toBe(0);
  });

  it('warns plainly about a fork\'s read-only token on 403, and commits nothing', async () => {
    await start();
    context.eventName = 'pull_request';
    context.pullRequest = { number: 7, headRef: 'art', headSha: 'a'.repeat(40), headRepo: 'forker/repo', baseRepo: 'octo/repo', fork: true };
    const before = branchHead(state, 'main');
    github.failNext('POST', /\/git\/blobs$/, { status: 403, body: { message: 'Resource not accessible by integration' } }, 10);
    const result = await commitWithApi(client, context, { branch: 'main', message: 'Edit', files: outputs }, log);

    expect(result).toBeUndefined();
    expect(branchHead(state, 'main')).toBe(before);
    expect(count('POST', /\/git\/commits$/)).toBe(0);
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toContain('fork (forker/repo)');
    expect(log.warnings[0]).toContain("a fork's token is read-only, so nothing can be pushed");
    expect(log.warnings[0]).toContain('HTTP 403: Resource not accessible by integration');
    expect(log.warnings[0]).not.toContain('test-token');
  });

  it('on a 403 outside a fork, names the missing contents: write permission', async () => {
    await start();
    github.failNext('PATCH', /\/git\/refs\//, { status: 403, body: { message: 'Resource not accessible by integration' } });
    const before = branchHead(state, 'main');
    const result = await commitWithApi(client, context, { branch: 'main', message: 'Edit', files: outputs }, log);
    expect(result).toBeUndefined();
    expect(branchHead(state, 'main')).toBe(before);
    expect(log.warnings[0]).toContain('contents: write');
    expect(log.warnings[0]).toContain('updating branch main');
    expect(log.warnings[0]).not.toContain('fork');
  });

  it('warns when the branch does not exist and may not be created', async () => {
    await start();
    const result = await commitWithApi(client, context, { branch: 'gone', message: 'Edit', files: outputs }, log);
    expect(result).toBeUndefined();
    expect(branchHead(state, 'gone')).toBeUndefined();
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toContain('gone');
    expect(log.warnings[0]).toContain('does not exist');
    expect(count('POST', /\/git\/blobs$/)).toBe(0);
  });

  it('warns on a 500 while uploading blobs, commits nothing', async () => {
    await start();
    const before = branchHead(state, 'main');
    github.failNext('POST', /\/git\/blobs$/, { status: 500, body: { message: 'Server Error' } }, 10);
    const result = await commitWithApi(client, context, { branch: 'main', message: 'Edit', files: outputs }, log);
    expect(result).toBeUndefined();
    expect(branchHead(state, 'main')).toBe(before);
    expect(count('POST', /\/git\/commits$/)).toBe(0);
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toMatch(/Could not commit to main \(uploading .+\): HTTP 500: Server Error/);
    expect(log.warnings[0]).toContain('still in the artifact');
  });

  it('refuses a file over the size limit, naming it, before any request', async () => {
    await start();
    const result = await commitWithApi(client, context, { branch: 'main', message: 'Edit', files: outputs, maxFileBytes: 150 }, log);
    expect(result).toBeUndefined();
    expect(github.requests).toHaveLength(0);
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toContain('art/a.edited.png is');
    expect(log.warnings[0]).toContain("over GitHub's limit");
    expect(log.warnings[0]).not.toContain('.image-edits.json'); // the small manifest is within the limit
  });

  it('refuses a missing file or a path that leaves the repository', async () => {
    await start();
    const files = [...outputs, { path: 'art/missing.png', absolute: path.join(workspace, 'nope.png') }, { path: '../up.png', absolute: outputs[0].absolute }];
    const result = await commitWithApi(client, context, { branch: 'main', message: 'Edit', files }, log);
    expect(result).toBeUndefined();
    expect(github.requests).toHaveLength(0);
    expect(log.warnings[0]).toContain('art/missing.png cannot be read (ENOENT)');
    expect(log.warnings[0]).toContain('"../up.png" is not a relative POSIX path');
  });
});

/** Runs git for the tests' own setup (with an identity, quiet). */
function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Tester', '-c', 'user.email=tester@example.com', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
    stdio: ['ignore', 'pipe', 'pipe']
  }).trim();
}

describe('commitWithGit (real repositories on disk)', () => {
  let root: string;
  let origin: string;
  let work: string;
  let log: ReturnType<typeof recordingLog>;

  beforeEach(() => {
    root = tempDir('commit-git-');
    origin = path.join(root, 'origin.git');
    work = path.join(root, 'work');
    git(root, 'init', '--bare', '--initial-branch=main', origin);
    git(root, 'clone', '--quiet', origin, work);
    writeFiles(work, { 'README.md': '# repo\n' });
    git(work, 'add', 'README.md');
    git(work, 'commit', '--quiet', '-m', 'Initial');
    git(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');
    log = recordingLog();
  });

  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  const outputs = { 'art/a.edited.png': makePng(16, 16), 'art/icons/b [1].edited.png': makePng(4, 9), '.image-edits.json': MANIFEST };

  it('commits the outputs and the manifest and pushes them to the branch', async () => {
    writeFiles(work, outputs);
    const result = await commitWithGit(work, { branch: 'main', message: 'Edit 2 image(s) with gpt-image-1', files: Object.keys(outputs) }, log);

    expect(result?.created).toBe(true);
    expect(git(origin, 'rev-parse', 'refs/heads/main')).toBe(result!.sha);
    expect(git(origin, 'log', '-1', '--format=%s', 'main')).toBe('Edit 2 image(s) with gpt-image-1');
    const listed = git(origin, 'ls-tree', '-r', '--name-only', 'main').split('\n').sort();
    expect(listed).toEqual(['.image-edits.json', 'README.md', 'art/a.edited.png', 'art/icons/b [1].edited.png']);
    const stored = execFileSync('git', ['cat-file', 'blob', 'main:art/a.edited.png'], { cwd: origin });
    expect(stored.equals(outputs['art/a.edited.png'])).toBe(true);
    expect(log.warnings).toEqual([]);
  });

  it('commits as github-actions[bot] when no user.name is configured, else as the configured user', async () => {
    writeFiles(work, outputs);
    // git without the machine's global and system config: no identity anywhere.
    const bare = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>(resolve => {
        execFile(
          'git',
          args,
          { cwd: work, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } },
          (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr })
        );
      });
    const result = await commitWithGit(work, { branch: 'main', message: 'Edit', files: Object.keys(outputs) }, log, bare);
    expect(log.warnings).toEqual([]);
    expect(git(origin, 'log', '-1', '--format=%an <%ae>', result!.sha)).toBe('github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>');

    git(work, 'config', 'user.name', 'Local Person');
    git(work, 'config', 'user.email', 'local@example.com');
    fs.writeFileSync(path.join(work, 'art/a.edited.png'), makePng(3, 3));
    const second = await commitWithGit(work, { branch: 'main', message: 'Edit again', files: ['art/a.edited.png'] }, log, bare);
    expect(second?.created).toBe(true);
    expect(git(origin, 'log', '-1', '--format=%an <%ae>', second!.sha)).toBe('Local Person <local@example.com>');
  });

  it('makes no commit when nothing changed', async () => {
    writeFiles(work, outputs);
    const first = await commitWithGit(work, { branch: 'main', message: 'Edit', files: Object.keys(outputs) }, log);
    const second = await commitWithGit(work, { branch: 'main', message: 'Edit', files: Object.keys(outputs) }, log);
    expect(second).toEqual({ sha: first!.sha, created: false });
    expect(git(origin, 'rev-list', '--count', 'main')).toBe('2');
    expect(log.infos.some(m => m.includes('nothing changed'))).toBe(true);
  });

  it('rebases and pushes again when origin moved', async () => {
    const other = path.join(root, 'other');
    git(root, 'clone', '--quiet', origin, other);
    writeFiles(other, { 'docs/other.md': 'pushed meanwhile\n' });
    git(other, 'add', 'docs/other.md');
    git(other, 'commit', '--quiet', '-m', 'Meanwhile');
    git(other, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main');
    const moved = git(other, 'rev-parse', 'HEAD');

    writeFiles(work, outputs);
    const result = await commitWithGit(work, { branch: 'main', message: 'Edit', files: Object.keys(outputs) }, log);

    expect(result?.created).toBe(true);
    expect(git(origin, 'rev-parse', 'refs/heads/main')).toBe(result!.sha);
    expect(git(origin, 'rev-parse', `${result!.sha}^`)).toBe(moved);
    const listed = git(origin, 'ls-tree', '-r', '--name-only', 'main').split('\n');
    expect(listed).toContain('docs/other.md');
    expect(listed).toContain('art/a.edited.png');
    expect(log.infos.some(m => m.includes('moved on origin'))).toBe(true);
    expect(log.warnings).toEqual([]);
  });

  it('commits nothing when another branch or no branch is checked out (it would push the whole checkout)', async () => {
    git(work, 'push', '--quiet', 'origin', 'HEAD:refs/heads/assets');
    const assets = git(origin, 'rev-parse', 'refs/heads/assets');
    writeFiles(work, outputs);
    expect(await commitWithGit(work, { branch: 'assets', message: 'Edit', files: Object.keys(outputs) }, log)).toBeUndefined();
    expect(log.warnings[0]).toContain('the workspace is on the branch main, not on assets');
    expect(log.warnings[0]).toContain('commit-method: api');

    git(work, 'checkout', '--quiet', '--detach');
    expect(await commitWithGit(work, { branch: 'main', message: 'Edit', files: Object.keys(outputs) }, log)).toBeUndefined();
    expect(log.warnings[1]).toContain('the workspace is not on a branch (a detached checkout; on a pull request, actions/checkout checks out its merge commit)');
    expect(git(origin, 'rev-parse', 'refs/heads/assets')).toBe(assets);
    expect(git(origin, 'rev-list', '--count', 'main')).toBe('1');
    expect(git(work, 'status', '--porcelain')).toContain('art/');
  });

  it('warns when the workspace is not a git repository', async () => {
    const plain = path.join(root, 'plain');
    fs.mkdirSync(plain);
    writeFiles(plain, outputs);
    const result = await commitWithGit(plain, { branch: 'main', message: 'Edit', files: Object.keys(outputs) }, log);
    expect(result).toBeUndefined();
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toContain('not a git repository');
    expect(log.warnings[0]).toContain(plain);
  });

  it('warns on a refused push (403) without the token, naming the fork case', async () => {
    writeFiles(work, outputs);
    const real = gitRunner(work);
    const run = async (args: string[]) =>
      args.includes('push')
        ? {
            code: 128,
            stdout: '',
            stderr:
              'remote: Permission to octo/repo.git denied to github-actions[bot].\n' +
              "fatal: unable to access 'https://x-access-token:ghs_abcdefghijklmnopqrstuvwxyz012345@github.com/octo/repo/': The requested URL returned error: 403\n"
          }
        : real(args);
    const result = await commitWithGit(work, { branch: 'main', message: 'Edit', files: Object.keys(outputs), fork: true }, log, run);
    expect(result).toBeUndefined();
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toContain("a fork's token is read-only, so nothing can be pushed");
    expect(log.warnings[0]).toContain('Permission to octo/repo.git denied');
    expect(log.warnings[0]).not.toContain('ghs_');
    expect(log.warnings[0]).not.toContain('x-access-token');
    expect(git(origin, 'rev-list', '--count', 'main')).toBe('1');
  });

  it('gives the stand-in the same object ids as git', () => {
    // The in-memory Git Data API must hash as git does, or "unchanged tree" would never hold.
    writeFiles(work, outputs);
    git(work, 'add', '--', ...Object.keys(outputs));
    const gitTree = git(work, 'write-tree');
    const state = createGitState();
    const files = new Map<string, { mode: string; sha: string }>();
    for (const rel of [...Object.keys(outputs), 'README.md']) files.set(rel, { mode: '100644', sha: writeBlob(state, fs.readFileSync(path.join(work, rel))) });
    expect(buildTree(state, files)).toBe(gitTree);
  });
});
