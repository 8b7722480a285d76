/**
 * upload-artifact end to end: the built action (dist/index.js) run as the runner
 * runs it, against the edit stand-in and a loopback stand-in of the artifact
 * service; plus the summary line and the CLI, which never uploads.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startStandIn } from '../stand-in/edit-endpoint.mjs';
import { parseCli } from '../src/command-line.js';
import { renderSummary } from '../src/delivery/summary.js';
import { artifactUrl, skipReason } from '../src/delivery/artifact.js';
import type { PipelineResult } from '../src/pipeline.js';
import type { Plan } from '../src/plan.js';
import type { Settings } from '../src/settings.js';
import { startArtifactService, zipEntryNames, type ArtifactService } from './helpers/artifact-service.js';
import { artWorkspace, makePng } from './helpers/images.js';
import { ROOT, runAction } from './helpers/runner.js';

const KEY = 'sk-artifact-SECRET-0123456789abcdef';
const RUN = { GITHUB_RUN_ID: '4242', GITHUB_REPOSITORY: 'octo/repo' };

type StandIn = Awaited<ReturnType<typeof startStandIn>>;

/** Lines of the runner's log that are warnings. */
function warnings(stdout: string): string[] {
  return stdout.split('\n').filter(line => line.startsWith('::warning'));
}

