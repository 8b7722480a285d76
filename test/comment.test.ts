/**
 * The sticky PR comment: finding the pull request (commentTarget), the body
 * (renderComment: counts, previews, escaping, size limit) and posting it
 * (upsertComment) through a real Octokit against the loopback GitHub stand-in:
 * created once, updated in place, found past the first page, one per tag, and
 * every refusal or failure a warning.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { commentMarker, commentTarget, renderComment, upsertComment, type CommentInput } from '../src/delivery/comment.js';
import { createGitHubClient, type GitHubClient, type GitHubContext, type PullRequestInfo } from '../src/github.js';
import type { Log } from '../src/log.js';
import { silentLog } from '../src/log.js';
import type { FileResult, PipelineResult } from '../src/pipeline.js';
import type { Plan } from '../src/plan.js';
import type { Settings } from '../src/settings.js';
import { startGitHubStandIn, type GitHubStandIn } from './helpers/github-stand-in.js';
import { ACTIONS_BOT, commentsOf, createIssuesState, issueRoutes, seedComment, type IssuesState } from './helpers/github-issues-routes.js';

const TOKEN = 'ghs_TEST-token-0123456789';
const REPO = 'octo/repo';
const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const COMMENTS = /^\/repos\/octo\/repo\/issues\/7\/comments$/;

function contextFor(apiUrl: string, pr?: Partial<PullRequestInfo>): GitHubContext {
  return {
    apiUrl,
    serverUrl: 'https://github.com',
    owner: 'octo',
    repo: 'repo',
    eventName: pr ? 'pull_request' : 'push',
    branch: pr ? undefined : 'main',
    sha: SHA,
    runId: '4242',
    ...(pr && {
      pullRequest: {
        number: 7,
        headRef: 'feature/art',
        headSha: SHA,
        headRepo: REPO,
        baseRepo: REPO,
        fork: false,
        ...pr
      }
    })
  };
}

function recordingLog(): { log: Log; warnings: string[]; infos: string[] } {
  const warnings: string[] = [];
  const infos: string[] = [];
  return { log: { ...silentLog, warning: m => warnings.push(m), info: m => infos.push(m) }, warnings, infos };
}

function resultOf(results: FileResult[], model = 'gpt-image-1'): PipelineResult {
  const settings = { params: { model, n: 1 }, workspace: '/tmp/ws', dryRun: false } as unknown as Settings;
  return {
    settings,
    plan: { jobs: [], notSources: [], otherShards: 0 } as unknown as Plan,
    results,
    outputFiles: results.flatMap(r => (r.status === 'edited' ? r.outputs : [])),
    taskIds: results.flatMap(r => r.taskIds ?? []),
    cancelled: false
  };
}

function edited(source: string, outputs = [source.replace(/\.png$/, '.edited.png')]): FileResult {
  return { source, status: 'edited', outputs, durationMs: 1200, attempts: 1 };
}

describe('upsertComment against the GitHub stand-in', () => {
  let github: GitHubStandIn;
  let state: IssuesState;
  let context: GitHubContext;
  let client: GitHubClient;

  beforeEach(async () => {
    state = createIssuesState();
    github = await startGitHubStandIn(issueRoutes(state));
    context = contextFor(github.url, {});
    client = await createGitHubClient(TOKEN, context);
  });

  afterEach(async () => {
    await github.close();
  });

  const body = (text: string, tag = 'image-edit-preview') => `${commentMarker(tag)}\n${text}`;
  const writes = () => github.requests.filter(r => r.method !== 'GET').map(r => `${r.method} ${r.path}`);

  it('creates the comment once and returns its html_url', async () => {
    const { log, warnings } = recordingLog();
    const posted = await upsertComment(client, context, 7, 'image-edit-preview', body('first run'), log);

    expect(posted).toEqual({ url: expect.stringMatching(/^https:\/\/github\.com\/octo\/repo\/pull\/7#issuecomment-\d+$/), id: expect.any(Number), created: true });
    expect(writes()).toEqual(['POST /repos/octo/repo/issues/7/comments']);
    const stored = commentsOf(state, REPO, 7);
    expect(stored).toHaveLength(1);
    expect(stored[0].body).toBe(body('first run'));
    expect(stored[0].user.type).toBe('Bot');
    expect(posted?.url).toBe(`https://github.com/octo/repo/pull/7#issuecomment-${stored[0].id}`);
    expect(warnings).toEqual([]);
    // The token went out as auth, and only there.
    expect(github.requests[0].headers.authorization).toBe(`token ${TOKEN}`);
  });

  it('updates the same comment in place on a rerun (PATCH, still one comment)', async () => {
    const first = await upsertComment(client, context, 7, 'image-edit-preview', body('run 1'), silentLog);
    const second = await upsertComment(client, context, 7, 'image-edit-preview', body('run 2'), silentLog);

    expect(second).toEqual({ url: first?.url, id: first?.id, created: false });
    expect(writes()).toEqual(['POST /repos/octo/repo/issues/7/comments', `PATCH /repos/octo/repo/issues/comments/${first?.id}`]);
    const stored = commentsOf(state, REPO, 7);
    expect(stored).toHaveLength(1);
    expect(stored[0].body).toBe(body('run 2'));
  });

  it('finds its comment on page 2 among more than 100 others', async () => {
    for (let i = 0; i < 130; i++) {
      seedComment(state, { repo: REPO, issue: 7, body: `comment ${i} <!-- image-edit-preview:other -->`, user: i % 2 ? ACTIONS_BOT : undefined });
    }
    const mine = seedComment(state, { repo: REPO, issue: 7, body: body('old'), user: ACTIONS_BOT });
    for (let i = 0; i < 20; i++) seedComment(state, { repo: REPO, issue: 7, body: `later ${i}` });
    // Another pull request's comment with the same marker is not ours.
    seedComment(state, { repo: REPO, issue: 8, body: body('other PR'), user: ACTIONS_BOT });

    const result = await upsertComment(client, context, 7, 'image-edit-preview', body('new'), silentLog);

    expect(result).toMatchObject({ id: mine.id, created: false });
    const pages = github.requests.filter(r => r.method === 'GET').map(r => `${r.query.get('per_page')}/${r.query.get('page') ?? '1'}`);
    expect(pages).toEqual(['100/1', '100/2']);
    expect(writes()).toEqual([`PATCH /repos/octo/repo/issues/comments/${mine.id}`]);
    expect(commentsOf(state, REPO, 7)).toHaveLength(151);
    expect(state.comments.find(c => c.id === mine.id)?.body).toBe(body('new'));
    expect(commentsOf(state, REPO, 8)[0].body).toBe(body('other PR'));
  });

  it('keeps one comment per tag', async () => {
    const a1 = await upsertComment(client, context, 7, 'icons', body('icons 1', 'icons'), silentLog);
    const b1 = await upsertComment(client, context, 7, 'icons-dark', body('dark 1', 'icons-dark'), silentLog);
    const a2 = await upsertComment(client, context, 7, 'icons', body('icons 2', 'icons'), silentLog);
    const b2 = await upsertComment(client, context, 7, 'icons-dark', body('dark 2', 'icons-dark'), silentLog);

    expect(a1?.created && b1?.created).toBe(true);
    expect(a1?.id).not.toBe(b1?.id);
    expect([a2?.id, a2?.created, b2?.id, b2?.created]).toEqual([a1?.id, false, b1?.id, false]);
    expect(commentsOf(state, REPO, 7).map(c => c.body)).toEqual([body('icons 2', 'icons'), body('dark 2', 'icons-dark')]);
  });

  it("prefers the bot's comment when a person quoted the marker, and adds the marker when the body lacks it", async () => {
    const quoted = seedComment(state, { repo: REPO, issue: 7, body: `> ${commentMarker('image-edit-preview')}\n> looks good` });
    const bots = seedComment(state, { repo: REPO, issue: 7, body: body('old'), user: ACTIONS_BOT });

    const result = await upsertComment(client, context, 7, 'image-edit-preview', 'no marker here', silentLog);

    expect(result?.id).toBe(bots.id);
    expect(state.comments.find(c => c.id === bots.id)?.body).toBe(`${commentMarker('image-edit-preview')}\nno marker here`);
    expect(state.comments.find(c => c.id === quoted.id)?.body).toContain('looks good');
  });

  it("never takes over a person's comment that quotes or mentions the marker: a new comment is made", async () => {
    const theirs = seedComment(state, { repo: REPO, issue: 7, body: `See ${commentMarker('image-edit-preview')} in the docs` });
    const result = await upsertComment(client, context, 7, 'image-edit-preview', body('mine'), silentLog);
    expect(result).toMatchObject({ created: true });
    expect(result?.id).not.toBe(theirs.id);
    expect(state.comments.find(c => c.id === theirs.id)?.body).toBe(`See ${commentMarker('image-edit-preview')} in the docs`);
  });

  it('update: false keeps an existing comment as it is; create: false makes none', async () => {
    expect(await upsertComment(client, context, 7, 'image-edit-preview', body('x'), silentLog, { create: false })).toBeUndefined();
    expect(commentsOf(state, REPO, 7)).toHaveLength(0);
    const first = await upsertComment(client, context, 7, 'image-edit-preview', body('with previews'), silentLog, { update: false });
    const kept = await upsertComment(client, context, 7, 'image-edit-preview', body('nothing new'), silentLog, { update: false });
    expect(kept).toEqual({ url: first?.url, id: first?.id, created: false });
    expect(commentsOf(state, REPO, 7).map(c => c.body)).toEqual([body('with previews')]);
    expect(writes()).toEqual(['POST /repos/octo/repo/issues/7/comments']);
  });

  it('updates a marked comment by a person when no bot has one (a personal token posted it)', async () => {
    const pat = seedComment(state, { repo: REPO, issue: 7, body: body('via PAT') });
    const result = await upsertComment(client, context, 7, 'image-edit-preview', body('again'), silentLog);
    expect(result).toMatchObject({ id: pat.id, created: false });
    expect(commentsOf(state, REPO, 7)).toHaveLength(1);
  });

  it("403 on a fork's pull request: a warning that names the fork case, nothing written, no throw", async () => {
    const fork = contextFor(github.url, { fork: true, headRepo: 'forker/repo' });
    github.failNext('POST', COMMENTS, { status: 403, body: { message: 'Resource not accessible by integration' } });
    const { log, warnings } = recordingLog();

    const result = await upsertComment(client, fork, 7, 'image-edit-preview', body('x'), log);

    expect(result).toBeUndefined();
    expect(state.comments).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('GitHub refused to comment on pull request #7');
    expect(warnings[0]).toContain('HTTP 403: Resource not accessible by integration');
    expect(warnings[0]).toMatch(/pull request from a fork \(forker\/repo\)/);
    expect(warnings[0]).toContain('token is read-only');
    expect(warnings[0]).toContain('job summary and the artifact still carry the results');
    expect(warnings[0]).not.toContain(TOKEN);
  });

  it('403 on a pull request of the same repository: a warning about permissions, not about forks', async () => {
    github.failNext('POST', COMMENTS, { status: 403, body: { message: 'Resource not accessible by integration' } });
    const { log, warnings } = recordingLog();
    expect(await upsertComment(client, context, 7, 'image-edit-preview', body('x'), log)).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('HTTP 403');
    expect(warnings[0]).toContain('pull-requests: write');
    expect(warnings[0]).not.toContain('fork');
    expect(state.comments).toEqual([]);
  });

  it('404 while listing: a warning, no write', async () => {
    github.failNext('GET', COMMENTS, { status: 404, body: { message: 'Not Found' } });
    const { log, warnings } = recordingLog();
    expect(await upsertComment(client, context, 7, 'image-edit-preview', body('x'), log)).toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining('GitHub refused to comment on pull request #7 (HTTP 404: Not Found)')]);
    expect(writes()).toEqual([]);
  });

  it('500 on the update: a warning, the old body stays', async () => {
    const old = seedComment(state, { repo: REPO, issue: 7, body: body('old'), user: ACTIONS_BOT });
    github.failNext('PATCH', /^\/repos\/octo\/repo\/issues\/comments\/\d+$/, { status: 500, body: { message: 'Server Error' } });
    const { log, warnings } = recordingLog();

    expect(await upsertComment(client, context, 7, 'image-edit-preview', body('new'), log)).toBeUndefined();

    expect(warnings).toEqual([expect.stringContaining('Could not post the preview comment on pull request #7 (HTTP 500: Server Error)')]);
    expect(commentsOf(state, REPO, 7)).toEqual([expect.objectContaining({ id: old.id, body: body('old') })]);
  });

  it('422 for a body over 65,536 characters: a warning, nothing written', async () => {
    const { log, warnings } = recordingLog();
    expect(await upsertComment(client, context, 7, 'image-edit-preview', body('x'.repeat(70000)), log)).toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining('HTTP 422')]);
    expect(state.comments).toEqual([]);
  });

  it('an unreachable API: a warning, no throw', async () => {
    const closed = http.createServer();
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>(resolve => closed.close(() => resolve()));
    const gone = contextFor(`http://127.0.0.1:${port}`, {});
    const { log, warnings } = recordingLog();

    expect(await upsertComment(await createGitHubClient(TOKEN, gone), gone, 7, 'image-edit-preview', body('x'), log)).toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining('Could not post the preview comment on pull request #7')]);
  });

  it('posts a 3,000-file body that GitHub accepts', async () => {
    const results = Array.from({ length: 3000 }, (_, i) => edited(`art/very/long/folder/name/for/icons/icon-${i}.png`));
    const text = renderComment({ result: resultOf(results), tag: 'big', context, previews: { sourcesAt: { repo: REPO, sha: SHA }, outputsAt: { repo: REPO, sha: SHA } } });
    const { log, warnings } = recordingLog();
    expect(await upsertComment(client, context, 7, 'big', text, log)).toMatchObject({ created: true });
    expect(warnings).toEqual([]);
  });
});

describe('commentTarget', () => {
  let github: GitHubStandIn;
  let state: IssuesState;

  beforeEach(async () => {
    state = createIssuesState();
    github = await startGitHubStandIn(issueRoutes(state));
  });

  afterEach(async () => {
    await github.close();
  });

  /** A lazy client that counts how often it was asked for. */
  function lazy(context: GitHubContext): { get: () => Promise<GitHubClient>; calls: () => number } {
    let calls = 0;
    return {
      get: () => {
        calls++;
        return createGitHubClient(TOKEN, context);
      },
      calls: () => calls
    };
  }

  it('never: skips without a client, even on a pull request', async () => {
    const context = contextFor(github.url, {});
    const client = lazy(context);
    expect(await commentTarget('never', context, client.get)).toEqual({ skip: expect.stringContaining('never') });
    expect(client.calls()).toBe(0);
  });

  it("auto on a pull request: the event's pull request, no request", async () => {
    const context = contextFor(github.url, { number: 12 });
    const client = lazy(context);
    expect(await commentTarget('auto', context, client.get)).toEqual({ number: 12 });
    expect(client.calls()).toBe(0);
    expect(github.requests).toEqual([]);
  });

  it('auto on push: skips ("not a pull request event") without loading the client or sending a request', async () => {
    const context = contextFor(github.url);
    state.pulls.push({ repo: REPO, number: 9, state: 'open', headSha: SHA, headRef: 'main' });
    const client = lazy(context);
    const target = await commentTarget('auto', context, client.get);
    expect(target).toEqual({ skip: expect.stringContaining('not a pull request event') });
    expect(client.calls()).toBe(0);
    expect(github.requests).toEqual([]);
  });

  it("always on a pull request: the event's pull request, no request", async () => {
    const context = contextFor(github.url, { number: 5 });
    expect(await commentTarget('always', context, lazy(context).get)).toEqual({ number: 5 });
    expect(github.requests).toEqual([]);
  });

  it('always on push: the open pull request whose head is the commit (commits/{sha}/pulls)', async () => {
    const context = contextFor(github.url);
    state.pulls.push(
      { repo: REPO, number: 3, state: 'closed', headSha: SHA, headRef: 'old' },
      { repo: REPO, number: 4, state: 'open', headSha: 'ffff', headRef: 'other', commits: [SHA] },
      { repo: REPO, number: 9, state: 'open', headSha: SHA, headRef: 'feature/art' },
      { repo: 'someone/else', number: 1, state: 'open', headSha: SHA, headRef: 'x' }
    );
    expect(await commentTarget('always', context, lazy(context).get)).toEqual({ number: 9 });
    expect(github.requests.map(r => `${r.method} ${r.path}`)).toEqual([`GET /repos/octo/repo/commits/${SHA}/pulls`]);
  });

  it('always on push: not a pull request that merely contains the commit (a stacked branch is another PR)', async () => {
    const context = contextFor(github.url);
    state.pulls.push({ repo: REPO, number: 4, state: 'open', headSha: 'ffff', headRef: 'other', commits: [SHA] });
    expect(await commentTarget('always', context, lazy(context).get)).toEqual({ skip: `no open pull request has the commit ${SHA.slice(0, 7)}` });
  });

  it('always on push without an open pull request: a skip that names the commit', async () => {
    const context = contextFor(github.url);
    state.pulls.push({ repo: REPO, number: 3, state: 'closed', headSha: SHA, headRef: 'old' });
    expect(await commentTarget('always', context, lazy(context).get)).toEqual({ skip: `no open pull request has the commit ${SHA.slice(0, 7)}` });
  });

  it('always on push, look-up refused: a skip with the reason, no throw', async () => {
    const context = contextFor(github.url);
    github.failNext('GET', /\/commits\/[^/]+\/pulls$/, { status: 403, body: { message: 'Resource not accessible by integration' } });
    const target = await commentTarget('always', context, lazy(context).get);
    expect(target).toEqual({ skip: expect.stringContaining('HTTP 403: Resource not accessible by integration'), failed: true });
  });
});

