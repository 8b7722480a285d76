/**
 * The request modes end to end: dist/index.js run as the runner runs it,
 * against the stand-in endpoint (streaming, callback, async tasks, url answers).
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startStandIn, type StandIn } from '../stand-in/edit-endpoint.mjs';
import { readPngHeader } from '../stand-in/png.mjs';
import { makePng } from './helpers/images.js';
import { listFiles, ROOT, runAction } from './helpers/runner.js';

const KEY = 'sk-modes-SECRET-0123456789abcdef';
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

describe('request modes through dist/index.js', () => {
  let standIn: StandIn;
  let workspace: string;


  beforeEach(async () => {
    standIn = await startStandIn({ requireKey: KEY });
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'modes-'));
    fs.mkdirSync(path.join(workspace, 'art'));
    fs.writeFileSync(path.join(workspace, 'art', 'a.png'), makePng(24, 24));
    fs.writeFileSync(path.join(workspace, 'art', 'b.png'), makePng(16, 16, (x, y) => [255, x * 10, y * 10, 255]));
  });

  afterEach(async () => {
    await standIn.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  const inputs = (extra: Record<string, string> = {}) => ({
    images: 'art/*.png',
    prompt: 'Make {name} look hand-drawn',
    'api-key': KEY,
    endpoint: standIn.url,
    ...extra
  });

  it('partial-images: 2 streams, logs each partial frame as progress, and writes the final image', async () => {
    const run = await runAction(workspace, inputs({ 'partial-images': '2' }));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.outputs['edited-count']).toBe('2');
    for (const name of ['a', 'b']) {
      expect(run.stdout).toMatch(new RegExp(`art/${name}\\.png: partial image 1 \\(\\d+ bytes\\)`));
      expect(run.stdout).toMatch(new RegExp(`art/${name}\\.png: partial image 2 \\(\\d+ bytes\\)`));
    }
    expect(run.stdout).not.toContain('partial image 3');
    const edits = standIn.requests.filter(r => r.kind === 'edit');
    expect(edits.map(r => [r.mode, r.fields.stream, r.fields.partial_images])).toEqual([
      ['stream', 'true', '2'],
      ['stream', 'true', '2']
    ]);
    const written = fs.readFileSync(path.join(workspace, 'art', 'a.edited.png'));
    expect(written.subarray(0, 4)).toEqual(PNG_MAGIC);
    expect(readPngHeader(written)).toMatchObject({ width: 24, height: 24 });
  });

  it('callback-url: the files are queued, task-ids are output, nothing is written', async () => {
    const before = listFiles(workspace);
    const hook = 'http://127.0.0.1:9/image-edit-hook';
    const run = await runAction(workspace, inputs({ 'callback-url': hook }));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const results = JSON.parse(run.outputs.results);
    expect(results.map((r: { status: string }) => r.status)).toEqual(['queued', 'queued']);
    const edits = standIn.requests.filter(r => r.kind === 'edit');
    expect(edits.map(r => r.fields.callback_url)).toEqual([hook, hook]);
    const taskIds = edits.map(r => r.taskId);
    expect(taskIds.every(id => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(run.outputs['task-ids'].split('\n').sort()).toEqual([...taskIds].sort());
    expect(results[0]['task-ids']).toHaveLength(1);
    expect(run.outputs['output-files']).toBe('');
    expect(run.outputs['edited-count']).toBe('0');
    expect(run.outputs['failed-count']).toBe('0');
    expect(run.summary).toContain('0 edited, 0 skipped, 0 failed, 2 queued');
    expect(listFiles(workspace)).toEqual(before);
  });

  it('async: submits tasks, polls the tasks endpoint until done, and writes the images', async () => {
    const run = await runAction(workspace, inputs({ async: 'true' }));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.outputs['edited-count']).toBe('2');
    expect(run.outputs['output-files'].split('\n')).toEqual(['art/a.edited.png', 'art/b.edited.png']);
    const edits = standIn.requests.filter(r => r.kind === 'edit');
    expect(edits.map(r => [r.mode, r.fields.async])).toEqual([
      ['async', 'true'],
      ['async', 'true']
    ]);
    const polls = standIn.requests.filter(r => r.kind === 'task');
    expect(polls.length).toBeGreaterThanOrEqual(2);
    expect(polls.every(p => p.method === 'POST' && p.path === '/openai/tasks' && p.authorized === true)).toBe(true);
    for (const edit of edits) expect(run.stdout).toContain(`task ${edit.taskId}`);
    // The polled task ids are reported too: per file in results, and all in task-ids.
    expect(run.outputs['task-ids'].split('\n').sort()).toEqual(edits.map(r => r.taskId).sort());
    const results = JSON.parse(run.outputs.results) as Array<{ status: string; 'task-ids'?: string[] }>;
    expect(results.map(r => [r.status, r['task-ids']?.length])).toEqual([
      ['edited', 1],
      ['edited', 1]
    ]);
    const written = fs.readFileSync(path.join(workspace, 'art', 'b.edited.png'));
    expect(readPngHeader(written)).toMatchObject({ width: 16, height: 16 });
  }, 60_000);

  it('dall-e-2 with response-format url: downloads the image (without the key) and writes it', async () => {
    const run = await runAction(workspace, inputs({ model: 'dall-e-2', 'response-format': 'url', n: '2' }));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.outputs['output-files'].split('\n')).toEqual([
      'art/a.edited-1.png',
      'art/a.edited-2.png',
      'art/b.edited-1.png',
      'art/b.edited-2.png'
    ]);
    for (const file of run.outputs['output-files'].split('\n')) {
      expect(fs.readFileSync(path.join(workspace, file)).subarray(0, 4)).toEqual(PNG_MAGIC);
    }
    const edits = standIn.requests.filter(r => r.kind === 'edit');
    expect(edits.map(r => r.fields.response_format)).toEqual(['url', 'url']);
    const downloads = standIn.requests.filter(r => r.kind === 'file');
    expect(downloads).toHaveLength(4);
    expect(downloads.every(d => d.method === 'GET' && !d.hasAuthorization)).toBe(true);
  });
});
