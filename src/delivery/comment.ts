/**
 * The one sticky pull-request comment: which pull request it goes to, its
 * body (counts, model, a table of every source file with before/after
 * previews or the output paths and the artifact link), and posting it —
 * found by its hidden marker and updated in place, so a rerun never adds a
 * second one. GitHub refusing (a fork's read-only token, missing
 * permissions) is a warning, never a crash.
 */
import type { Log } from '../log.js';
import type { FileResult, PipelineResult } from '../pipeline.js';
import type { CommentMode } from '../settings.js';
import { escapeCell, escapeHtml } from './escape.js';
import { counts, STATUS_ICON } from './outputs.js';
import { describeApiError, isPermissionError, type GitHubClient, type GitHubContext } from '../github.js';


/** Where a file can be shown from: a repository (`owner/name`) at a commit. */
export interface PreviewLocation {
  repo: string;
  sha: string;
  /**
   * A folder the files sit under at that commit, e.g. `pr-7` on a preview
   * branch (`pr-<number>/<workspace path>`); none when they are at their
   * workspace path.
   */
  pathPrefix?: string;
}

export interface CommentInput {
  result: PipelineResult;
  /** The `comment-tag` input. */
  tag: string;
  context: GitHubContext;
  /** Where the sources and the outputs can be linked; absent when the outputs were neither committed nor pushed. */
  previews?: { sourcesAt: PreviewLocation; outputsAt: PreviewLocation };
  /** The uploaded artifact's URL, linked when there are no previews. */
  artifactUrl?: string;
  /** The commit that holds the outputs, when they were committed. */
  commitSha?: string;
}

/** GitHub refuses comment bodies above this many characters. */
export const GITHUB_COMMENT_LIMIT = 65536;
/** The table stops growing at about this many characters (the rest of the body stays well under the limit). */
const TABLE_BUDGET = 60000;
/** API text (errors, revised prompts, reasons) is cut to this many characters before escaping. */
const NOTE_LIMIT = 600;
/** Width of the preview images, in pixels. */
const PREVIEW_WIDTH = 200;


/**
 * The hidden marker that identifies this action's comment for `tag`:
 * `<!-- image-edit-preview:TAG -->`. Characters outside `[A-Za-z0-9._-]`
 * (which the input check already rejects) are written as `%XX`, so a tag can
 * never close the HTML comment or inject anything.
 */
