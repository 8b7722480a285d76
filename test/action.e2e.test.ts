/**
 * End to end: the built action (dist/index.js) run as the GitHub runner runs it,
 * against the built-in stand-in endpoint on 127.0.0.1.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startStandIn } from '../stand-in/edit-endpoint.mjs';
import { artWorkspace, makePng } from './helpers/images.js';
import { listFiles, ROOT, runAction } from './helpers/runner.js';

const KEY = 'sk-e2e-SECRET-0123456789abcdef';
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

type StandIn = Awaited<ReturnType<typeof startStandIn>>;

/**
 * The key appears nowhere but in the runner's `::add-mask::` command, which the runner
 * consumes (never shown) and which must come before any other line.
 */
function expectNoKey(stdout: string, ...others: string[]): void {
  const lines = stdout.split('\n');
  const masks = lines.filter(line => line.startsWith('::add-mask::'));
  expect(masks.length).toBeLessThanOrEqual(1);
  if (masks.length) expect(lines[0]).toBe(masks[0]);
  for (const text of [lines.filter(line => !line.startsWith('::add-mask::')).join('\n'), ...others]) {
    expect(text).not.toContain(KEY);
  }
}

describe('dist/index.js as the runner runs it', () => {
  let standIn: StandIn;
  let workspace: string;


  beforeEach(async () => {
    standIn = await startStandIn({ requireKey: KEY });
    workspace = artWorkspace('e2e-');
    fs.writeFileSync(path.join(workspace, 'art', 'notes.txt'), 'not matched');
  });

  afterEach(async () => {
    await standIn.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  const inputs = (extra: Record<string, string> = {}) => ({
    images: 'art/**/*.png',
    prompt: 'Make {name} look hand-drawn',
    'api-key': KEY,
    endpoint: standIn.url,
    ...extra
  });

  it('edits every match, writes outputs, summary and the manifest; a rerun skips them all', async () => {
    const run = await runAction(workspace, inputs());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.outputs['edited-count']).toBe('2');
    expect(run.outputs['failed-count']).toBe('0');
    expect(run.outputs['output-files'].split('\n')).toEqual(['art/icons/star.edited.png', 'art/logo.edited.png']);
    for (const file of run.outputs['output-files'].split('\n')) {
      expect(fs.readFileSync(path.join(workspace, file)).subarray(0, 4)).toEqual(PNG_MAGIC);
    }
    const results = JSON.parse(run.outputs.results);
    expect(results.map((r: { source: string; status: string }) => [r.source, r.status])).toEqual([
      ['art/icons/star.png', 'edited'],
      ['art/logo.png', 'edited']
    ]);
    expect(results[0].attempts).toBe(1);
    expect(typeof results[0]['duration-ms']).toBe('number');
    expect(results[1]['revised-prompt']).toContain('logo');
    expect(run.summary).toContain('<code>art/logo.png</code>');
    expect(run.summary).toContain('2 edited, 0 skipped, 0 failed');
    expect(standIn.requests).toHaveLength(2);
    expect(fs.existsSync(path.join(workspace, '.image-edits.json'))).toBe(true);
    expectNoKey(run.stdout, run.stderr, run.summary, JSON.stringify(run.outputs));

    // Second run: the outputs sit beside the sources but are not sources; nothing changed, so nothing is sent.
    const again = await runAction(workspace, inputs());
    expect(again.code).toBe(0);
    expect(again.outputs['skipped-count']).toBe('2');
    expect(again.outputs['edited-count']).toBe('0');
    expect(JSON.parse(again.outputs.results)).toHaveLength(2);
    expect(standIn.requests).toHaveLength(2);

    // force: edits again.
    const forced = await runAction(workspace, inputs({ force: 'true' }));
    expect(forced.outputs['edited-count']).toBe('2');
    expect(standIn.requests).toHaveLength(4);
  });

  it('reports every bad input at once and sends and writes nothing', async () => {
    const before = listFiles(workspace);
    const run = await runAction(workspace, inputs({ model: 'gpt-5', n: '11', 'output-path': '{dir}/{stem}.png' }));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('::error::');
    expect(run.stdout).toContain('gpt-5');
    expect(run.stdout).toMatch(/n: .*11/);
    expect(run.stdout).toContain('{stem}');
    expect(standIn.requests).toHaveLength(0);
    expect(listFiles(workspace)).toEqual(before);
    expectNoKey(run.stdout, run.stderr);
  });

  it('rejects a file that is not an image before any request', async () => {
    fs.writeFileSync(path.join(workspace, 'art', 'fake.png'), 'this is text, not a PNG');
    const before = listFiles(workspace);
    const run = await runAction(workspace, inputs());
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('art/fake.png');
    expect(standIn.requests).toHaveLength(0);
    expect(listFiles(workspace)).toEqual(before);
  });

  it('dry-run needs no key, prints the plan and writes nothing', async () => {
    const before = listFiles(workspace);
    const run = await runAction(workspace, inputs({ 'api-key': '', 'dry-run': 'true' }));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('art/logo.png → art/logo.edited.png');
    expect(run.stdout).toMatch(/2 request\(s\) would be sent/);
    expect(standIn.requests).toHaveLength(0);
    expect(listFiles(workspace)).toEqual(before);
  });

  it('a rejected key fails every file with the API message, never leaking the key', async () => {
    const wrong = `${KEY}-wrong`;
    const run = await runAction(workspace, inputs({ 'api-key': wrong, 'max-retries': '0' }));
    expect(run.code).toBe(1);
    expect(run.outputs['failed-count']).toBe('2');
    expect(run.stdout).toMatch(/art\/logo\.png: HTTP 401/);
    const shown = run.stdout.split('\n').filter(line => line !== `::add-mask::${wrong}`).join('\n');
    for (const text of [shown, run.stderr, run.summary, JSON.stringify(run.outputs)]) {
      expect(text).not.toContain(wrong);
    }
  });

  it('fail-on-error: false reports failures and succeeds', async () => {
    const run = await runAction(workspace, inputs({ 'api-key': 'other-key', 'fail-on-error': 'false', 'max-retries': '0' }));
    expect(run.code).toBe(0);
    expect(run.outputs['failed-count']).toBe('2');
    expect(run.stdout).toContain('::warning::');
  });

  it('an empty api-key on a pull request from a fork says why', async () => {
    const event = {
      pull_request: {
        number: 7,
        head: { repo: { fork: true, full_name: 'someone/repo' } },
        base: { repo: { full_name: 'octo/repo' } }
      }
    };
    const run = await runAction(workspace, inputs({ 'api-key': '' }), { event, eventName: 'pull_request' });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/api-key/);
    expect(run.stdout).toMatch(/fork/i);
    expect(standIn.requests).toHaveLength(0);
  });
});

describe('cancellation', () => {
  it('SIGTERM aborts in-flight requests, leaves no partial file, and reports', async () => {
    const standIn = await startStandIn({ requireKey: KEY, latencyMs: 20000 });
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-cancel-'));
    try {
      fs.writeFileSync(path.join(workspace, 'a.png'), makePng(16, 16));
      fs.writeFileSync(path.join(workspace, 'b.png'), makePng(16, 16));
      const before = listFiles(workspace);
      const run = await runAction(
        workspace,
        { images: '*.png', prompt: 'x', 'api-key': KEY, endpoint: standIn.url },
        { signalAfterMs: 1500 }
      );
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/cancel/i);
      expect(run.outputs['failed-count']).toBe('2');
      expect(listFiles(workspace)).toEqual(before);
    } finally {
      await standIn.close();
      fs.rmSync(workspace, { recursive: true, force: true });
    }
  });
});
