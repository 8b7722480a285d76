/**
 * The `commit` and `preview-branch` deliveries: the output files (and the
 * manifest) committed to a branch, either as ONE commit through the Git Data
 * API (no checkout needed; GitHub signs it) or with the git CLI in the
 * workspace. Every failure is a warning naming what was refused and why, never
 * a throw: the artifact and the job summary still carry the results.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type { Log } from '../log.js';
import { describeApiError, isPermissionError, type GitHubClient, type GitHubContext } from '../github.js';

/** A file to commit through the API. */
export interface CommitFile {
  /** Its path in the repository (POSIX, relative, e.g. `art/logo.edited.png`). */
  path: string;
  /** The file to read. */
  absolute: string;
}

/** A commit made (or found unnecessary): the branch's head afterwards, and whether a new commit was made. */
export interface CommitResult {
  sha: string;
  created: boolean;
}

/** What `git` answered: exit code and its output. */
export interface GitRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `git` with these arguments (not including `git` itself). */
export type GitRunner = (args: string[]) => Promise<GitRun>;

/** GitHub refuses blobs over 100 MB. */
export const MAX_COMMIT_FILE_BYTES = 100 * 1024 * 1024;

/** How many times a commit is rebuilt on a branch that moved (API) or a push retried after a rebase (git). */
const MAX_RETRIES = 3;

/** Blobs uploaded at once. */
const BLOB_CONCURRENCY = 4;

const BOT_NAME = 'github-actions[bot]';
const BOT_EMAIL = '41898282+github-actions[bot]@users.noreply.github.com';

/**
 * The commit message from the `commit-message` template: `{count}` is the
 * number of output images, `{model}` the model. Other text is kept as is.
 */
export function commitMessage(template: string, values: { count: number; model: string }): string {
  return template.replace(/\{(count|model)\}/g, (_whole, name: string) => (name === 'count' ? String(values.count) : values.model));
}

/**
 * Where an output goes on the preview branch: `pr-<number>/<workspace path>`,
 * e.g. `previewPath(7, 'art/a.edited.png')` → `pr-7/art/a.edited.png`.
 */
export function previewPath(prNumber: number, outputPath: string): string {
  const clean = outputPath.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/^\/+/, '');
  return `pr-${prNumber}/${clean}`;
}

/**
 * Removes credentials from text that is about to be logged: `https://user:token@host`
 * becomes `https://***@host`, and GitHub tokens (`ghs_…`, `ghp_…`, `github_pat_…`) become `***`.
 */
export function redactCredentials(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1***@')
    .replace(/\b(?:gh[opsur]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,})\b/g, '***')
    .replace(/(authorization:\s*(?:basic|bearer|token)\s+)\S+/gi, '$1***');
}

/**
 * Commits `files` to `branch` as ONE commit through the Git Data API (GitHub
 * signs it; no checkout needed): a blob per file, a tree on top of the branch's
 * tree, a commit whose parent is the branch's head, and a fast-forward update of
 * the ref. When the branch moved meanwhile (422), the commit is rebuilt on the
 * new head, up to 3 times. When the new tree equals the head's, no commit is made
 * (`created: false`). A missing branch is created with a root commit holding only
 * these files when `createBranch` is true, else it is a warning.
 *
 * Resolves to the branch's head afterwards, or undefined on any failure (a
 * warning says what was refused and why; a fork's read-only token is named).
 * `maxFileBytes` (default 100 MB, GitHub's limit) exists for tests.
 */