export function commentMarker(tag: string): string {
  const safe = Array.from(tag, ch =>
    /^[A-Za-z0-9._-]$/.test(ch)
      ? ch
      : Array.from(Buffer.from(ch, 'utf8'), byte => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('')
  ).join('');
  return `<!-- image-edit-preview:${safe} -->`;
}

/**
 * Which pull request gets the comment. `never`: none. `auto`: the event's pull
 * request, or a skip on other events. `always`: the event's pull request, else
 * the open pull request whose head is the run's commit
 * (`GET /repos/{owner}/{repo}/commits/{sha}/pulls`), else a skip with the
 * reason. `client` is only called for that look-up, so the other cases never
 * load Octokit. Never throws: a failed look-up is a skip (`failed: true`) that says why.
 */
export async function commentTarget(
  mode: CommentMode,
  context: GitHubContext,
  client: () => Promise<GitHubClient>
): Promise<{ number: number } | { skip: string; failed?: boolean }> {
  if (mode === 'never') return { skip: 'comment is "never"' };
  if (context.pullRequest) return { number: context.pullRequest.number };
  if (mode === 'auto') return { skip: `not a pull request event (event: ${context.eventName || 'unknown'})` };
  if (!context.sha) return { skip: 'no commit (GITHUB_SHA) to find a pull request for' };
  try {
    const github = await client();
    const { data } = await github.rest.repos.listPullRequestsAssociatedWithCommit({
      owner: context.owner,
      repo: context.repo,
      commit_sha: context.sha
    });
    // Only a pull request whose head IS the commit: one that merely contains it (a stacked branch) is another's.
    const pr = data.find(p => p.state === 'open' && p.head?.sha === context.sha);
    if (pr) return { number: pr.number };
    return { skip: `no open pull request has the commit ${context.sha.slice(0, 7)}` };
  } catch (error) {
    return { skip: `could not look up the pull request of the commit ${context.sha.slice(0, 7)} (${describeApiError(error)})`, failed: true };
  }
}

/**
 * A link to a file at a commit, as GitHub serves it raw:
 * `${serverUrl}/OWNER/REPO/blob/SHA/PATH?raw=true`, each path segment
 * percent-encoded (`/` kept).
 */
export function previewUrl(serverUrl: string, at: PreviewLocation, filePath: string): string {
  const prefix = (at.pathPrefix ?? '').replace(/^\/+|\/+$/g, '');
  const full = prefix ? `${prefix}/${filePath}` : filePath;
  return `${serverUrl}/${encodePath(at.repo)}/blob/${encodeURIComponent(at.sha)}/${encodePath(full)}?raw=true`;
}

/**
 * The comment's body (HTML-in-Markdown), starting with the marker: a heading
 * with the counts and the model, then a table with a row per source file —
 * before/after images when `previews` is given, else the output paths and a
 * link to the artifact. Every file name and API text is escaped. The body
 * stays under GitHub's 65,536-character limit: past about 60,000 characters of
 * table, the remaining files are counted, not listed.
 */
export function renderComment(input: CommentInput): string {
  const { result, context, previews, artifactUrl, commitSha } = input;
  const tally = counts(result);
  const model = clip(String(result.settings.params?.model ?? ''), 200);

  const head: string[] = [commentMarker(input.tag)];
  head.push(
    `### Image edits${result.settings.dryRun ? ' (dry run)' : ''}: ${tally.edited} edited, ${tally.skipped} skipped, ${tally.failed} failed, ${tally.queued} queued with <code>${escapeCell(model)}</code>`
  );
  head.push('');
  const notes: string[] = [];
  if (commitSha) {
    const url = `${context.serverUrl}/${encodePath(`${context.owner}/${context.repo}`)}/commit/${encodeURIComponent(commitSha)}`;
    notes.push(`The outputs were committed in <a href="${escapeHtml(url)}"><code>${escapeCell(commitSha.slice(0, 7))}</code></a>.`);
  }
  if (!previews) {
    if (artifactUrl) {
      notes.push(`No previews here: <a href="${escapeHtml(artifactUrl)}">download the artifact to see them</a>.`);
    } else if (result.outputFiles.length && !commitSha) {
      notes.push('No previews here: the outputs were neither committed nor uploaded; see the job summary.');
    }
  }
  if (result.cancelled) notes.push('**Cancelled**: the run was stopped before every file finished.');
  if (notes.length) head.push(notes.join(' '), '');

  const tail: string[] = [];
  if (context.runId) {
    const runUrl = `${context.serverUrl}/${encodePath(`${context.owner}/${context.repo}`)}/actions/runs/${encodeURIComponent(context.runId)}`;
    tail.push(`<sub>From <a href="${escapeHtml(runUrl)}">workflow run ${escapeCell(context.runId)}</a>.</sub>`);
  }

  if (!result.results.length) return [...head, 'No source files.', ...(tail.length ? ['', ...tail] : [])].join('\n') + '\n';

  const header = previews
    ? '<tr><th>Source</th><th>Status</th><th>Before</th><th>After</th><th>Notes</th></tr>'
    : '<tr><th>Source</th><th>Status</th><th>Outputs</th><th>Notes</th></tr>';
  const rows: string[] = [];
  // The budget leaves room for the rest of the body, however long the marker or heading.
  const fixed = head.join('\n').length + tail.join('\n').length + 200;
  const budget = Math.min(TABLE_BUDGET, GITHUB_COMMENT_LIMIT - 1000 - fixed);
  let used = header.length + '<table>\n</table>\n'.length;
  for (const r of result.results) {
    const row = renderRow(r, context, previews);
    if (used + row.length + 1 > budget) break;
    rows.push(row);
    used += row.length + 1;
  }

  const body = [...head, '<table>', header, ...rows, '</table>'];
  const more = result.results.length - rows.length;
  if (more > 0) body.push('', `… and ${more} more file${more === 1 ? '' : 's'} (see the job summary)`);
  if (tail.length) body.push('', ...tail);
  return body.join('\n') + '\n';
}

/**
 * Posts `body` as the sticky comment for `tag` on issue/pull request
 * `issueNumber`: the comment whose body STARTS with the tag's marker (as every
 * comment this action writes does; a bot's is preferred when several do) is
 * updated in place, else one is created. A comment that only quotes or mentions
 * the marker is someone else's and is never touched. `create: false` or
 * `update: false` leave that case alone (no comment is made, or the existing one
 * is kept as it is). Returns its URL and id, or undefined when there is none or
 * GitHub refused or failed — then a warning says why (plainly for a fork's
 * read-only token). Never throws.
 */
export async function upsertComment(
  client: GitHubClient,
  context: GitHubContext,
  issueNumber: number,
  tag: string,
  body: string,
  log: Log,
  options: { create?: boolean; update?: boolean } = {}
): Promise<{ url: string; id: number; created: boolean } | undefined> {
  const marker = commentMarker(tag);
  const text = body.includes(marker) ? body : `${marker}\n${body}`;
  const { owner, repo } = context;
  try {
    const comments = await client.paginate(client.rest.issues.listComments, { owner, repo, issue_number: issueNumber, per_page: 100 });
    const marked = comments.filter(c => typeof c.body === 'string' && c.body.trimStart().startsWith(marker));
    const existing = marked.find(c => c.user?.type === 'Bot') ?? marked[0];
    if (existing && options.update === false) {
      log.info(`Kept the preview comment on pull request #${issueNumber} as it is: ${existing.html_url}`);
      return { url: existing.html_url, id: existing.id, created: false };
    }
    if (!existing && options.create === false) {
      log.info(`No preview comment on pull request #${issueNumber}: nothing to show`);
      return undefined;
    }
    if (existing) {
      const { data } = await client.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body: text });
      log.info(`Updated the preview comment on pull request #${issueNumber}: ${data.html_url}`);
      return { url: data.html_url, id: data.id, created: false };
    }
    const { data } = await client.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body: text });
    log.info(`Posted the preview comment on pull request #${issueNumber}: ${data.html_url}`);
    return { url: data.html_url, id: data.id, created: true };
  } catch (error) {
    const still = 'The job summary and the artifact still carry the results.';
    if (isPermissionError(error)) {
      const pr = context.pullRequest;
      const why =
        pr?.fork
          ? `This is a pull request from a fork${pr.headRepo ? ` (${pr.headRepo})` : ''}: on a pull request from a fork the token is read-only, so no comment is posted.`
          : 'The token may not comment here: give the workflow `permissions: pull-requests: write` (or pass a `github-token` that may comment).';
      log.warning(`GitHub refused to comment on pull request #${issueNumber} (${describeApiError(error)}). ${why} ${still}`);
    } else {
      log.warning(`Could not post the preview comment on pull request #${issueNumber} (${describeApiError(error)}). ${still}`);
    }
    return undefined;
  }
}

