/**
 * The file list behind `only-changed`: the paths a pull request adds or
 * modifies, or the paths a push changed, as GitHub's REST API lists them.
 * Renames count as their new path; removed files are left out. Paths are
 * repository-relative POSIX paths exactly as GitHub gives them (in a normal
 * checkout the workspace is the repository root, so they are workspace paths).
 *
 * Nothing here throws: when the list cannot be had (another event, a new
 * branch, an API error), the answer says why in `unavailable`, and the caller
 * takes every matched file and warns.
 */
import { createGitHubClient, describeApiError, isPermissionError, readEventPayload, type GitHubClient, type GitHubContext } from './github.js';
import type { Log } from './log.js';

/** The file list: the paths, and a sentence that says where it comes from (and whether GitHub cut it short). */
export interface ChangedFiles {
  files: Set<string>;
  /** E.g. `pull request #7 adds or modifies 12 files (15 listed)`; names GitHub's cap when it was reached. */
  description: string;
  /** True when GitHub's list reached its cap (3000 files for a pull request, 300 for a comparison): files beyond are unknown. */
  truncated: boolean;
}

/** Why there is no file list (a sentence for a warning). */
export interface ChangedFilesUnavailable {
  unavailable: string;
}

/** The most files GitHub lists for a pull request (`GET /repos/{o}/{r}/pulls/{n}/files`). */
export const PULL_FILES_LIMIT = 3000;
/** The most files GitHub lists for a comparison (`GET /repos/{o}/{r}/compare/{basehead}`). */
export const COMPARE_FILES_LIMIT = 300;

/** GitHub's file statuses that leave a file at `filename` with new content (`removed` and `unchanged` do not). */
const KEPT_STATUSES = new Set(['added', 'modified', 'renamed', 'copied', 'changed']);

const ZERO_SHA = /^0+$/;

interface DiffEntry {
  filename: string;
  status: string;
}

/**
 * The files the run's pull request adds or modifies (events with a pull request:
 * `pull_request`, `pull_request_target`), or the files a `push` changed
 * (`event.before...event.after`; see {@link pushRange}). `client` is called only
 * when a request is needed, so other events load no Octokit and send nothing.
 * Never throws: any failure is an `unavailable` answer that says why.
 */
export async function changedFiles(
  context: GitHubContext,
  event: { before?: string; after?: string },
  client: () => Promise<GitHubClient>
): Promise<ChangedFiles | ChangedFilesUnavailable> {
  if (context.pullRequest) return pullRequestFiles(context, context.pullRequest.number, client);
  if (context.eventName === 'push') return pushFiles(context, event, client);
  const name = context.eventName || 'a run without an event name (GITHUB_EVENT_NAME is empty)';
  return { unavailable: `only-changed applies to pull_request and push events, not ${name}` };
}

/**
 * The sources `only-changed` allows, for the pipeline: the files the run's pull request or push
 * changed. When that cannot be known (another event, a new branch, an API error) a warning says
 * why and undefined is returned: every matched file is then a source (the manifest still skips
 * the ones edited before).
 */
export async function onlyChangedSources(token: string, context: GitHubContext, env: NodeJS.ProcessEnv, log: Log): Promise<Set<string> | undefined> {
  const found = await changedFiles(context, pushRange(readEventPayload(env)), () => createGitHubClient(token, context));
  if ('unavailable' in found) {
    log.warning(`only-changed: ${found.unavailable}; every matched image is a source`);
    return undefined;
  }
  if (found.truncated) log.warning(`only-changed: ${found.description}`);
  else log.info(`only-changed: ${found.description}`);
  return found.files;
}

/**
 * The `before` and `after` commits of a `push` event payload (the JSON at
 * GITHUB_EVENT_PATH); a field that is missing or not a non-empty string is left out.
 */
export function pushRange(eventPayload: unknown): { before?: string; after?: string } {
  const payload = eventPayload && typeof eventPayload === 'object' ? (eventPayload as Record<string, unknown>) : {};
  const range: { before?: string; after?: string } = {};
  if (typeof payload.before === 'string' && payload.before.trim()) range.before = payload.before.trim();
  if (typeof payload.after === 'string' && payload.after.trim()) range.after = payload.after.trim();
  return range;
}

