/**
 * Delivery to GitHub, in order: commit the outputs (`commit: true`), or else push
 * them to the preview branch (`preview-branch`, on a pull request); then the one
 * sticky comment. Each step that GitHub refuses or that fails is a warning: the
 * results stay in the outputs, the artifact and the job summary.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createGitHubClient, describeApiError, type GitHubClient, type GitHubContext } from '../github.js';
import type { Log } from '../log.js';
import { mergeManifestText } from '../manifest.js';
import type { PipelineResult } from '../pipeline.js';
import type { UploadedArtifact } from './artifact.js';
import { commentTarget, renderComment, upsertComment, type PreviewLocation } from './comment.js';
import { commitMessage, commitWithApi, commitWithGit, previewPath, type CommitResult } from './commit.js';

/** Where the before and after images can be linked. */
export interface Previews {
  sourcesAt: PreviewLocation;
  outputsAt: PreviewLocation;
}

export interface GitHubDelivered {
  /** The commit made with the outputs (`commit-sha`); undefined when none was made. */
  commitSha?: string;
  /** The sticky comment (`comment-url`). */
  commentUrl?: string;
  /** Set when the outputs are at a commit that the comment and the summary can link. */
  previews?: Previews;
}

/** Commits or pushes the outputs for previews, then comments, as the settings say. Never throws. */
export async function deliverToGitHub(
  result: PipelineResult,
  artifact: UploadedArtifact | undefined,
  context: GitHubContext,
  log: Log
): Promise<GitHubDelivered> {
  const { github: options } = result.settings;
  let client: Promise<GitHubClient> | undefined;
  const github = (): Promise<GitHubClient> => (client ??= createGitHubClient(options.token, context));
  const delivered: GitHubDelivered = {};

  await warnOnError(log, 'The outputs were neither committed nor pushed for previews', async () => {
    const written = result.outputFiles.length > 0 && !result.settings.dryRun;
    if (options.commit && written) {
      const commit = await commitOutputs(result, context, github, log);
      if (commit) {
        if (commit.created) delivered.commitSha = commit.sha;
        const at = { repo: `${context.owner}/${context.repo}`, sha: commit.sha };
        delivered.previews = { sourcesAt: at, outputsAt: at };
      }
    } else if (options.previewBranch && written && context.pullRequest && options.token) {
      const pr = context.pullRequest;
      const pushed = await commitWithApi(
        await github(),
        context,
        {
          branch: options.previewBranch,
          message: `Previews of ${result.outputFiles.length} edited image(s) for #${pr.number}`,
          files: result.outputFiles.map(output => ({ path: previewPath(pr.number, output), absolute: path.join(result.settings.workspace, output) })),
          createBranch: true
        },
        log
      );
      if (pushed) {
        delivered.previews = {
          sourcesAt: { repo: pr.headRepo || `${context.owner}/${context.repo}`, sha: pr.headSha || context.sha },
          outputsAt: { repo: `${context.owner}/${context.repo}`, sha: pushed.sha, pathPrefix: `pr-${pr.number}` }
        };
      }
    } else if (options.previewBranch && written && !options.commit) {
      log.info(`preview-branch: nothing pushed to ${options.previewBranch}: ${context.pullRequest ? 'github-token is empty' : 'this run is not for a pull request'}`);
    }
  });
  await warnOnError(log, 'No preview comment', async () => {
    // A dry run sends nothing anywhere: no comment either.
    const target = result.settings.dryRun ? { skip: 'dry run' } : await commentTarget(options.comment, context, github);
    if ('skip' in target) {
      if ('failed' in target && target.failed) log.warning(`No preview comment: ${target.skip}`);
      else log.debug(`No preview comment: ${target.skip}`);
    } else if (!options.token) {
      log.warning(`No preview comment on pull request #${target.number}: github-token is empty`);
    } else {
      const body = renderComment({
        result,
        tag: options.commentTag,
        context,
        previews: delivered.previews,
        artifactUrl: artifact?.url,
        commitSha: delivered.commitSha
      });
      // Nothing edited or failed in this run: an earlier comment (with its previews) stays as it is.
      // No source file at all (only-changed, a PR without images): no new comment either.
      const nothingNew = result.results.every(r => r.status === 'skipped');
      const comment = await upsertComment(await github(), context, target.number, options.commentTag, body, log, {
        update: !nothingNew || result.results.length === 0,
        create: result.results.length > 0
      });
      if (comment) delivered.commentUrl = comment.url;
    }
  });
  return delivered;
}

/** Commits the outputs and the manifest to the branch, through the API or the git CLI. */
async function commitOutputs(
  result: PipelineResult,
  context: GitHubContext,
  github: () => Promise<GitHubClient>,
  log: Log
): Promise<CommitResult | undefined> {
  const { settings } = result;
  const { github: options } = settings;
  const pr = context.pullRequest;
  const branch = options.commitBranch ?? (pr ? pr.headRef : context.branch);
  if (!branch) {
    log.warning('The outputs are not committed: this run is not on a branch (a tag, or a detached commit); set commit-branch');
    return undefined;
  }
  if (pr?.fork && !options.commitBranch) {
    log.warning(
      `The outputs are not committed: this is a pull request from a fork (${pr.headRepo || 'a deleted fork'}), whose branch ${branch} this workflow's token cannot write. The artifact and the job summary still carry the results.`
    );
    return undefined;
  }
  const files = [...result.outputFiles];
  const manifest = settings.manifest && path.posix.normalize(settings.manifest.replace(/\\/g, '/'));
  if (manifest && fs.existsSync(path.join(settings.workspace, manifest))) files.push(manifest);
  const message = commitMessage(options.commitMessage, { count: result.outputFiles.length, model: settings.params.model });
  const commit =
    options.commitMethod === 'git'
      ? await commitWithGit(settings.workspace, { branch, message, files, fork: pr?.fork }, log)
      : await commitWithApi(
          await github(),
          context,
          {
            branch,
            message,
            files: files.map(file => ({ path: file, absolute: path.join(settings.workspace, file) })),
            // Another job (a shard) may have committed its manifest meanwhile: keep its entries.
            merge: manifest ? { path: manifest, combine: (current, ours) => mergeManifestBytes(current, ours, manifest) } : undefined
          },
          log
        );
  if (commit?.created) log.info(`Committed ${result.outputFiles.length} output image(s) to ${branch}: ${commit.sha}`);
  return commit;
}

/** Runs one delivery step: an unexpected error (the steps' own failures are warnings already) becomes a warning too. */
async function warnOnError(log: Log, what: string, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    log.warning(`${what}: ${describeApiError(error)}`);
  }
}

function mergeManifestBytes(current: Buffer | undefined, ours: Buffer, file: string): Buffer {
  return Buffer.from(mergeManifestText(current?.toString('utf8'), ours.toString('utf8'), file), 'utf8');
}
