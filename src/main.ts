/**
 * The action: read the inputs, run the pipeline, deliver the results.
 */
import * as core from '@actions/core';
import { onlyChangedSources } from './changed-files.js';
import { uploadOutputs } from './delivery/artifact.js';
import { deliverToGitHub } from './delivery/github-delivery.js';
import { failureLines, setOutputs } from './delivery/outputs.js';
import { renderSummary } from './delivery/summary.js';
import { readGitHubContext } from './github.js';
import { actionInputs, getInputs } from './input-helper.js';
import { coreLog } from './log.js';
import { redact, runPipeline } from './pipeline.js';
import { InputError } from './settings.js';

/** Runs the action; sets the step's outputs and marks it failed as the contract says. */
export async function run(): Promise<void> {
  const cancel = cancellation();
  let apiKey = '';
  try {
    const { settings, warnings } = await getInputs(actionInputs(), {
      workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
      env: process.env
    });
    apiKey = settings.apiKey;
    for (const warning of warnings) core.warning(warning);

    const context = readGitHubContext(process.env);
    const changed = settings.github.onlyChanged
      ? await core.group('Changed files', () => onlyChangedSources(settings.github.token, context, process.env, coreLog))
      : undefined;

    const result = await runPipeline(settings, { log: coreLog, signal: cancel.signal, changed });

    await core.group('Deliver', async () => {
      setOutputs(result, core.setOutput);
      const artifact = await uploadOutputs(result, coreLog);
      if (artifact) {
        core.setOutput('artifact-id', String(artifact.id));
        core.setOutput('artifact-url', artifact.url);
      }
      const delivered = await deliverToGitHub(result, artifact, context, coreLog);
      if (delivered.commitSha) core.setOutput('commit-sha', delivered.commitSha);
      if (delivered.commentUrl) core.setOutput('comment-url', delivered.commentUrl);
      if (process.env.GITHUB_STEP_SUMMARY) {
        await core.summary.addRaw(renderSummary(result, artifact, delivered.previews, context.serverUrl)).write();
      }
    });

    const failures = failureLines(result);
    if (result.cancelled) core.setFailed('Cancelled: in-flight requests were aborted; finished files are reported above.');
    else if (failures.length && settings.failOnError) {
      core.setFailed(`${failures.length} file(s) failed:\n${failures.join('\n')}`);
    } else if (failures.length) {
      core.warning(`${failures.length} file(s) failed (fail-on-error: false):\n${failures.join('\n')}`);
    }
  } catch (error) {
    const message = error instanceof InputError || error instanceof Error ? error.message : String(error);
    core.setFailed(redact(message, { apiKey }));
  } finally {
    cancel.dispose();
  }
}

/** An AbortSignal fired by SIGINT/SIGTERM (the runner's cancellation). */
function cancellation(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (name: string): void => {
    core.warning(`${name} received: aborting in-flight requests`);
    controller.abort(new Error(`${name}`));
  };
  const onInt = (): void => onSignal('SIGINT');
  const onTerm = (): void => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    }
  };
}