async function pullRequestFiles(
  context: GitHubContext,
  number: number,
  client: () => Promise<GitHubClient>
): Promise<ChangedFiles | ChangedFilesUnavailable> {
  let listed: DiffEntry[];
  try {
    const octokit = await client();
    listed = await octokit.paginate(octokit.rest.pulls.listFiles, {
      owner: context.owner,
      repo: context.repo,
      pull_number: number,
      per_page: 100
    });
  } catch (error) {
    const hint = isPermissionError(error) ? ' (the token needs `pull-requests: read`)' : '';
    return { unavailable: `could not list the files of pull request #${number} in ${context.owner}/${context.repo}: ${describeApiError(error)}${hint}` };
  }
  const files = keptPaths(listed);
  const truncated = listed.length >= PULL_FILES_LIMIT;
  let description = `pull request #${number} adds or modifies ${count(files.size)} (${listed.length} listed)`;
  if (truncated) {
    description +=
      `; GitHub lists at most ${PULL_FILES_LIMIT} files of a pull request and this one reaches that limit, ` +
      `so files beyond the first ${PULL_FILES_LIMIT} are unknown`;
  }
  return { files, description, truncated };
}

async function pushFiles(
  context: GitHubContext,
  event: { before?: string; after?: string },
  client: () => Promise<GitHubClient>
): Promise<ChangedFiles | ChangedFilesUnavailable> {
  const before = event.before?.trim();
  const after = event.after?.trim() || context.sha;
  if (!before) return { unavailable: 'the push event names no `before` commit, so the files it changed are unknown' };
  if (ZERO_SHA.test(before)) {
    return { unavailable: 'the push created the branch (its `before` commit is all zeros), so there is no earlier commit to compare with' };
  }
  if (!after) return { unavailable: 'the push event names no `after` commit (and GITHUB_SHA is empty), so the files it changed are unknown' };
  if (ZERO_SHA.test(after)) return { unavailable: 'the push deleted the branch (its `after` commit is all zeros)' };

  const basehead = `${before}...${after}`;
  const listed: DiffEntry[] = [];
  try {
    const octokit = await client();
    const pages = octokit.paginate.iterator(octokit.rest.repos.compareCommitsWithBasehead, {
      owner: context.owner,
      repo: context.repo,
      basehead,
      per_page: 100
    });
    // `page`/`per_page` page the comparison's commits; GitHub documents that the files come with
    // the first page only. Collect the files of every page and stop at the first page without any,
    // which keeps a long push to one or two requests and still reads files spread over pages.
    for await (const response of pages) {
      const files = (response.data as { files?: DiffEntry[] }).files ?? [];
      if (files.length === 0) break;
      listed.push(...files);
    }
  } catch (error) {
    const hint = isPermissionError(error) ? ' (the token needs `contents: read`; a force push may have left `before` unknown to GitHub)' : '';
    return { unavailable: `could not compare ${short(before)}...${short(after)} in ${context.owner}/${context.repo}: ${describeApiError(error)}${hint}` };
  }
  const files = keptPaths(listed);
  const truncated = listed.length >= COMPARE_FILES_LIMIT;
  let description = `the push ${short(before)}...${short(after)} adds or modifies ${count(files.size)} (${listed.length} listed)`;
  if (truncated) {
    description +=
      `; GitHub lists at most ${COMPARE_FILES_LIMIT} files of a comparison and this one reaches that limit, ` +
      'so files beyond those listed are unknown';
  }
  return { files, description, truncated };
}

/** The new paths of the entries that leave content behind (renames by their new `filename`). */
function keptPaths(entries: DiffEntry[]): Set<string> {
  const files = new Set<string>();
  for (const entry of entries) {
    if (typeof entry?.filename === 'string' && KEPT_STATUSES.has(entry.status)) files.add(entry.filename);
  }
  return files;
}

function count(n: number): string {
  return n === 1 ? '1 file' : `${n} files`;
}

function short(sha: string): string {
  return /^[0-9a-f]{40,64}$/i.test(sha) ? sha.slice(0, 7) : sha;
}
