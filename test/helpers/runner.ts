/**
 * Runs the built action (dist/index.js) exactly as the GitHub runner does:
 * INPUT_* environment (with action.yml defaults), GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY files, GITHUB_WORKSPACE, GITHUB_EVENT_PATH.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { actionDefaults } from '../../scripts/action-defaults.mjs';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface RunnerResult {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

/** Parses a GITHUB_OUTPUT file (`name<<DELIM` blocks and `name=value` lines). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i]);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]);
      outputs[name] = value.join('\n');
    } else if (lines[i].includes('=')) {
      const at = lines[i].indexOf('=');
      outputs[lines[i].slice(0, at)] = lines[i].slice(at + 1);
    }
  }
  return outputs;
}

/** Runs `node dist/<entry>` with the given inputs (over action.yml's defaults) in `workspace`. */
export async function runAction(
  workspace: string,
  inputs: Record<string, string>,
  options: { env?: Record<string, string>; event?: object; eventName?: string; entry?: string; signalAfterMs?: number } = {}
): Promise<RunnerResult> {
  const script = path.join(ROOT, 'dist', options.entry ?? 'index.js');
  if (!fs.existsSync(script)) throw new Error(`${path.relative(ROOT, script)} is missing: run npm run build`);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-'));
  const outputFile = path.join(scratch, 'output');
  const summaryFile = path.join(scratch, 'summary');
  const eventFile = path.join(scratch, 'event.json');
  fs.writeFileSync(outputFile, '');
  fs.writeFileSync(summaryFile, '');
  fs.writeFileSync(eventFile, JSON.stringify(options.event ?? {}));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? scratch,
    NO_PROXY: '127.0.0.1,localhost',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_EVENT_NAME: options.eventName ?? 'workflow_dispatch',
    GITHUB_REPOSITORY: 'octo/repo',
    GITHUB_API_URL: 'http://127.0.0.1:9',
    GITHUB_SERVER_URL: 'https://github.com',
    RUNNER_TEMP: scratch,
    ...options.env
  };
  for (const [name, value] of Object.entries({ ...actionDefaults(path.join(ROOT, 'action.yml')), ...inputs })) {
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  }
  const child = spawn(process.execPath, [script], {
    cwd: workspace,
    env,
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', chunk => (stdout += chunk));
  child.stderr.on('data', chunk => (stderr += chunk));
  if (options.signalAfterMs !== undefined) setTimeout(() => child.kill('SIGTERM'), options.signalAfterMs);
  const code = await new Promise<number | null>(resolve => child.on('close', resolve));
  const result = {
    code,
    stdout,
    stderr,
    outputs: parseOutputFile(fs.readFileSync(outputFile, 'utf8')),
    summary: fs.readFileSync(summaryFile, 'utf8')
  };
  fs.rmSync(scratch, { recursive: true, force: true });
  return result;
}

/** Every file under `dir` (hidden ones too), as sorted POSIX paths relative to it. */
export function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter(entry => entry.isFile())
    .map(entry => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}
