/**
 * The API key never leaves the process: dist/index.js run through faults that
 * echo the key back (API errors, bodies, broken JSON, event streams, input
 * problems), with stdout, stderr, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY searched
 * for the key and for any 12-character piece of it.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startStandIn, type RequestSummary, type StandIn } from '../stand-in/edit-endpoint.mjs';
import { makePng } from './helpers/images.js';
import { ROOT, runAction, type RunnerResult } from './helpers/runner.js';

const KEY = 'sk-leak-Q7v9ZpX2mW4tR8yB3nK6hJ5d';
const PIECE = 12;

type Intercept = (summary: RequestSummary) => undefined | { status: number; body?: unknown; headers?: Record<string, string> };

/**
 * The key appears only in the one `::add-mask::` line (which the runner consumes,
 * and which comes first); nowhere else is there even a 12-character piece of it.
 */
function expectNoKey(run: RunnerResult): void {
  const lines = run.stdout.split('\n');
  const masks = lines.filter(line => line.startsWith('::add-mask::'));
  expect(masks).toEqual([`::add-mask::${KEY}`]);
  expect(lines[0]).toBe(masks[0]);
  const shown = lines.filter(line => !line.startsWith('::add-mask::')).join('\n');
  const texts: Record<string, string> = {
    stdout: shown,
    stderr: run.stderr,
    summary: run.summary,
    outputs: JSON.stringify(run.outputs)
  };
  for (const [where, text] of Object.entries(texts)) {
    for (let i = 0; i + PIECE <= KEY.length; i++) {
      const piece = KEY.slice(i, i + PIECE);
      if (text.includes(piece)) throw new Error(`${where} holds "${piece}", a piece of the key:\n${text}`);
    }
  }
}

describe('the API key never leaks', () => {
  let standIn: StandIn;
  let workspace: string;
  let intercept: Intercept | undefined;

  beforeAll(() => {
    if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) throw new Error('dist/index.js is missing: run npm run build');
  });

  beforeEach(async () => {
    intercept = undefined;
    standIn = await startStandIn({ intercept: summary => intercept?.(summary) });
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'key-leak-'));
    fs.mkdirSync(path.join(workspace, 'art'));
    fs.writeFileSync(path.join(workspace, 'art', 'a.png'), makePng(16, 16));
    fs.writeFileSync(path.join(workspace, 'art', 'b.png'), makePng(8, 8));
  });

  afterEach(async () => {
    await standIn.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  const inputs = (extra: Record<string, string> = {}) => ({
    images: 'art/*.png',
    prompt: 'Make {name} blue',
    'api-key': KEY,
    endpoint: standIn.url,
    'max-retries': '0',
    ...extra
  });

  it('a 401 whose message echoes the key', async () => {
    intercept = () => ({
      status: 401,
      body: { error: { message: `Incorrect API key provided: ${KEY}. Find your key in the dashboard.`, type: 'invalid_request_error', code: 'invalid_api_key' } }
    });
    const run = await runAction(workspace, inputs());
    expect(run.code).toBe(1);
    expect(run.outputs['failed-count']).toBe('2');
    expect(run.stdout).toContain('Incorrect API key provided: ***');
    expect(run.summary).toContain('Incorrect API key provided: &#42;&#42;&#42;');
    expect(JSON.parse(run.outputs.results)[0].error).toContain('HTTP 401: Incorrect API key provided: ***');
    expectNoKey(run);
  });

  it('a 500 with the key in a plain-text body, retried (the retry line too)', async () => {
    intercept = () => ({ status: 500, body: `upstream failed for Authorization: Bearer ${KEY} (try again)` });
    const run = await runAction(workspace, inputs({ 'max-retries': '1', concurrency: '2' }));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/attempt 1 failed/);
    expect(run.stdout).toContain('Bearer ***');
    expect(standIn.requests).toHaveLength(4);
    expectNoKey(run);
  }, 60_000);

  it('a key where an error message is cut short (a piece at the cut)', async () => {
    // a.png: the key straddles the 200th character of a plain body, where it is cut (and retried);
    // b.png: it straddles the 1000th character of a JSON error message, where that is cut.
    intercept = summary =>
      summary.files[0]?.filename === 'a.png'
        ? { status: 503, body: `${'x'.repeat(180)}${KEY} and more text after the key` }
        : { status: 400, body: { error: { message: `${'y'.repeat(990)}${KEY} and more` } } };
    const run = await runAction(workspace, inputs({ 'max-retries': '1' }));
    expect(run.code).toBe(1);
    expect(run.outputs['failed-count']).toBe('2');
    expect(run.stdout).toMatch(/art\/a\.png: attempt 1 failed \(HTTP 503: x+\*\*\* and more text af…/);
    expect(run.stdout).toMatch(/art\/b\.png: HTTP 400: y+\*\*\* and mo…/);
    expectNoKey(run);
  }, 60_000);

  it('a 200 answer that is not valid JSON and holds the key', async () => {
    intercept = () => ({
      status: 200,
      body: `{"created": 1, "data": [{"b64_json": "${KEY}`,
      headers: { 'content-type': 'application/json' }
    });
    const run = await runAction(workspace, inputs());
    expect(run.code).toBe(1);
    expect(run.outputs['failed-count']).toBe('2');
    expectNoKey(run);
  });

  it('an event stream whose error event echoes the key', async () => {
    intercept = () => ({
      status: 200,
      body: `event: error\ndata: ${JSON.stringify({ type: 'error', error: { message: `key ${KEY} is not allowed to stream` } })}\n\n`,
      headers: { 'content-type': 'text/event-stream' }
    });
    const run = await runAction(workspace, inputs({ 'partial-images': '1' }));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('key *** is not allowed');
    expectNoKey(run);
  });

  it('input errors that quote a value holding the key', async () => {
    const run = await runAction(
      workspace,
      inputs({ endpoint: `http://example.com/openai/images/edits?token=${KEY}`, prompt: `use ${KEY} on {colour}` })
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('::error::');
    expect(run.stdout).toContain('example.com');
    expect(run.stdout).toContain('{colour}');
    expect(standIn.requests).toHaveLength(0);
    expectNoKey(run);
  });

  it('a plan problem naming a file whose name holds the key', async () => {
    fs.writeFileSync(path.join(workspace, 'art', `${KEY}.png`), 'not an image');
    const run = await runAction(workspace, inputs());
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('art/***.png');
    expect(standIn.requests).toHaveLength(0);
    expectNoKey(run);
  });

  it('a dry run with a key', async () => {
    const run = await runAction(workspace, inputs({ 'dry-run': 'true' }));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/2 request\(s\) would be sent/);
    expect(standIn.requests).toHaveLength(0);
    expectNoKey(run);
  });
});
