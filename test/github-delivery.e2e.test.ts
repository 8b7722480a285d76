/**
 * End to end: dist/index.js as the runner runs it, on pull request and push
 * events, against the stand-in edit endpoint and a loopback stand-in of GitHub's
 * REST API (GITHUB_API_URL): commit, preview branch, sticky comment, only-changed.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startStandIn } from '../stand-in/edit-endpoint.mjs';
import { branchFiles, branchHead, createGitState, gitRoutes, seedBranch, type GitState } from './helpers/github-git-routes.js';
import { commentsOf, createIssuesState, issueRoutes, type IssuesState } from './helpers/github-issues-routes.js';
import { createPullsState, pullRoutes, seedPullFiles, type PullsState } from './helpers/github-pulls-routes.js';
import { startGitHubStandIn, type GitHubStandIn } from './helpers/github-stand-in.js';
import { artWorkspace } from './helpers/images.js';
import { runAction, type RunnerResult } from './helpers/runner.js';

const KEY = 'sk-e2e-github-SECRET-0123456789';
const TOKEN = 'ghs_e2eTOKEN0123456789abcdefghij';
const REPO = 'octo/repo';

type StandIn = Awaited<ReturnType<typeof startStandIn>>;

let standIn: StandIn;
let github: GitHubStandIn;
let git: GitState;
let issues: IssuesState;
let pulls: PullsState;
let workspace: string;

beforeEach(async () => {
  standIn = await startStandIn({ requireKey: KEY });
  git = createGitState('octo', 'repo');
  issues = createIssuesState();
  pulls = createPullsState();
  github = await startGitHubStandIn([...issueRoutes(issues), ...gitRoutes(git), ...pullRoutes(pulls)]);
  workspace = artWorkspace('e2e-github-');
  // The branch on GitHub holds the sources, as the checkout does.
  seedBranch(git, 'feature/art', {
    'art/logo.png': fs.readFileSync(path.join(workspace, 'art/logo.png')),
    'art/icons/star.png': fs.readFileSync(path.join(workspace, 'art/icons/star.png'))
  });
});

afterEach(async () => {
  await standIn.close();
  await github.close();
  fs.rmSync(workspace, { recursive: true, force: true });
});

/** A pull_request event payload for PR #7 with its head on `feature/art` (in a fork when `fork`). */
function pullRequestEvent(fork = false): object {
  return {
    number: 7,
    pull_request: {
      number: 7,
      head: { ref: 'feature/art', sha: branchHead(git, 'feature/art'), repo: { full_name: fork ? 'someone/repo' : REPO, fork } },
      base: { ref: 'main', repo: { full_name: REPO } }
    }
  };
}

function run(
  inputs: Record<string, string>,
  event: object,
  eventName = 'pull_request',
  env: Record<string, string> = {}
): Promise<RunnerResult> {
  return runAction(
    workspace,
    {
      images: 'art/**/*.png',
      prompt: 'Make {name} look hand-drawn',
      'api-key': KEY,
      endpoint: standIn.url,
      'upload-artifact': 'false',
      'github-token': TOKEN,
      ...inputs
    },
    {
      event,
      eventName,
      env: { GITHUB_API_URL: github.url, GITHUB_REF: 'refs/pull/7/merge', GITHUB_SHA: 'f'.repeat(40), GITHUB_RUN_ID: '42', ...env }
    }
  );
}

/** Nothing secret in what the run printed or wrote. */
function expectNoSecrets(result: RunnerResult): void {
  const shown = result.stdout.split('\n').filter(line => !line.startsWith('::add-mask::'));
  for (const text of [shown.join('\n'), result.stderr, result.summary, JSON.stringify(result.outputs), JSON.stringify(issues.comments)]) {
    expect(text).not.toContain(KEY);
    expect(text).not.toContain(TOKEN);
  }
}