export async function commitWithApi(
  client: GitHubClient,
  context: GitHubContext,
  options: {
    branch: string;
    message: string;
    files: CommitFile[];
    createBranch?: boolean;
    maxFileBytes?: number;
    /**
     * A file (one of `files`) whose content is combined with the branch's version at each attempt
     * (the manifest: another shard may have committed its own meanwhile) instead of replacing it.
     */
    merge?: { path: string; combine(current: Buffer | undefined, ours: Buffer): Buffer };
  },
  log: Log
): Promise<CommitResult | undefined> {
  const { branch } = options;
  const files = checkFiles(options.files, options.maxFileBytes ?? MAX_COMMIT_FILE_BYTES, branch, log);
  if (!files) return undefined;
  if (files.length === 0) {
    log.info(`Nothing to commit to ${branch}: no files.`);
    return undefined;
  }
  const repo = { owner: context.owner, repo: context.repo };
  let step = `reading branch ${branch}`;
  try {
    let head = await getBranchHead(client, repo, branch);
    if (head === undefined && !options.createBranch) {
      log.warning(`Cannot commit to ${branch}: the branch does not exist in ${context.owner}/${context.repo}. Create it first, or pick an existing branch with commit-branch. Nothing was committed.`);
      return undefined;
    }
    step = `uploading ${files.length} file(s)`;
    const blobs = await createBlobs(client, repo, files, current => {
      step = `uploading ${current}`;
    });
    const entries = files.map((file, i) => ({ path: file.path, mode: '100644' as const, type: 'blob' as const, sha: blobs[i] }));
    for (let attempt = 0; attempt <= MAX_RETRIES; attempt++) {
      if (attempt > 0) {
        step = `reading branch ${branch}`;
        head = await getBranchHead(client, repo, branch);
      }
      if (head === undefined) {
        if (!options.createBranch) {
          log.warning(`Cannot commit to ${branch}: the branch was deleted during the commit. Nothing was committed.`);
          return undefined;
        }
        step = `creating branch ${branch}`;
        const tree = await client.rest.git.createTree({ ...repo, tree: entries });
        const commit = await client.rest.git.createCommit({ ...repo, message: options.message, tree: tree.data.sha, parents: [] });
        try {
          await client.rest.git.createRef({ ...repo, ref: `refs/heads/${branch}`, sha: commit.data.sha });
        } catch (error) {
          if (statusOf(error) !== 422) throw error;
          if (attempt < MAX_RETRIES) log.info(`Branch ${branch} appeared meanwhile; committing on top of it.`);
          continue;
        }
        log.info(`Created branch ${branch} with ${files.length} file(s): ${commit.data.sha}`);
        return { sha: commit.data.sha, created: true };
      }
      step = `reading commit ${head} of ${branch}`;
      const parent = await client.rest.git.getCommit({ ...repo, commit_sha: head });
      let treeEntries = entries;
      if (options.merge) {
        const { path: mergePath, combine } = options.merge;
        const ours = files.find(file => file.path === mergePath);
        if (ours) {
          step = `merging ${mergePath} with the one on ${branch}`;
          const current = await readFileAt(client, repo, parent.data.tree.sha, mergePath);
          const merged = combine(current, fs.readFileSync(ours.absolute));
          const blob = await client.rest.git.createBlob({ ...repo, content: merged.toString('base64'), encoding: 'base64' });
          treeEntries = entries.map(entry => (entry.path === mergePath ? { ...entry, sha: blob.data.sha } : entry));
        }
      }
      step = `building the tree on ${branch}`;
      const tree = await client.rest.git.createTree({ ...repo, base_tree: parent.data.tree.sha, tree: treeEntries });
      if (tree.data.sha === parent.data.tree.sha) {
        log.info(`Commit to ${branch}: nothing changed (the ${files.length} file(s) are already there at ${head}).`);
        return { sha: head, created: false };
      }
      step = `creating the commit on ${branch}`;
      const commit = await client.rest.git.createCommit({ ...repo, message: options.message, tree: tree.data.sha, parents: [head] });
      step = `updating branch ${branch}`;
      try {
        await client.rest.git.updateRef({ ...repo, ref: `heads/${branch}`, sha: commit.data.sha, force: false });
      } catch (error) {
        if (statusOf(error) !== 422) throw error;
        if (attempt < MAX_RETRIES) log.info(`Branch ${branch} moved during the commit (${describeApiError(error)}); rebuilding on its new head.`);
        continue;
      }
      log.info(`Committed ${files.length} file(s) to ${branch}: ${commit.data.sha}`);
      return { sha: commit.data.sha, created: true };
    }
    log.warning(`Cannot commit to ${branch}: the branch kept moving (not a fast forward after ${MAX_RETRIES} rebuilds). Nothing was committed.`);
    return undefined;
  } catch (error) {
    log.warning(refusalMessage(branch, step, describeApiError(error), isPermissionError(error), context.pullRequest));
    return undefined;
  }
}

/**
 * Commits `files` (workspace-relative) with the git CLI in `workspace` and pushes
 * HEAD to `branch` on `origin` (the checked-out branch must be `branch`, else a
 * warning and no commit): `git add`, `git commit`, `git push`; a push
 * rejected because the branch moved is followed by `git pull --rebase` and
 * another push, up to 3 times. Commits as github-actions[bot] unless the
 * repository has a user.name configured. Nothing staged → `created: false` and
 * the current HEAD.
 *
 * Resolves to the new HEAD, or undefined on failure (a warning with git's own
 * words, credentials removed). `fork` makes a refused push say that a fork's
 * token is read-only. `run` replaces the git runner (tests).
 */
