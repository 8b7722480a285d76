/**
 * What the action knows of GitHub: the run's context (repository, event, pull
 * request), read from the runner's environment and event file, and a REST
 * client (@actions/github's Octokit), imported on demand so that runs that
 * neither look up changed files, comment nor commit do not load it.
 */
import * as fs from 'node:fs';
import type { getOctokit } from '@actions/github';

/** The pull request a run is about (`pull_request` and `pull_request_target` events). */
export interface PullRequestInfo {
  number: number;
  /** The head branch's name, e.g. `feature/art`. */
  headRef: string;
  headSha: string;
  /** `owner/name` of the head repository; empty when the fork was deleted. */
  headRepo: string;
  /** `owner/name` of the base repository. */
  baseRepo: string;
  /** True when the head is in another repository (a fork): the token is read-only and secrets are absent. */
  fork: boolean;
}

export interface GitHubContext {
  /** REST API base, without a trailing slash (GITHUB_API_URL; GitHub Enterprise and stand-ins set it). */
  apiUrl: string;
  /** Web base, without a trailing slash (GITHUB_SERVER_URL). */
  serverUrl: string;
  owner: string;
  repo: string;
  eventName: string;
  /** The branch the run is on (`refs/heads/x` → `x`); undefined on a tag or a pull request's merge ref. */
  branch?: string;
  /** The commit the run is on (GITHUB_SHA). */
  sha: string;
  runId: string;
  pullRequest?: PullRequestInfo;
}

/** A REST client: @actions/github's Octokit. */
export type GitHubClient = ReturnType<typeof getOctokit>;

/**
 * Reads the context from the runner's variables and the event payload at
 * GITHUB_EVENT_PATH (a missing or unreadable payload counts as empty).
 */
export function readGitHubContext(env: NodeJS.ProcessEnv = process.env): GitHubContext {
  const [owner = '', repo = ''] = (env.GITHUB_REPOSITORY ?? '').split('/');
  const event = readEvent(env.GITHUB_EVENT_PATH);
  const ref = env.GITHUB_REF ?? '';
  const context: GitHubContext = {
    apiUrl: trimSlash(env.GITHUB_API_URL || 'https://api.github.com'),
    serverUrl: trimSlash(env.GITHUB_SERVER_URL || 'https://github.com'),
    owner,
    repo,
    eventName: env.GITHUB_EVENT_NAME ?? '',
    branch: ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined,
    sha: env.GITHUB_SHA ?? '',
    runId: env.GITHUB_RUN_ID ?? ''
  };
  const pr = event.pull_request as Record<string, any> | undefined;
  if (pr && typeof pr.number === 'number') {
    const headRepo = typeof pr.head?.repo?.full_name === 'string' ? pr.head.repo.full_name : '';
    const baseRepo = typeof pr.base?.repo?.full_name === 'string' ? pr.base.repo.full_name : `${owner}/${repo}`;
    context.pullRequest = {
      number: pr.number,
      headRef: String(pr.head?.ref ?? ''),
      headSha: String(pr.head?.sha ?? ''),
      headRepo,
      baseRepo,
      fork: headRepo.toLowerCase() !== baseRepo.toLowerCase()
    };
  }
  return context;
}

/** An Octokit for `token` against `context.apiUrl`; @actions/github is imported here, on first use. */
export async function createGitHubClient(token: string, context: GitHubContext): Promise<GitHubClient> {
  const { getOctokit } = await import('@actions/github');
  return getOctokit(token, { baseUrl: context.apiUrl });
}

/**
 * True when GitHub refused for lack of permission: 403, or 404 "Not Found" on a
 * write (GitHub hides what a token may not see), as for a fork's read-only token
 * or a workflow without `contents: write` / `pull-requests: write`.
 */
export function isPermissionError(error: unknown): boolean {
  const status = (error as { status?: unknown } | undefined)?.status;
  return status === 403 || status === 404;
}

/** A short text for a failed API call: status and GitHub's message. */
export function describeApiError(error: unknown): string {
  const e = error as { status?: unknown; message?: unknown; response?: { data?: { message?: unknown } } } | undefined;
  const message = typeof e?.response?.data?.message === 'string' ? e.response.data.message : typeof e?.message === 'string' ? e.message : String(error);
  return typeof e?.status === 'number' ? `HTTP ${e.status}: ${message}` : message;
}

/** The event payload at GITHUB_EVENT_PATH; empty when missing or unreadable. */
export function readEventPayload(env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  return readEvent(env.GITHUB_EVENT_PATH);
}

function readEvent(file: string | undefined): Record<string, unknown> {
  if (!file) return {};
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