describe('upload-artifact (dist/index.js)', () => {
  let standIn: StandIn;
  let service: ArtifactService;
  let workspace: string;


  beforeEach(async () => {
    standIn = await startStandIn({ requireKey: KEY });
    workspace = artWorkspace('artifact-');
  });

  afterEach(async () => {
    await standIn.close();
    await service?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  const inputs = (extra: Record<string, string> = {}) => ({
    images: 'art/**/*.png',
    prompt: 'Make {name} look hand-drawn',
    'api-key': KEY,
    endpoint: standIn.url,
    ...extra
  });

  it('uploads the outputs as one artifact and sets artifact-id, artifact-url and the summary link', async () => {
    service = await startArtifactService({ artifactId: '987' });
    const run = await runAction(workspace, inputs({ 'artifact-name': 'my images', 'retention-days': '7' }), {
      env: { ...service.env(), ...RUN }
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(warnings(run.stdout)).toEqual([]);
    expect(run.outputs['output-files'].split('\n')).toEqual(['art/icons/star.edited.png', 'art/logo.edited.png']);
    expect(run.outputs['artifact-id']).toBe('987');
    expect(run.outputs['artifact-url']).toBe('https://github.com/octo/repo/actions/runs/4242/artifacts/987');

    const kinds = service.calls.map(call => call.kind);
    expect(kinds[0]).toBe('CreateArtifact');
    expect(kinds[kinds.length - 1]).toBe('FinalizeArtifact');
    const create = service.calls[0].json!;
    expect(create.name).toBe('my images');
    expect(create.workflow_run_backend_id).toBe('run-backend-1');
    expect(create.workflow_job_run_backend_id).toBe('job-backend-1');
    const expires = Date.parse(String(create.expires_at)) - Date.now();
    expect(expires).toBeGreaterThan(6 * 86_400_000);
    expect(expires).toBeLessThan(8 * 86_400_000);

    const zip = service.blob();
    expect(zip).toBeDefined();
    expect(zipEntryNames(zip!).sort()).toEqual(['art/icons/star.edited.png', 'art/logo.edited.png']);
    const written = fs.readFileSync(path.join(workspace, 'art', 'logo.edited.png'));
    // archiver stores or deflates; small PNGs are already compressed, so at least the name is there.
    expect(zip!.length).toBeGreaterThan(written.length / 2);

    expect(run.summary).toContain('href="https://github.com/octo/repo/actions/runs/4242/artifacts/987"');
    expect(run.summary).toContain('<code>my images</code>');
  }, 30_000);

  it('upload-artifact: false sends nothing to the service and sets no artifact outputs', async () => {
    service = await startArtifactService();
    const run = await runAction(workspace, inputs({ 'upload-artifact': 'false' }), { env: { ...service.env(), ...RUN } });
    expect(run.code).toBe(0);
    expect(run.outputs['edited-count']).toBe('2');
    expect(service.calls).toEqual([]);
    expect(run.outputs['artifact-id']).toBeUndefined();
    expect(run.outputs['artifact-url']).toBeUndefined();
    expect(run.summary).not.toContain('artifact');
  }, 30_000);

  it('dry-run uploads nothing', async () => {
    service = await startArtifactService();
    const run = await runAction(workspace, inputs({ 'dry-run': 'true' }), { env: { ...service.env(), ...RUN } });
    expect(run.code).toBe(0);
    expect(service.calls).toEqual([]);
    expect(run.outputs['artifact-id']).toBeUndefined();
  }, 30_000);

  it('a service error is a warning naming the cause; the step succeeds and every result is set', async () => {
    service = await startArtifactService({ failCreateWith: 400 });
    const run = await runAction(workspace, inputs(), { env: { ...service.env(), ...RUN } });
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('::error');
    const ours = warnings(run.stdout).filter(line => line.includes('upload-artifact:'));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toContain('stand-in refuses the artifact');
    expect(ours[0]).toContain('edited-images');
    expect(service.calls.map(call => call.kind)).toEqual(['CreateArtifact']);
    expect(run.outputs['edited-count']).toBe('2');
    expect(run.outputs['output-files'].split('\n')).toHaveLength(2);
    expect(run.outputs['artifact-id']).toBeUndefined();
    expect(run.summary).toContain('2 edited');
    expect(fs.existsSync(path.join(workspace, 'art', 'logo.edited.png'))).toBe(true);
  }, 30_000);

  it('without ACTIONS_RUNTIME_TOKEN the warning says so; the results are kept', async () => {
    service = await startArtifactService();
    const { ACTIONS_RUNTIME_TOKEN: _token, ...env } = service.env();
    const run = await runAction(workspace, inputs(), { env: { ...env, ...RUN } });
    expect(run.code).toBe(0);
    const ours = warnings(run.stdout).filter(line => line.includes('upload-artifact:'));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toContain('ACTIONS_RUNTIME_TOKEN');
    expect(service.calls).toEqual([]);
    expect(run.outputs['edited-count']).toBe('2');
    expect(run.outputs['artifact-url']).toBeUndefined();
  }, 30_000);

  it('on GitHub Enterprise Server the warning names it; the results are kept', async () => {
    service = await startArtifactService();
    const run = await runAction(workspace, inputs(), {
      env: { ...service.env(), ...RUN, GITHUB_SERVER_URL: 'https://ghes.example.com' }
    });
    expect(run.code).toBe(0);
    const ours = warnings(run.stdout).filter(line => line.includes('upload-artifact:'));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toContain('GitHub Enterprise Server');
    expect(service.calls).toEqual([]);
    expect(run.outputs['edited-count']).toBe('2');
  }, 30_000);

  it('a bad artifact-name or retention-days fails the step before any request', async () => {
    service = await startArtifactService();
    const run = await runAction(workspace, inputs({ 'artifact-name': 'a/b', 'retention-days': '91' }), {
      env: { ...service.env(), ...RUN }
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('artifact-name: "a/b" contains "/"');
    expect(run.stdout).toContain('retention-days');
    expect(fs.existsSync(path.join(workspace, 'art', 'logo.edited.png'))).toBe(false);
    expect(service.calls).toEqual([]);
  }, 30_000);
});

describe('artifact delivery pieces', () => {
  const result = (settings: Partial<Settings>, outputFiles: string[]): PipelineResult => ({
    settings: {
      dryRun: false,
      uploadArtifact: true,
      artifactName: 'edited-images',
      params: { model: 'gpt-image-1', n: 1 },
      endpoint: new URL('https://api.acedata.cloud/openai/images/edits'),
      ...settings
    } as Settings,
    plan: { jobs: [], notSources: [], otherShards: 0 } as unknown as Plan,
    results: outputFiles.map(file => ({ source: file, status: 'edited', outputs: [file], durationMs: 1, attempts: 1 })),
    outputFiles,
    taskIds: [],
    cancelled: false
  });

  it('skips without outputs, on a dry run and when turned off', () => {
    expect(skipReason(result({}, ['a.png']))).toBeUndefined();
    expect(skipReason(result({}, []))).toBe('no output files');
    expect(skipReason(result({ dryRun: true }, ['a.png']))).toBe('dry run');
    expect(skipReason(result({ uploadArtifact: false }, ['a.png']))).toBe('upload-artifact is false');
  });

  it('builds the artifact URL from the server, repository and run', () => {
    expect(artifactUrl({ GITHUB_SERVER_URL: 'https://github.com/', GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '7' }, 5)).toBe(
      'https://github.com/o/r/actions/runs/7/artifacts/5'
    );
  });

  it('the summary links the artifact with its name escaped, and says nothing without one', () => {
    const r = result({}, ['a.png']);
    const linked = renderSummary(r, { id: 1, name: '<b>x</b>', url: 'https://github.com/o/r/actions/runs/7/artifacts/1?a="b"' });
    expect(linked).toContain('<a href="https://github.com/o/r/actions/runs/7/artifacts/1?a=&quot;b&quot;"><code>&lt;b&gt;x&lt;/b&gt;</code></a>');
    expect(linked).not.toContain('<b>x</b>');
    expect(renderSummary(r)).not.toContain('artifact');
  });

  it('the CLI never uploads and has no artifact flags', () => {
    const cli = parseCli(['--images', 'a.png', '--prompt', 'p'], {});
    expect(cli.read('upload-artifact')).toBe('false');
    expect(() => parseCli(['--images', 'a.png', '--upload-artifact'], {})).toThrow();
  });
});
