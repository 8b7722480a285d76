import { describe, it, expect, beforeEach, afterEach } from '@jest/globals';
import { changedFiles, pushRange, type ChangedFiles, type ChangedFilesUnavailable } from '../src/changed-files.js';
import { createGitHubClient, type GitHubClient, type GitHubContext } from '../src/github.js';
import { startGitHubStandIn, type GitHubStandIn } from './helpers/github-stand-in.js';
import { createPullsState, fakeSha, pullRoutes, seedComparison, seedPullFiles, type PullsState, type SeedFile } from './helpers/github-pulls-routes.js';

const REPO = 'octo/repo';
const BEFORE = fakeSha('before');
const AFTER = fakeSha('after');
const ZEROS = '0000000000000000000000000000000000000000';

let github: GitHubStandIn;
let state: PullsState;
let clientCalls: number;

beforeEach(async () => {
  state = createPullsState();
  github = await startGitHubStandIn(pullRoutes(state));
  clientCalls = 0;
});

afterEach(async () => {
  await github.close();
});

function prContext(number = 7): GitHubContext {
  return {
    apiUrl: github.url,
    serverUrl: 'https://github.com',
    owner: 'octo',
    repo: 'repo',
    eventName: 'pull_request',
    sha: fakeSha('merge'),
    runId: '42',
    pullRequest: { number, headRef: 'feature/art', headSha: fakeSha('head'), headRepo: REPO, baseRepo: REPO, fork: false }
  };
}

function pushContext(): GitHubContext {
  return { apiUrl: github.url, serverUrl: 'https://github.com', owner: 'octo', repo: 'repo', eventName: 'push', branch: 'main', sha: AFTER, runId: '42' };
}

/** A client factory that counts its calls (a real Octokit against the stand-in). */
function clientFor(context: GitHubContext): () => Promise<GitHubClient> {
  return () => {
    clientCalls++;
    return createGitHubClient('test-token', context);
  };
}

function expectFiles(result: ChangedFiles | ChangedFilesUnavailable): ChangedFiles {
  if ('unavailable' in result) throw new Error(`expected a file list, got unavailable: ${result.unavailable}`);
  return result;
}

function expectUnavailable(result: ChangedFiles | ChangedFilesUnavailable): string {
  if (!('unavailable' in result)) throw new Error(`expected unavailable, got ${[...result.files].join(', ')}`);
  expect(result.unavailable).not.toContain('test-token');
  return result.unavailable;
}

/**
 * 250 files in five kinds, 50 each: added, modified, renamed (from old/…), removed, copied.
 * Returns the seed and the paths only-changed must keep.
 */
function mixedFiles(): { files: SeedFile[]; expected: Set<string> } {
  const files: SeedFile[] = [];
  const expected = new Set<string>();
  for (let i = 0; i < 50; i++) {
    files.push({ filename: `art/added-${i}.png`, status: 'added' });
    files.push({ filename: `art/modified-${i}.jpg`, status: 'modified' });
    files.push({ filename: `art/renamed/new-${i}.webp`, status: 'renamed', previous_filename: `old/renamed-${i}.webp` });
    files.push({ filename: `art/removed-${i}.png`, status: 'removed' });
    files.push({ filename: `art/copied-${i}.png`, status: 'copied', previous_filename: `art/added-${i}.png` });
    expected.add(`art/added-${i}.png`).add(`art/modified-${i}.jpg`).add(`art/renamed/new-${i}.webp`).add(`art/copied-${i}.png`);
  }
  return { files, expected };
}

function filesOf(n: number, status: SeedFile['status'] = 'modified'): SeedFile[] {
  return Array.from({ length: n }, (_, i) => ({ filename: `img/${String(i).padStart(4, '0')}.png`, status }));
}