export async function commitWithGit(
  workspace: string,
  options: { branch: string; message: string; files: string[]; fork?: boolean },
  log: Log,
  run: GitRunner = gitRunner(workspace)
): Promise<CommitResult | undefined> {
  const { branch } = options;
  const fail = (what: string, result: GitRun): undefined => {
    const words = redactCredentials((result.stderr.trim() || result.stdout.trim() || `exit code ${result.code}`).replace(/\s*\n\s*/g, ' | '));
    const denied = /\b403\b|permission to .* denied|write access to repository not granted|denied to|not allowed to push|protected branch/i.test(result.stderr);
    log.warning(refusalMessage(branch, what, `git: ${words}`, denied, options.fork ? { headRepo: '', fork: true } : undefined));
    return undefined;
  };
  if (options.files.length === 0) {
    log.info(`Nothing to commit to ${branch}: no files.`);
    return undefined;
  }
  const top = await run(['rev-parse', '--show-toplevel']);
  if (top.code !== 0) return fail(`looking for a git repository in ${workspace} (check the repository out first, or use commit-method: api)`, top);
  // The checked-out branch is what is committed and pushed: any other branch would get the whole checkout.
  const current = await run(['symbolic-ref', '--quiet', '--short', 'HEAD']);
  const on = current.code === 0 ? current.stdout.trim() : undefined;
  if (on !== branch) {
    const where = on === undefined
      ? 'not on a branch (a detached checkout; on a pull request, actions/checkout checks out its merge commit)'
      : `on the branch ${on}`;
    log.warning(
      `The outputs are not committed: the workspace is ${where}, not on ${branch}, and commit-method: git commits and pushes the checked-out branch. Check ${branch} out (actions/checkout with ref: ${branch}), or use commit-method: api, which commits onto any branch without a checkout.`
    );
    return undefined;
  }
  const name = await run(['config', 'user.name']);
  const identity = name.code === 0 && name.stdout.trim() ? [] : ['-c', `user.name=${BOT_NAME}`, '-c', `user.email=${BOT_EMAIL}`];
  const git = (args: string[]): Promise<GitRun> => run([...identity, ...args]);

  for (let i = 0; i < options.files.length; i += 500) {
    const added = await git(['--literal-pathspecs', 'add', '--', ...options.files.slice(i, i + 500)]);
    if (added.code !== 0) return fail('adding the files', added);
  }
  const staged = await git(['diff', '--cached', '--quiet']);
  if (staged.code === 0) {
    const head = await git(['rev-parse', 'HEAD']);
    if (head.code !== 0) return fail('reading HEAD', head);
    log.info(`Commit to ${branch}: nothing changed (the ${options.files.length} file(s) are already committed at ${head.stdout.trim()}).`);
    return { sha: head.stdout.trim(), created: false };
  }
  if (staged.code !== 1) return fail('looking for staged changes', staged);
  const committed = await git(['commit', '--no-verify', '-m', options.message]);
  if (committed.code !== 0) return fail('committing', committed);

  for (let attempt = 0; ; attempt++) {
    const pushed = await git(['push', 'origin', `HEAD:refs/heads/${branch}`]);
    if (pushed.code === 0) break;
    const rejected = /\[rejected\]|non-fast-forward|fetch first|\[remote rejected\].*(?:cannot lock ref|incorrect old value)/i.test(pushed.stderr);
    if (!rejected) return fail('pushing', pushed);
    if (attempt >= MAX_RETRIES) return fail(`pushing (the branch kept moving after ${MAX_RETRIES} rebases)`, pushed);
    log.info(`Branch ${branch} moved on origin; rebasing the commit on it.`);
    const pulled = await git(['pull', '--rebase', '--autostash', '--no-edit', 'origin', branch]);
    if (pulled.code !== 0) {
      await git(['rebase', '--abort']);
      return fail(`rebasing on the new head of ${branch}`, pulled);
    }
  }
  const head = await git(['rev-parse', 'HEAD']);
  if (head.code !== 0) return fail('reading HEAD', head);
  const sha = head.stdout.trim();
  log.info(`Committed ${options.files.length} file(s) and pushed to ${branch}: ${sha}`);
  return { sha, created: true };
}

/**
 * A {@link GitRunner} that spawns `git` in `workspace` (never prompting for
 * credentials, messages in English so they can be read).
 */