describe('on a pull request', () => {
  it('commits the outputs and the manifest in one API commit and posts the comment with previews at it; a rerun adds neither', async () => {
    const first = await run({ commit: 'true' }, pullRequestEvent());
    expect(first.code).toBe(0);
    expect(first.stderr).toBe('');
    const sha = first.outputs['commit-sha'];
    expect(sha).toBe(branchHead(git, 'feature/art'));
    const files = branchFiles(git, 'feature/art')!;
    for (const output of ['art/logo.edited.png', 'art/icons/star.edited.png', '.image-edits.json']) {
      expect(files.get(output)?.equals(fs.readFileSync(path.join(workspace, output)))).toBe(true);
    }
    expect(git.commits.get(sha)?.message).toBe('Edit 2 image(s) with gpt-image-1');

    const [comment] = commentsOf(issues, REPO, 7);
    expect(first.outputs['comment-url']).toContain(`#issuecomment-${comment.id}`);
    expect(comment.body).toContain('<!-- image-edit-preview:image-edit-preview -->');
    expect(comment.body).toContain(`https://github.com/octo/repo/blob/${sha}/art/logo.edited.png?raw=true`);
    expect(comment.body).toContain(`https://github.com/octo/repo/blob/${sha}/art/logo.png?raw=true`);
    expect(first.summary).toContain(`https://github.com/octo/repo/blob/${sha}/art/icons/star.edited.png?raw=true`);
    expectNoSecrets(first);

    // Everything is unchanged: nothing is edited, nothing committed, the same comment is updated.
    const second = await run({ commit: 'true' }, pullRequestEvent());
    expect(second.code).toBe(0);
    expect(second.outputs['skipped-count']).toBe('2');
    expect(second.outputs['commit-sha']).toBeUndefined();
    expect(branchHead(git, 'feature/art')).toBe(sha);
    expect(commentsOf(issues, REPO, 7)).toHaveLength(1);
    expect(second.outputs['comment-url']).toBe(first.outputs['comment-url']);
    expect(github.requests.filter(r => r.method === 'POST' && r.path.endsWith('/comments'))).toHaveLength(1);
    // Nothing new to show: the comment keeps the previews of the run that made them.
    expect(github.requests.filter(r => r.method === 'PATCH' && r.path.includes('/issues/comments/'))).toHaveLength(0);
    expect(commentsOf(issues, REPO, 7)[0].body).toContain(`https://github.com/octo/repo/blob/${sha}/art/logo.edited.png?raw=true`);
  });

  it('without commit, pushes the outputs to the preview branch as pr-7/… and links them there', async () => {
    const result = await run({ 'preview-branch': 'image-previews' }, pullRequestEvent());
    expect(result.code).toBe(0);
    expect(result.outputs['commit-sha']).toBeUndefined();
    const previews = branchFiles(git, 'image-previews')!;
    expect([...previews.keys()].sort()).toEqual(['pr-7/art/icons/star.edited.png', 'pr-7/art/logo.edited.png']);
    const at = branchHead(git, 'image-previews');
    const [comment] = commentsOf(issues, REPO, 7);
    expect(comment.body).toContain(`https://github.com/octo/repo/blob/${at}/pr-7/art/logo.edited.png?raw=true`);
    // The sources are shown at the pull request's head commit.
    expect(comment.body).toContain(`https://github.com/octo/repo/blob/${branchHead(git, 'feature/art')}/art/logo.png?raw=true`);
    // The PR's own branch is untouched.
    expect(branchFiles(git, 'feature/art')!.has('art/logo.edited.png')).toBe(false);
  });

  it('from a fork, where GitHub refuses the read-only token: warnings that say so, the step still succeeds', async () => {
    github.failNext('POST', /\/issues\/7\/comments$/, { status: 403, body: { message: 'Resource not accessible by integration' } });
    const result = await run({ commit: 'true' }, pullRequestEvent(true));
    expect(result.code).toBe(0);
    expect(result.outputs['edited-count']).toBe('2');
    expect(result.stdout).toMatch(/::warning::The outputs are not committed: this is a pull request from a fork \(someone\/repo\)/);
    expect(result.stdout).toMatch(/::warning::GitHub refused to comment on pull request #7 \(HTTP 403: Resource not accessible by integration\)\. This is a pull request from a fork/);
    expect(result.outputs['comment-url']).toBeUndefined();
    expect(git.commits.size).toBe(1);
    expect(result.summary).toContain('art/logo.edited.png');
    expectNoSecrets(result);
  });

  it('only-changed: only the images the pull request adds or modifies are sources', async () => {
    seedPullFiles(pulls, {
      repo: REPO,
      number: 7,
      files: [
        { filename: 'art/icons/star.png', status: 'modified' },
        { filename: 'art/old.png', status: 'removed' },
        { filename: 'README.md', status: 'modified' }
      ]
    });
    const result = await run({ 'only-changed': 'true', comment: 'never' }, pullRequestEvent());
    expect(result.code).toBe(0);
    const results = JSON.parse(result.outputs.results) as Array<{ source: string; status: string }>;
    expect(results.map(r => [r.source, r.status])).toEqual([['art/icons/star.png', 'edited']]);
    expect(fs.existsSync(path.join(workspace, 'art/logo.edited.png'))).toBe(false);
    expect(result.stdout).toContain('1 matched file(s) left out: the pull request or push did not change them (only-changed)');
    expect(commentsOf(issues, REPO, 7)).toHaveLength(0);
  });
});

describe('shards committing to one branch', () => {
  it("keeps every shard's manifest entries (each commit merges the manifest on the branch)", async () => {
    const push = { GITHUB_REF: 'refs/heads/feature/art', GITHUB_SHA: branchHead(git, 'feature/art')! };
    const sources = new Set<string>();
    for (const shard of ['1/2', '2/2']) {
      // Each job starts from the same checkout: no outputs, no manifest.
      fs.rmSync(path.join(workspace, '.image-edits.json'), { force: true });
      for (const output of ['art/logo.edited.png', 'art/icons/star.edited.png']) fs.rmSync(path.join(workspace, output), { force: true });
      const result = await run({ commit: 'true', shard }, {}, 'push', push);
      expect(result.code).toBe(0);
      for (const r of JSON.parse(result.outputs.results) as Array<{ source: string }>) sources.add(r.source);
    }
    expect([...sources].sort()).toEqual(['art/icons/star.png', 'art/logo.png']);
    const manifest = JSON.parse(branchFiles(git, 'feature/art')!.get('.image-edits.json')!.toString('utf8'));
    expect(Object.keys(manifest.entries).sort()).toEqual(['art/icons/star.png', 'art/logo.png']);
  });
});

describe('only-changed on a pull request that touches no matched image', () => {
  it('edits nothing and posts no comment', async () => {
    seedPullFiles(pulls, { repo: REPO, number: 7, files: [{ filename: 'README.md', status: 'modified' }] });
    const result = await run({ 'only-changed': 'true' }, pullRequestEvent());
    expect(result.code).toBe(0);
    expect(JSON.parse(result.outputs.results)).toEqual([]);
    expect(commentsOf(issues, REPO, 7)).toHaveLength(0);
    expect(result.outputs['comment-url']).toBeUndefined();
  });
});

describe('dry run', () => {
  it('on a pull request: nothing is sent to GitHub either', async () => {
    const result = await run({ 'dry-run': 'true', 'api-key': '', commit: 'true', 'preview-branch': 'image-previews' }, pullRequestEvent());
    expect(result.code).toBe(0);
    expect(result.outputs['skipped-count']).toBe('2');
    expect(github.requests).toEqual([]);
  });
});

describe('on other events', () => {
  it('comment auto on workflow_dispatch sends nothing to GitHub', async () => {
    const result = await run({}, {}, 'workflow_dispatch');
    expect(result.code).toBe(0);
    expect(result.outputs['edited-count']).toBe('2');
    expect(github.requests).toEqual([]);
  });

  it('only-changed on a push that created its branch: a warning, and every matched image is a source', async () => {
    const result = await run({ 'only-changed': 'true' }, { before: '0'.repeat(40), after: 'a'.repeat(40) }, 'push');
    expect(result.code).toBe(0);
    expect(result.outputs['edited-count']).toBe('2');
    expect(result.stdout).toMatch(/::warning::only-changed: .*every matched image is a source/);
  });
});

describe('commit-method: git', () => {
  /** Makes the workspace a clone of a bare origin with the sources committed on main; returns git(). */
  function gitWorkspace(): { git: (...args: string[]) => string; origin: string } {
    const origin = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-origin-'));
    const git = (...args: string[]): string =>
      execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'init.defaultBranch=main', ...args], {
        cwd: workspace,
        encoding: 'utf8'
      }).trim();
    execFileSync('git', ['init', '--bare', '-b', 'main', origin]);
    git('init', '-b', 'main');
    git('add', '.');
    git('commit', '-m', 'sources');
    git('remote', 'add', 'origin', origin);
    git('push', 'origin', 'main');
    return { git, origin };
  }

  it('on a push: commits the outputs and the manifest with the git CLI and pushes them', async () => {
    const { git, origin } = gitWorkspace();
    try {
      // A HOME without a global git config, as on a fresh runner: the commit is the bot's.
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-home-'));
      const result = await run({ commit: 'true', 'commit-method': 'git', 'github-token': '' }, {}, 'push', {
        GITHUB_REF: 'refs/heads/main',
        GITHUB_SHA: git('rev-parse', 'HEAD'),
        HOME: home
      });
      fs.rmSync(home, { recursive: true, force: true });
      expect(result.code).toBe(0);
      const pushed = execFileSync('git', ['--git-dir', origin, 'rev-parse', 'main'], { encoding: 'utf8' }).trim();
      expect(result.outputs['commit-sha']).toBe(pushed);
      const tree = execFileSync('git', ['--git-dir', origin, 'ls-tree', '-r', '--name-only', 'main'], { encoding: 'utf8' }).split('\n');
      expect(tree).toEqual(expect.arrayContaining(['.image-edits.json', 'art/icons/star.edited.png', 'art/logo.edited.png']));
      expect(execFileSync('git', ['--git-dir', origin, 'log', '-1', '--format=%s%n%an', 'main'], { encoding: 'utf8' }).trim()).toBe(
        'Edit 2 image(s) with gpt-image-1\ngithub-actions[bot]'
      );
      expect(github.requests).toEqual([]);
    } finally {
      fs.rmSync(origin, { recursive: true, force: true });
    }
  });

  it("on a pull request checked out at its merge commit: a warning that says how to check out the branch, no push", async () => {
    const { git, origin } = gitWorkspace();
    try {
      // As actions/checkout leaves a pull request: detached at the merge commit.
      git('checkout', '--detach');
      const merge = git('rev-parse', 'HEAD');
      const result = await run({ commit: 'true', 'commit-method': 'git', comment: 'never' }, pullRequestEvent(), 'pull_request', { GITHUB_SHA: merge });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(
        '::warning::The outputs are not committed: the workspace is not on a branch (a detached checkout; on a pull request, actions/checkout checks out its merge commit), not on feature/art'
      );
      expect(result.outputs['commit-sha']).toBeUndefined();
      expect(execFileSync('git', ['--git-dir', origin, 'rev-parse', 'main'], { encoding: 'utf8' }).trim()).toBe(merge);
    } finally {
      fs.rmSync(origin, { recursive: true, force: true });
    }
  });
});
