/**
 * The built CLI (dist/cli/index.js) as a user runs it, against the stand-in.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startStandIn, type StandIn } from '../stand-in/edit-endpoint.mjs';
import { makePng } from './helpers/images.js';
import { listFiles, ROOT } from './helpers/runner.js';

const KEY = 'sk-cli-test-SECRET-0123456789';
const CLI = path.join(ROOT, 'dist', 'cli', 'index.js');
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in `cwd` with only the environment given (plus PATH and HOME). */
async function runCli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd, NO_PROXY: '127.0.0.1,localhost', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', chunk => (stdout += chunk));
  child.stderr.on('data', chunk => (stderr += chunk));
  const code = await new Promise<number | null>(resolve => child.on('close', resolve));
  return { code, stdout, stderr };
}

describe('dist/cli/index.js', () => {
  let standIn: StandIn;
  let workspace: string;

  beforeAll(() => {
    if (!fs.existsSync(CLI)) throw new Error('dist/cli/index.js is missing: run npm run build');
  });

  beforeEach(async () => {
    standIn = await startStandIn({ requireKey: KEY });
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'));
    fs.mkdirSync(path.join(workspace, 'art'));
    fs.writeFileSync(path.join(workspace, 'art', 'a.png'), makePng(16, 16));
    fs.writeFileSync(path.join(workspace, 'art', 'b.png'), makePng(8, 8));
  });

  afterEach(async () => {
    await standIn.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  const base = (): string[] => ['--images', 'art/*.png', '--prompt', 'Make {name} blue', '--endpoint', standIn.url];

  it('--help prints the usage and exits 0', async () => {
    const run = await runCli(['--help'], workspace);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: image-edit --images GLOB/);
    expect(run.stdout).toContain('Exit status: 0 all good, 1 a file failed, 2 bad input.');
    expect(run.stderr).toBe('');
  });

  it('an unknown flag exits 2 and names it', async () => {
    const run = await runCli([...base(), '--colour', 'blue'], workspace);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("'--colour'");
    expect(run.stderr).toContain('usage:');
    expect(standIn.requests).toHaveLength(0);
  });

  it('bad input exits 2 with every problem on stderr; nothing is sent or written', async () => {
    const before = listFiles(workspace);
    const run = await runCli([...base(), '--model', 'gpt-5', '--n', '11', '--output-path', '{dir}/{stem}.png'], workspace, {
      IMAGE_EDIT_API_KEY: KEY
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('gpt-5');
    expect(run.stderr).toMatch(/n: .*11/);
    expect(run.stderr).toContain('{stem}');
    expect(run.stdout).not.toContain('gpt-5');
    expect(standIn.requests).toHaveLength(0);
    expect(listFiles(workspace)).toEqual(before);
  });

  it('a file that is not an image is bad input too (exit 2), found before any request', async () => {
    fs.writeFileSync(path.join(workspace, 'art', 'c.png'), 'text, not a PNG');
    const run = await runCli(base(), workspace, { IMAGE_EDIT_API_KEY: KEY });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('art/c.png');
    expect(standIn.requests).toHaveLength(0);
  });

  it('edits the files with the key from IMAGE_EDIT_API_KEY, exits 0, and never prints the key', async () => {
    const run = await runCli(base(), workspace, { IMAGE_EDIT_API_KEY: KEY });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('2 edited, 0 skipped, 0 failed');
    expect(standIn.requests.filter(r => r.authorized)).toHaveLength(2);
    for (const output of ['art/a.edited.png', 'art/b.edited.png']) {
      expect(fs.readFileSync(path.join(workspace, output)).subarray(0, 4)).toEqual(PNG_MAGIC);
    }
    expect(fs.existsSync(path.join(workspace, '.image-edits.json'))).toBe(true);
    expect(run.stdout + run.stderr).not.toContain(KEY);
    expect(run.stdout).not.toContain('::');
  });

  it('--workspace points at the folder the globs are relative to', async () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-cwd-'));
    try {
      const run = await runCli([...base(), '--workspace', workspace], elsewhere, { IMAGE_EDIT_API_KEY: KEY });
      expect(run.code).toBe(0);
      expect(fs.existsSync(path.join(workspace, 'art', 'a.edited.png'))).toBe(true);
      expect(fs.readdirSync(elsewhere)).toEqual([]);
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('--json prints the results array alone on stdout (the log goes to stderr)', async () => {
    const run = await runCli([...base(), '--json', '--n', '2'], workspace, { IMAGE_EDIT_API_KEY: KEY });
    expect(run.code).toBe(0);
    const results = JSON.parse(run.stdout);
    expect(results).toEqual([
      expect.objectContaining({ source: 'art/a.png', status: 'edited', outputs: ['art/a.edited-1.png', 'art/a.edited-2.png'], attempts: 1 }),
      expect.objectContaining({ source: 'art/b.png', status: 'edited', outputs: ['art/b.edited-1.png', 'art/b.edited-2.png'], attempts: 1 })
    ]);
    expect(typeof results[0]['duration-ms']).toBe('number');
    expect(results[0]['revised-prompt']).toContain('Make a blue');
    expect(run.stderr).toContain('2 edited, 0 skipped, 0 failed');
  });

  it('--json inside a workflow: the ::add-mask:: command goes to stderr, stdout stays JSON', async () => {
    const run = await runCli([...base(), '--json'], workspace, { IMAGE_EDIT_API_KEY: KEY, GITHUB_ACTIONS: 'true' });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toHaveLength(2);
    expect(run.stdout).not.toContain(KEY);
    expect(run.stderr.split('\n')[0]).toBe(`::add-mask::${KEY}`);
  });

  it('--dry-run needs no key, prints the plan, and sends and writes nothing', async () => {
    const before = listFiles(workspace);
    const run = await runCli([...base(), '--dry-run'], workspace);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('art/a.png → art/a.edited.png');
    expect(run.stdout).toMatch(/2 request\(s\) would be sent/);
    expect(run.stdout).not.toMatch(/\d+ edited/);
    expect(standIn.requests).toHaveLength(0);
    expect(listFiles(workspace)).toEqual(before);
  });

  it('a boolean flag alone means true (--force edits again what the manifest skips)', async () => {
    const first = await runCli(base(), workspace, { IMAGE_EDIT_API_KEY: KEY });
    expect(first.code).toBe(0);
    const again = await runCli(base(), workspace, { IMAGE_EDIT_API_KEY: KEY });
    expect(again.stdout).toContain('0 edited, 2 skipped, 0 failed');
    expect(standIn.requests).toHaveLength(2);
    // --force last (nothing after it) and in the middle (another flag after it).
    const forced = await runCli([...base(), '--force'], workspace, { IMAGE_EDIT_API_KEY: KEY });
    expect(forced.stdout).toContain('2 edited, 0 skipped, 0 failed');
    const forcedMiddle = await runCli(['--force', ...base()], workspace, { IMAGE_EDIT_API_KEY: KEY });
    expect(forcedMiddle.stdout).toContain('2 edited, 0 skipped, 0 failed');
    const notForced = await runCli([...base(), '--force=false'], workspace, { IMAGE_EDIT_API_KEY: KEY });
    expect(notForced.stdout).toContain('0 edited, 2 skipped, 0 failed');
    expect(standIn.requests).toHaveLength(6);
  }, 60_000);

  it('a failed file exits 1 with its error on stderr; --fail-on-error false exits 0', async () => {
    const run = await runCli([...base(), '--max-retries', '0'], workspace, { IMAGE_EDIT_API_KEY: 'wrong-key-123456' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/art\/a\.png: HTTP 401/);
    expect(run.stdout).toContain('0 edited, 0 skipped, 2 failed');
    const lenient = await runCli([...base(), '--max-retries', '0', '--fail-on-error', 'false'], workspace, {
      IMAGE_EDIT_API_KEY: 'wrong-key-123456'
    });
    expect(lenient.code).toBe(0);
    expect(lenient.stderr).toMatch(/art\/a\.png: HTTP 401/);
  }, 60_000);

  it('prints no ::debug:: workflow commands (from @actions/glob) on stdout or stderr', async () => {
    const run = await runCli([...base(), '--dry-run'], workspace);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('::debug::');
    expect(run.stderr).not.toContain('::debug::');
    const verbose = await runCli([...base(), '--dry-run', '--verbose', '--json'], workspace);
    expect(verbose.code).toBe(0);
    expect(() => JSON.parse(verbose.stdout)).not.toThrow();
    expect(verbose.stderr).toContain('debug: ');
    expect(verbose.stderr).not.toContain('::debug::');
  });

  it('--summary writes the Markdown summary', async () => {
    const summary = path.join(workspace, 'summary.md');
    const run = await runCli([...base(), '--summary', summary], workspace, { IMAGE_EDIT_API_KEY: KEY });
    expect(run.code).toBe(0);
    const text = fs.readFileSync(summary, 'utf8');
    expect(text).toContain('<code>art/a.png</code>');
    expect(text).toContain('**2 edited, 0 skipped, 0 failed**');
  });
});