describe('changedFiles on a pull request', () => {
  it('lists added, modified, renamed (new path) and copied files across 3 pages, and drops removed ones', async () => {
    const { files, expected } = mixedFiles();
    seedPullFiles(state, { repo: REPO, number: 7, files });
    const context = prContext(7);

    const result = expectFiles(await changedFiles(context, {}, clientFor(context)));

    expect(result.files).toEqual(expected);
    expect(result.files.size).toBe(200);
    expect(result.truncated).toBe(false);
    expect(result.description).toBe('pull request #7 adds or modifies 200 files (250 listed)');
    // Three pages of 100, following GitHub's link header.
    const listCalls = github.requests.filter(r => r.path === '/repos/octo/repo/pulls/7/files');
    expect(listCalls).toHaveLength(3);
    expect(listCalls.map(r => r.query.get('per_page'))).toEqual(['100', '100', '100']);
    expect(listCalls.map(r => r.query.get('page') ?? '1')).toEqual(['1', '2', '3']);
    expect(listCalls[0].headers.authorization).toBe('token test-token');
  });

  it('counts a rename as its new path only', async () => {
    seedPullFiles(state, {
      repo: REPO,
      number: 8,
      files: [
        { filename: 'icons/logo-new.png', status: 'renamed', previous_filename: 'icons/logo.png' },
        { filename: 'icons/gone.png', status: 'removed' },
        { filename: 'icons/same.png', status: 'unchanged' },
        { filename: 'icons/mode.png', status: 'changed' }
      ]
    });
    const context = prContext(8);

    const result = expectFiles(await changedFiles(context, {}, clientFor(context)));

    expect([...result.files].sort()).toEqual(['icons/logo-new.png', 'icons/mode.png']);
    expect(result.files.has('icons/logo.png')).toBe(false);
  });

  it('reports GitHub\'s 3000-file cap when the pull request reaches it', async () => {
    seedPullFiles(state, { repo: REPO, number: 9, files: filesOf(3100) });
    const context = prContext(9);

    const result = expectFiles(await changedFiles(context, {}, clientFor(context)));

    expect(result.files.size).toBe(3000);
    expect(result.files.has('img/2999.png')).toBe(true);
    expect(result.files.has('img/3000.png')).toBe(false);
    expect(result.truncated).toBe(true);
    expect(result.description).toContain('at most 3000 files');
    expect(result.description).toContain('beyond the first 3000 are unknown');
    expect(github.requests.filter(r => r.path === '/repos/octo/repo/pulls/9/files')).toHaveLength(30);
  });

  it('reports the cap when exactly 3000 files are listed, even if most are removed', async () => {
    seedPullFiles(state, { repo: REPO, number: 10, files: [...filesOf(2990, 'removed'), { filename: 'x/a.png', status: 'added' }, ...filesOf(9)] });
    const context = prContext(10);

    const result = expectFiles(await changedFiles(context, {}, clientFor(context)));

    expect(result.truncated).toBe(true);
    expect(result.description).toMatch(/^pull request #10 adds or modifies 10 files \(3000 listed\); GitHub lists at most 3000/);
  });

  it('does not report the cap for 2999 files', async () => {
    seedPullFiles(state, { repo: REPO, number: 11, files: filesOf(2999) });
    const context = prContext(11);

    const result = expectFiles(await changedFiles(context, {}, clientFor(context)));

    expect(result.files.size).toBe(2999);
    expect(result.truncated).toBe(false);
    expect(result.description).not.toContain('at most');
  });

  it('answers an empty set for a pull request that only removes files', async () => {
    seedPullFiles(state, { repo: REPO, number: 12, files: filesOf(5, 'removed') });
    const context = prContext(12);

    const result = expectFiles(await changedFiles(context, {}, clientFor(context)));

    expect(result.files.size).toBe(0);
    expect(result.description).toBe('pull request #12 adds or modifies 0 files (5 listed)');
  });

  it('uses the pull request on pull_request_target too (the base repository\'s pull)', async () => {
    seedPullFiles(state, { repo: REPO, number: 13, files: [{ filename: 'a.png', status: 'added' }] });
    const context = { ...prContext(13), eventName: 'pull_request_target' };

    const result = expectFiles(await changedFiles(context, {}, clientFor(context)));

    expect([...result.files]).toEqual(['a.png']);
    expect(result.description).toBe('pull request #13 adds or modifies 1 file (1 listed)');
  });

  it.each([
    [403, 'Resource not accessible by integration', '`pull-requests: read`'],
    [404, 'Not Found', '`pull-requests: read`'],
    [500, 'Server Error', '']
  ])('answers HTTP %i as unavailable with the status and GitHub\'s message', async (status, message, hint) => {
    seedPullFiles(state, { repo: REPO, number: 7, files: mixedFiles().files });
    github.failNext('GET', /\/pulls\/7\/files$/, { status, body: { message } });
    const context = prContext(7);

    const text = expectUnavailable(await changedFiles(context, {}, clientFor(context)));

    expect(text).toContain(`could not list the files of pull request #7 in octo/repo: HTTP ${status}: ${message}`);
    if (hint) expect(text).toContain(hint);
    else expect(text).not.toContain('pull-requests');
  });

  it('answers a failure on a later page as unavailable (no partial list)', async () => {
    seedPullFiles(state, { repo: REPO, number: 7, files: mixedFiles().files });
    const context = prContext(7);
    // The first page is served; just before the second is asked for, the stand-in is told to fail it.
    let sent = 0;
    const client = async (): Promise<GitHubClient> => {
      const octokit = await createGitHubClient('test-token', context);
      octokit.hook.before('request', () => {
        if (++sent === 2) github.failNext('GET', /\/pulls\/7\/files$/, { status: 502, body: { message: 'Bad Gateway' } });
      });
      return octokit;
    };

    const text = expectUnavailable(await changedFiles(context, {}, client));

    expect(text).toContain('HTTP 502: Bad Gateway');
    expect(github.requests.map(r => r.query.get('page') ?? '1')).toEqual(['1', '2']);
  });
});

describe('changedFiles on a push', () => {
  it('compares before...after and keeps the same statuses (files on the first page, as GitHub lists them)', async () => {
    const { files, expected } = mixedFiles();
    // 350 commits: four pages of commits; GitHub sends the files with the first page only.
    const commits = Array.from({ length: 350 }, (_, i) => fakeSha(`c${i}`));
    seedComparison(state, { repo: REPO, base: BEFORE, head: AFTER, files, commits });
    const context = pushContext();

    const result = expectFiles(await changedFiles(context, { before: BEFORE, after: AFTER }, clientFor(context)));

    expect(result.files).toEqual(expected);
    expect(result.truncated).toBe(false);
    expect(result.description).toBe(`the push ${BEFORE.slice(0, 7)}...${AFTER.slice(0, 7)} adds or modifies 200 files (250 listed)`);
    const calls = github.requests.filter(r => r.path.startsWith('/repos/octo/repo/compare/'));
    // Page 1 carries the files; page 2 has none, so reading stops there instead of walking all commits.
    expect(calls).toHaveLength(2);
    expect(calls[0].path).toBe(`/repos/octo/repo/compare/${BEFORE}...${AFTER}`);
    expect(calls[0].query.get('per_page')).toBe('100');
    expect(calls[1].query.get('page')).toBe('2');
  });

  it('reads files spread over pages when the answer pages them', async () => {
    state.filesPagedLikeCommits = true;
    const { files, expected } = mixedFiles();
    seedComparison(state, { repo: REPO, base: BEFORE, head: AFTER, files });
    const context = pushContext();

    const result = expectFiles(await changedFiles(context, { before: BEFORE, after: AFTER }, clientFor(context)));

    expect(result.files).toEqual(expected);
    const calls = github.requests.filter(r => r.path.startsWith('/repos/octo/repo/compare/'));
    expect(calls.map(r => r.query.get('page') ?? '1')).toEqual(['1', '2', '3']);
  });

  it('counts a rename in a push as its new path only', async () => {
    seedComparison(state, {
      repo: REPO,
      base: BEFORE,
      head: AFTER,
      files: [
        { filename: 'b/new.png', status: 'renamed', previous_filename: 'a/old.png' },
        { filename: 'c/removed.png', status: 'removed' }
      ]
    });
    const context = pushContext();

    const result = expectFiles(await changedFiles(context, { before: BEFORE, after: AFTER }, clientFor(context)));

    expect([...result.files]).toEqual(['b/new.png']);
  });

  it('reports GitHub\'s 300-file cap for a comparison', async () => {
    seedComparison(state, { repo: REPO, base: BEFORE, head: AFTER, files: filesOf(320) });
    const context = pushContext();

    const result = expectFiles(await changedFiles(context, { before: BEFORE, after: AFTER }, clientFor(context)));

    expect(result.files.size).toBe(300);
    expect(result.truncated).toBe(true);
    expect(result.description).toContain('at most 300 files of a comparison');
  });

  it('takes GITHUB_SHA when the event has no after', async () => {
    seedComparison(state, { repo: REPO, base: BEFORE, head: AFTER, files: [{ filename: 'a.png', status: 'modified' }] });
    const context = pushContext();

    const result = expectFiles(await changedFiles(context, { before: BEFORE }, clientFor(context)));

    expect([...result.files]).toEqual(['a.png']);
  });

  it('answers a push that created the branch as unavailable, without a request', async () => {
    const context = pushContext();

    const text = expectUnavailable(await changedFiles(context, { before: ZEROS, after: AFTER }, clientFor(context)));

    expect(text).toContain('created the branch');
    expect(clientCalls).toBe(0);
    expect(github.requests).toHaveLength(0);
  });

  it('answers a push without before as unavailable, without a request', async () => {
    const context = pushContext();

    const text = expectUnavailable(await changedFiles(context, { after: AFTER }, clientFor(context)));

    expect(text).toContain('no `before` commit');
    expect(clientCalls).toBe(0);
    expect(github.requests).toHaveLength(0);
  });

  it('answers a push that deleted the branch as unavailable', async () => {
    const context = pushContext();

    const text = expectUnavailable(await changedFiles(context, { before: BEFORE, after: ZEROS }, clientFor(context)));

    expect(text).toContain('deleted the branch');
    expect(github.requests).toHaveLength(0);
  });

  it('answers a before that GitHub does not know (a force push) with its 404', async () => {
    const context = pushContext();

    const text = expectUnavailable(await changedFiles(context, { before: fakeSha('forgotten'), after: AFTER }, clientFor(context)));

    expect(text).toContain('HTTP 404: Not Found');
    expect(text).toContain(`could not compare ${fakeSha('forgotten').slice(0, 7)}...${AFTER.slice(0, 7)} in octo/repo`);
  });

  it.each([
    [403, 'Resource not accessible by integration', '`contents: read`'],
    [404, 'Not Found', '`contents: read`'],
    [500, 'Server Error', '']
  ])('answers HTTP %i as unavailable with the status and GitHub\'s message', async (status, message, hint) => {
    seedComparison(state, { repo: REPO, base: BEFORE, head: AFTER, files: filesOf(3) });
    github.failNext('GET', /\/compare\//, { status, body: { message } });
    const context = pushContext();

    const text = expectUnavailable(await changedFiles(context, { before: BEFORE, after: AFTER }, clientFor(context)));

    expect(text).toContain(`HTTP ${status}: ${message}`);
    if (hint) expect(text).toContain(hint);
    else expect(text).not.toContain('contents: read');
  });
});

describe('changedFiles on other events', () => {
  it.each(['workflow_dispatch', 'schedule', 'release'])('answers %s as unavailable without any request', async eventName => {
    const context: GitHubContext = { ...pushContext(), eventName };

    const text = expectUnavailable(await changedFiles(context, { before: BEFORE, after: AFTER }, clientFor(context)));

    expect(text).toBe(`only-changed applies to pull_request and push events, not ${eventName}`);
    expect(clientCalls).toBe(0);
    expect(github.requests).toHaveLength(0);
  });

  it('names a missing event name plainly', async () => {
    const context: GitHubContext = { ...pushContext(), eventName: '' };

    const text = expectUnavailable(await changedFiles(context, {}, clientFor(context)));

    expect(text).toContain('only-changed applies to pull_request and push events, not a run without an event name');
  });

  it('answers a client that cannot be created as unavailable instead of throwing', async () => {
    const context = prContext(7);

    const text = expectUnavailable(
      await changedFiles(context, {}, async () => {
        throw new Error('cannot load @actions/github');
      })
    );

    expect(text).toContain('cannot load @actions/github');
  });
});

describe('pushRange', () => {
  it('reads before and after from a push payload', () => {
    expect(pushRange({ ref: 'refs/heads/main', before: BEFORE, after: AFTER, created: false })).toEqual({ before: BEFORE, after: AFTER });
  });

  it('leaves out missing, empty and non-string fields', () => {
    expect(pushRange({ before: '', after: 42 })).toEqual({});
    expect(pushRange({ after: AFTER })).toEqual({ after: AFTER });
    expect(pushRange(undefined)).toEqual({});
    expect(pushRange('not an object')).toEqual({});
    expect(pushRange(null)).toEqual({});
  });
});