/** One table row, on one line. */
function renderRow(r: FileResult, context: GitHubContext, previews: CommentInput['previews']): string {
  const cells = [`<code>${escapeCell(r.source)}</code>`, `${STATUS_ICON[r.status]} ${r.status}`];
  if (previews) {
    cells.push(image(previewUrl(context.serverUrl, previews.sourcesAt, r.source), `before: ${r.source}`));
    cells.push(
      r.status === 'edited'
        ? r.outputs.map(output => image(previewUrl(context.serverUrl, previews.outputsAt, output), `after: ${output}`)).join(' ')
        : outputList(r.outputs)
    );
  } else {
    cells.push(outputList(r.outputs));
  }
  // A zero-width space after each @ keeps API text and file names from mentioning (and notifying) anyone.
  cells.push(escapeCell(clip(note(r), NOTE_LIMIT)).replace(/@/g, '@\u200b'));
  return `<tr>${cells.map(cell => `<td>${cell}</td>`).join('')}</tr>`;
}

/** What the notes column says: the error, the skip reason, the task ids or the revised prompt. */
function note(r: FileResult): string {
  if (r.status === 'failed') return r.error ?? 'failed';
  if (r.status === 'skipped') return r.reason ?? '';
  if (r.status === 'queued') return r.taskIds?.length ? `task ${r.taskIds.join(', ')}` : '';
  return r.revisedPrompt ? `Revised prompt: ${r.revisedPrompt}` : '';
}

function image(url: string, alt: string): string {
  const href = escapeHtml(url);
  return `<a href="${href}"><img src="${href}" alt="${escapeCell(alt)}" width="${PREVIEW_WIDTH}"></a>`;
}

function outputList(outputs: string[]): string {
  return outputs.map(output => `<code>${escapeCell(output)}</code>`).join('<br>');
}

/** Percent-encodes each segment of a `/`-separated path. */
function encodePath(filePath: string): string {
  return filePath.split('/').map(encodeURIComponent).join('/');
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