export function gitRunner(workspace: string): GitRunner {
  return args =>
    new Promise<GitRun>(resolve => {
      const child = spawn('git', args, {
        cwd: workspace,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
        stdio: ['ignore', 'pipe', 'pipe']
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
      child.on('error', error => resolve({ code: -1, stdout: '', stderr: `could not run git in ${workspace}: ${error.message}` }));
      child.on('close', code =>
        resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') })
      );
    });
}

/** The files to commit, checked (relative POSIX paths, present, within the size limit); undefined after a warning. */
function checkFiles(files: CommitFile[], maxBytes: number, branch: string, log: Log): CommitFile[] | undefined {
  const byPath = new Map<string, CommitFile>();
  const problems: string[] = [];
  for (const file of files) {
    const segments = file.path.split('/');
    if (!file.path || file.path.startsWith('/') || file.path.includes('\\') || segments.some(s => s === '' || s === '.' || s === '..')) {
      problems.push(`${JSON.stringify(file.path)} is not a relative POSIX path in the repository`);
      continue;
    }
    let size: number;
    try {
      const stat = fs.statSync(file.absolute);
      if (!stat.isFile()) {
        problems.push(`${file.path} (${file.absolute}) is not a file`);
        continue;
      }
      size = stat.size;
    } catch (error) {
      problems.push(`${file.path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      continue;
    }
    if (size > maxBytes) {
      problems.push(`${file.path} is ${formatBytes(size)}, over GitHub's limit of ${formatBytes(maxBytes)} per file`);
      continue;
    }
    byPath.set(file.path, file);
  }
  if (problems.length > 0) {
    log.warning(`Nothing was committed to ${branch}: ${problems.join('; ')}.`);
    return undefined;
  }
  return [...byPath.values()];
}

/** Uploads one blob per file, a few at a time; resolves to their shas in order. */
async function createBlobs(
  client: GitHubClient,
  repo: { owner: string; repo: string },
  files: CommitFile[],
  onFile: (path: string) => void
): Promise<string[]> {
  const shas: string[] = new Array(files.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      onFile(files[i].path);
      const content = (await fs.promises.readFile(files[i].absolute)).toString('base64');
      const blob = await client.rest.git.createBlob({ ...repo, content, encoding: 'base64' });
      shas[i] = blob.data.sha;
    }
  };
  await Promise.all(Array.from({ length: Math.min(BLOB_CONCURRENCY, files.length) }, worker));
  return shas;
}

/** The branch's head commit, or undefined when the branch does not exist (404). */
/** The bytes of `filePath` in the tree `treeSha`, or undefined when it is not there (as a file). */
async function readFileAt(client: GitHubClient, repo: { owner: string; repo: string }, treeSha: string, filePath: string): Promise<Buffer | undefined> {
  let sha = treeSha;
  const names = filePath.split('/');
  for (const [index, name] of names.entries()) {
    const { data } = await client.rest.git.getTree({ ...repo, tree_sha: sha });
    const entry = data.tree.find(item => item.path === name);
    if (!entry?.sha) return undefined;
    if (index < names.length - 1) {
      if (entry.type !== 'tree') return undefined;
      sha = entry.sha;
      continue;
    }
    if (entry.type !== 'blob') return undefined;
    const blob = await client.rest.git.getBlob({ ...repo, file_sha: entry.sha });
    return Buffer.from(blob.data.content, blob.data.encoding === 'base64' ? 'base64' : 'utf8');
  }
  return undefined;
}

async function getBranchHead(client: GitHubClient, repo: { owner: string; repo: string }, branch: string): Promise<string | undefined> {
  try {
    const ref = await client.rest.git.getRef({ ...repo, ref: `heads/${branch}` });
    return ref.data.object.sha;
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

/** The warning for a refused or failed commit; the fork case is said plainly. */
function refusalMessage(
  branch: string,
  step: string,
  cause: string,
  permission: boolean,
  pullRequest: { headRepo: string; fork: boolean } | undefined
): string {
  const kept = 'The results are still in the artifact and the job summary.';
  if (permission && pullRequest?.fork) {
    const from = pullRequest.headRepo ? ` (${pullRequest.headRepo})` : '';
    return `Cannot commit to ${branch}: this pull request comes from a fork${from}, and a fork's token is read-only, so nothing can be pushed (${step}: ${redactCredentials(cause)}). ${kept}`;
  }
  if (permission) {
    return `Cannot commit to ${branch}: GitHub refused (${step}: ${redactCredentials(cause)}). The token needs write access to the repository's contents (\`permissions: contents: write\` in the workflow). ${kept}`;
  }
  return `Could not commit to ${branch} (${step}): ${redactCredentials(cause)}. ${kept}`;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' ? status : undefined;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}