describe('commentMarker', () => {
  it('is a hidden HTML comment with the tag', () => {
    expect(commentMarker('image-edit-preview')).toBe('<!-- image-edit-preview:image-edit-preview -->');
    expect(commentMarker('icons.dark_2')).toBe('<!-- image-edit-preview:icons.dark_2 -->');
  });

  it('never lets a tag close the comment or inject HTML', () => {
    const marker = commentMarker('x --> <b>hi</b> --!>');
    expect(marker.startsWith('<!-- ')).toBe(true);
    expect(marker.endsWith(' -->')).toBe(true);
    expect(marker.slice(5, -4)).not.toMatch(/[<>!\s]/);
    expect(marker.match(/-->/g)).toHaveLength(1);
    // Distinct tags stay distinct.
    expect(commentMarker('a b')).not.toBe(commentMarker('a_b'));
  });
});

describe('renderComment', () => {
  const context = contextFor('https://api.github.com', {});
  const ctx = { ...context, serverUrl: 'https://github.com', owner: 'OWNER', repo: 'REPO' };
  const at = (sha: string) => ({ repo: 'OWNER/REPO', sha });

  it('starts with the marker; the heading has the counts and the model; the commit is named', () => {
    const results: FileResult[] = [
      edited('art/a.png'),
      edited('art/b.png'),
      { source: 'art/c.png', status: 'skipped', outputs: ['art/c.edited.png'], reason: 'unchanged since the last edit', durationMs: 0, attempts: 0 },
      { source: 'art/d.png', status: 'failed', outputs: [], error: 'HTTP 400: bad mask', durationMs: 10, attempts: 1 },
      { source: 'art/e.png', status: 'queued', outputs: [], taskIds: ['task-1'], durationMs: 10, attempts: 1 }
    ];
    const text = renderComment({ result: resultOf(results, 'gpt-image-2'), tag: 'icons', context: ctx, commitSha: 'abcdef1234567890' });

    expect(text.startsWith('<!-- image-edit-preview:icons -->\n')).toBe(true);
    const heading = text.split('\n')[1];
    expect(heading).toMatch(/^#+ /);
    expect(heading).toContain('2 edited, 1 skipped, 1 failed, 1 queued');
    expect(heading).toContain('gpt-image-2');
    expect(text).toContain('<a href="https://github.com/OWNER/REPO/commit/abcdef1234567890"><code>abcdef1</code></a>');
    expect(text).toContain('unchanged since the last edit');
    expect(text).toContain('HTTP 400: bad mask');
    expect(text).toContain('task task-1');
    expect(text).not.toContain('No previews here');
  });

  it('links before/after previews exactly as the contract says, path segments encoded', () => {
    const source = 'art/my icons/logo #1.png';
    const results = [edited(source, ['art/my icons/logo #1.edited.png', 'art/my icons/logo #1.edited-2.png'])];
    const text = renderComment({ result: resultOf(results), tag: 't', context: ctx, previews: { sourcesAt: at('SRCSHA'), outputsAt: at('OUTSHA') } });

    const before = 'https://github.com/OWNER/REPO/blob/SRCSHA/art/my%20icons/logo%20%231.png?raw=true';
    const after1 = 'https://github.com/OWNER/REPO/blob/OUTSHA/art/my%20icons/logo%20%231.edited.png?raw=true';
    const after2 = 'https://github.com/OWNER/REPO/blob/OUTSHA/art/my%20icons/logo%20%231.edited-2.png?raw=true';
    expect(text).toContain(`<img src="${before}"`);
    expect(text).toContain(`<img src="${after1}"`);
    expect(text).toContain(`<img src="${after2}"`);
    expect(text).toContain(`<a href="${before}">`);
    expect(text.match(/<img [^>]*width="200"/g)).toHaveLength(3);
    expect(text).toContain('<th>Before</th><th>After</th>');
  });

  it('links previews on a preview branch under its folder', () => {
    const text = renderComment({
      result: resultOf([edited('art/a.png')]),
      tag: 't',
      context: ctx,
      previews: { sourcesAt: { repo: 'forker/REPO', sha: 'HEAD' }, outputsAt: { repo: 'OWNER/REPO', sha: 'BRANCHSHA', pathPrefix: 'pr-7' } }
    });
    expect(text).toContain('src="https://github.com/forker/REPO/blob/HEAD/art/a.png?raw=true"');
    expect(text).toContain('src="https://github.com/OWNER/REPO/blob/BRANCHSHA/pr-7/art/a.edited.png?raw=true"');
  });

  it('without previews: lists the outputs and links the artifact', () => {
    const input: CommentInput = { result: resultOf([edited('art/a.png')]), tag: 't', context: ctx, artifactUrl: 'https://github.com/OWNER/REPO/actions/runs/4242/artifacts/987' };
    const text = renderComment(input);
    expect(text).not.toContain('<img');
    expect(text).toContain('<code>art/a.edited.png</code>');
    expect(text).toContain('<a href="https://github.com/OWNER/REPO/actions/runs/4242/artifacts/987">download the artifact to see them</a>');
    expect(text).toContain('<th>Outputs</th>');
  });

  it('keeps API text from mentioning anyone: a zero-width space follows each @ in the notes', () => {
    const results: FileResult[] = [{ ...edited('art/r.png'), revisedPrompt: 'Ask @octo-org/admins and @someone' }];
    const text = renderComment({ result: resultOf(results), tag: 't', context: ctx });
    expect(text).not.toMatch(/@[A-Za-z]/);
    expect(text).toContain('@\u200bocto-org/admins and @\u200bsomeone');
  });

  it('escapes hostile file names, errors and revised prompts: no broken table, no closed marker, no HTML', () => {
    const hostile = 'art/a|b<script>--x.png';
    const results: FileResult[] = [
      edited(hostile, ['art/a|b<script>--x.edited.png']),
      { source: 'art/e.png', status: 'failed', outputs: [], error: 'HTTP 400: --> <img src=x onerror=alert(1)> | `x`\nnext | row', durationMs: 1, attempts: 1 },
      { ...edited('art/r.png'), revisedPrompt: 'A cat --> <!-- image-edit-preview:t --> <b>bold</b>\r\n| --- |' },
      { source: 'art/s.png', status: 'skipped', outputs: [], reason: 'reason </td></tr></table> -->', durationMs: 0, attempts: 0 }
    ];
    for (const previews of [undefined, { sourcesAt: at('S'), outputsAt: at('O') }]) {
      const text = renderComment({ result: resultOf(results), tag: 't', context: ctx, previews, artifactUrl: 'https://example.test/a' });

      expect(text.match(/<!--/g)).toHaveLength(1);
      expect(text.match(/-->/g)).toHaveLength(1);
      expect(text.indexOf(commentMarker('t'))).toBe(0);
      expect(text.split(commentMarker('t'))).toHaveLength(2);
      expect(text.toLowerCase()).not.toContain('<script');
      expect(text).not.toContain('<b>');
      expect(text).not.toContain('onerror=alert(1)>');
      expect(text).not.toMatch(/<img src="x/);
      expect(text).not.toContain('</td></tr></table> ');
      expect(text).not.toContain('`x`');
      expect(text).not.toContain('\r');

      const lines = text.split('\n');
      const rows = lines.slice(lines.indexOf('<table>') + 1, lines.indexOf('</table>'));
      expect(rows).toHaveLength(1 + results.length);
      const columns = previews ? 5 : 4;
      for (const row of rows) {
        expect(row).toMatch(/^<tr>.*<\/tr>$/);
        expect(row.match(/<t[dh]>/g)).toHaveLength(columns);
        expect(row.match(/<\/t[dh]>/g)).toHaveLength(columns);
        expect(row).not.toContain('|');
      }
      expect(rows[1]).toContain('a&#124;b&lt;script&gt;&#45;&#45;x.png');
      if (previews) {
        // In a URL the name is percent-encoded, and the alt text is escaped.
        expect(rows[1]).toContain('src="https://github.com/OWNER/REPO/blob/S/art/a%7Cb%3Cscript%3E--x.png?raw=true"');
        expect(rows[1]).toContain('alt="before: art/a&#124;b&lt;script&gt;&#45;&#45;x.png"');
      }
    }
  });

  it('stays under 65,536 characters with 3,000 files and says how many were left out', () => {
    const results: FileResult[] = Array.from({ length: 3000 }, (_, i) =>
      i % 3
        ? edited(`art/icons/set-${i % 17}/icon number ${i}.png`, [`art/icons/set-${i % 17}/icon number ${i}.edited-1.png`, `art/icons/set-${i % 17}/icon number ${i}.edited-2.png`])
        : { source: `art/icons/bad-${i}.png`, status: 'failed', outputs: [], error: `HTTP 500: ${'<oops> '.repeat(200)}`, durationMs: 1, attempts: 4 }
    );
    for (const previews of [undefined, { sourcesAt: at('S'), outputsAt: at('O') }]) {
      const text = renderComment({ result: resultOf(results), tag: 't', context: ctx, previews, artifactUrl: 'https://example.test/a' });
      expect(text.length).toBeLessThan(65536);
      const lines = text.split('\n');
      const rows = lines.slice(lines.indexOf('<table>') + 2, lines.indexOf('</table>'));
      expect(rows.length).toBeGreaterThan(10);
      const more = /… and (\d+) more files \(see the job summary\)/.exec(text);
      expect(more).not.toBeNull();
      expect(rows.length + Number(more?.[1])).toBe(3000);
      expect(lines.indexOf('</table>')).toBeGreaterThan(0);
    }
  });

  it('says nothing of more files when all fit', () => {
    const text = renderComment({ result: resultOf([edited('art/a.png')]), tag: 't', context: ctx });
    expect(text).not.toContain('more file');
  });
});
