/**
 * The `upload-artifact` delivery: the output files as ONE workflow artifact.
 * The only module that uses @actions/artifact; it is imported on demand so the
 * common path (no outputs, dry run, upload-artifact: false) does not load it.
 */
import * as path from 'node:path';
import type { Log } from '../log.js';
import type { PipelineResult } from '../pipeline.js';

/** An uploaded artifact, as the outputs and the summary report it. */
export interface UploadedArtifact {
  id: number;
  name: string;
  /** Its page in the run: `${server}/${repository}/actions/runs/${runId}/artifacts/${id}`. */
  url: string;
}

/** Why the upload was not attempted; undefined when it should be. */
export function skipReason(result: PipelineResult): string | undefined {
  const { settings } = result;
  if (!settings.uploadArtifact) return 'upload-artifact is false';
  if (settings.dryRun) return 'dry run';
  if (result.outputFiles.length === 0) return 'no output files';
  return undefined;
}

/** The artifact's page in the workflow run. */
export function artifactUrl(env: NodeJS.ProcessEnv, id: number): string {
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  return `${server}/${env.GITHUB_REPOSITORY ?? ''}/actions/runs/${env.GITHUB_RUN_ID ?? ''}/artifacts/${id}`;
}

/** True for a server @actions/artifact accepts: github.com, *.ghe.com, *.localhost (as its isGhes() reads it). */
function isGitHubCloud(env: NodeJS.ProcessEnv): boolean {
  try {
    const host = new URL(env.GITHUB_SERVER_URL || 'https://github.com').hostname.trimEnd().toUpperCase();
    return host === 'GITHUB.COM' || host.endsWith('.GHE.COM') || host.endsWith('.LOCALHOST');
  } catch {
    return false;
  }
}

/** Why an upload cannot work here, known before loading the client; undefined when it may. */
function missingRequirement(env: NodeJS.ProcessEnv): string | undefined {
  if (!isGitHubCloud(env)) {
    return `GitHub Enterprise Server (${env.GITHUB_SERVER_URL}) does not support the artifacts of @actions/artifact v2+ (GHESNotSupportedError); keep the files with a later step`;
  }
  if (!env.ACTIONS_RUNTIME_TOKEN) return 'ACTIONS_RUNTIME_TOKEN is not set (not running on a GitHub Actions runner?)';
  if (!env.ACTIONS_RESULTS_URL) return 'ACTIONS_RESULTS_URL is not set (not running on a GitHub Actions runner?)';
  return undefined;
}

/** The cause of a failed upload, in words, for the warning. */
function describeFailure(error: unknown): string {
  const name = error instanceof Error ? error.name : '';
  const message = (error instanceof Error ? error.message : String(error)).replace(/\.+$/, '');
  return name && name !== 'Error' && !message.includes(name) ? `${name}: ${message}` : message;
}

/**
 * Uploads the result's output files as one artifact named `settings.artifactName`
 * (paths in the zip relative to the workspace), with `settings.retentionDays`.
 * Resolves to the artifact, or to undefined when there was nothing to upload or
 * the upload failed; a failure is a warning naming the cause, never a throw.
 */
export async function uploadOutputs(
  result: PipelineResult,
  log: Log,
  env: NodeJS.ProcessEnv = process.env
): Promise<UploadedArtifact | undefined> {
  const skip = skipReason(result);
  const { settings } = result;
  if (skip) {
    log.debug(`Artifact not uploaded: ${skip}`);
    return undefined;
  }
  const files = result.outputFiles.map(file => path.resolve(settings.workspace, file));
  const notHere = missingRequirement(env);
  if (notHere) {
    log.warning(failureMessage(files.length, settings.artifactName, notHere));
    return undefined;
  }
  try {
    const { DefaultArtifactClient } = await import('@actions/artifact');
    const client = new DefaultArtifactClient();
    const options = settings.retentionDays === undefined ? {} : { retentionDays: settings.retentionDays };
    const uploaded = await client.uploadArtifact(settings.artifactName, files, settings.workspace, options);
    if (uploaded.id === undefined) throw new Error('the artifact service answered without an artifact id');
    const artifact = { id: uploaded.id, name: settings.artifactName, url: artifactUrl(env, uploaded.id) };
    log.info(`Uploaded ${files.length} file(s) as artifact ${artifact.name} (id ${artifact.id}): ${artifact.url}`);
    return artifact;
  } catch (error) {
    log.warning(failureMessage(files.length, settings.artifactName, describeFailure(error)));
    return undefined;
  }
}

/** The warning for an upload that did not happen. */
function failureMessage(count: number, name: string, cause: string): string {
  return `upload-artifact: the ${count} output file(s) were not uploaded as artifact ${JSON.stringify(name)}: ${cause}. The files are still in the workspace (output-files lists them).`;
}
