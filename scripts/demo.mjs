#!/usr/bin/env node
/**
 * `npm run demo`: runs the BUILT action (dist/index.js) the way a GitHub runner
 * would, against the built-in stand-in endpoint: no API key, no network.
 *
 * 1. Starts the stand-in (stand-in/edit-endpoint.mjs) on 127.0.0.1, requiring the key `demo-key`.
 * 2. Wipes `.demo/`, copies examples/images and examples/prompt.txt into `.demo/workspace/`.
 * 3. Spawns `node dist/index.js` with the inputs as INPUT_* variables (every
 *    action.yml default too, as the runner passes them) and the runner's files
 *    (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP) under `.demo/`.
 * 4. Reads the step outputs, writes `.demo/index.html` (before/after per source),
 *    prints where everything is, and exits with the action's exit code.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startStandIn } from '../stand-in/edit-endpoint.mjs';
import { actionDefaults } from './action-defaults.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist', 'index.js');
const demo = path.join(root, '.demo');
const workspace = path.join(demo, 'workspace');
const DEMO_KEY = 'demo-key';
const MASK_TEMPLATE = '{dir}/{name}.mask.png';

/** action.yml defaults, in case action.yml cannot be read. */
const FALLBACK_DEFAULTS = {
  model: 'gpt-image-1',
  'allow-unknown-model': 'false',
  n: '1',
  async: 'false',
  endpoint: 'https://api.acedata.cloud/openai/images/edits',
  'allow-insecure-endpoint': 'false',
  'output-path': '{dir}/{name}.edited{variant}.{format}',
  overwrite: 'true',
  concurrency: '4',
  timeout: '600',
  'max-retries': '3',
  force: 'false',
  manifest: '.image-edits.json',
  shard: '1/1',
  'dry-run': 'false',
  'fail-on-error': 'true'
};

/** What the demo sets on top of the defaults. */
const DEMO_INPUTS = {
  images: 'images/*.png\n!images/*.mask.png',
  'prompt-file': 'prompt.txt',
  mask: MASK_TEMPLATE,
  'api-key': DEMO_KEY,
  model: 'gpt-image-1',
  'output-path': 'out/{name}.edited{variant}.{format}',
  manifest: '.image-edits.json',
  // There is no artifact service, repository or pull request on this machine:
  // keep delivery local (the job summary and .demo/index.html still show the results).
  'upload-artifact': 'false'
};

async function main() {
  if (!existsSync(dist)) {
    console.error('dist/index.js is missing: run npm run build first');
    return 1;
  }
  rmSync(demo, { recursive: true, force: true });
  mkdirSync(path.join(demo, 'tmp'), { recursive: true });
  mkdirSync(workspace, { recursive: true });
  cpSync(path.join(root, 'examples', 'images'), path.join(workspace, 'images'), { recursive: true });
  cpSync(path.join(root, 'examples', 'prompt.txt'), path.join(workspace, 'prompt.txt'));
  const outputFile = path.join(demo, 'github-output.txt');
  const summaryFile = path.join(demo, 'step-summary.md');
  const eventFile = path.join(demo, 'event.json');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  writeFileSync(eventFile, JSON.stringify({ inputs: {} }));

  const standIn = await startStandIn({ requireKey: DEMO_KEY });
  let code;
  try {
    const inputs = { ...FALLBACK_DEFAULTS, ...actionDefaultsOrNone(), ...DEMO_INPUTS, endpoint: standIn.url };
    const env = runnerEnv(inputs, { outputFile, summaryFile, eventFile });
    console.log(`Stand-in endpoint: ${standIn.url}`);
    console.log(`Running ${path.relative(process.cwd(), dist) || dist} in ${displayPath(workspace)}\n`);
    code = await run(process.execPath, [dist], { cwd: workspace, env });
  } finally {
    await standIn.close();
  }

  const outputs = parseGithubOutput(readFileSync(outputFile, 'utf8'));
  /** @type {any[] | undefined} */
  let results;
  try {
    results = outputs.results ? JSON.parse(outputs.results) : undefined;
  } catch {
    results = undefined;
  }
  const outputFiles = (outputs['output-files'] ?? '').split('\n').filter(Boolean);
  const index = path.join(demo, 'index.html');
  writeFileSync(index, renderIndex(results, outputFiles, outputs, code));

  const summaryText = readFileSync(summaryFile, 'utf8');
  console.log(`\nDemo finished: the action exited with code ${code}.`);
  console.log(
    `  edited ${outputs['edited-count'] ?? '?'}, skipped ${outputs['skipped-count'] ?? '?'}, failed ${outputs['failed-count'] ?? '?'}` +
      ` (${standIn.stats.edits} edit request(s) answered by the stand-in)`
  );
  console.log(`  outputs:      ${outputFiles.length} file(s) under ${displayPath(workspace)}${outputFiles.length ? '' : ' (none written)'}`);
  for (const file of outputFiles) console.log(`                ${displayPath(path.join(workspace, file))}`);
  console.log(`  job summary:  ${displayPath(summaryFile)}${summaryText.trim() ? '' : ' (empty)'}`);
  console.log(`  step outputs: ${displayPath(outputFile)}`);
  console.log(`  preview:      ${pathToFileURL(index).href}`);
  return code;
}

/** action.yml's input defaults; none when it cannot be read (the fallbacks then apply). */
function actionDefaultsOrNone() {
  try {
    return actionDefaults(path.join(root, 'action.yml'));
  } catch {
    return {};
  }
}

/**
 * The child's environment: this process's, minus anything a runner would set,
 * plus the inputs and the runner's files.
 * @param {Record<string, string>} inputs
 * @param {{outputFile: string, summaryFile: string, eventFile: string}} files
 */
function runnerEnv(inputs, files) {
  /** @type {Record<string, string>} */
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || /^(INPUT_|GITHUB_|ACTIONS_|RUNNER_|STATE_)/i.test(name)) continue;
    env[name] = value;
  }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  const noProxy = ['127.0.0.1', 'localhost', process.env.NO_PROXY ?? process.env.no_proxy].filter(Boolean).join(',');
  return {
    ...env,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: files.outputFile,
    GITHUB_STEP_SUMMARY: files.summaryFile,
    GITHUB_EVENT_PATH: files.eventFile,
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_REPOSITORY: 'demo/image-edit-demo',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SHA: '0000000000000000000000000000000000000000',
    GITHUB_RUN_ID: '1',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    RUNNER_TEMP: path.join(demo, 'tmp'),
    RUNNER_OS: { linux: 'Linux', darwin: 'macOS', win32: 'Windows' }[process.platform] ?? process.platform,
    NO_PROXY: noProxy,
    no_proxy: noProxy
  };
}

/**
 * Runs a command; resolves with its exit code (1 when killed by a signal). Its stdout is
 * shown as the runner shows a log: `::debug::` lines are hidden (set DEMO_DEBUG=1 to see them).
 * @param {string} command
 * @param {string[]} args
 * @param {{cwd: string, env: Record<string, string>}} options
 * @returns {Promise<number>}
 */
function run(command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'inherit'] });
    const debug = Boolean(process.env.DEMO_DEBUG);
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', chunk => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if ((debug || !line.startsWith('::debug::')) && !line.startsWith('::add-mask::')) process.stdout.write(`${line}\n`);
    });
    child.stdout.on('end', () => pending && process.stdout.write(`${pending}\n`));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (signal) console.error(`the action was stopped by ${signal}`);
      resolve(code ?? 1);
    });
  });
}

/**
 * Parses a GITHUB_OUTPUT file: `name<<DELIMITER` blocks and plain `name=value` lines.
 * @param {string} text
 * @returns {Record<string, string>}
 */
function parseGithubOutput(text) {
  /** @type {Record<string, string>} */
  const outputs = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const block = /^([^=<]+)<<(.+)$/.exec(lines[i]);
    if (block) {
      const [, name, delimiter] = block;
      const value = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]);
      outputs[name] = value.join('\n');
      continue;
    }
    const plain = /^([^=]+)=(.*)$/.exec(lines[i]);
    if (plain) outputs[plain[1]] = plain[2];
  }
  return outputs;
}

/**
 * Escapes text for HTML content and attribute values.
 * @param {unknown} value
 */
function html(value) {
  return String(value ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/**
 * The <img> of a workspace file, or a note when it is missing or outside the workspace.
 * @param {string} relative workspace-relative path (POSIX)
 * @param {string} label
 */
function image(relative, label) {
  const absolute = path.resolve(workspace, relative);
  if (!absolute.startsWith(workspace + path.sep) || !existsSync(absolute)) {
    return `<figure><div class="missing">not found</div><figcaption>${html(label)}: ${html(relative)}</figcaption></figure>`;
  }
  const src = ['workspace', ...path.relative(workspace, absolute).split(path.sep)].map(encodeURIComponent).join('/');
  return `<figure><a href="${html(src)}"><img src="${html(src)}" alt="${html(`${label}: ${relative}`)}"></a><figcaption>${html(label)}: ${html(relative)}</figcaption></figure>`;
}

/**
 * The mask the demo's template gives a source, when that file exists.
 * @param {string} source
 */
function maskOf(source) {
  const dir = path.posix.dirname(source);
  const name = path.posix.basename(source, path.posix.extname(source));
  const mask = MASK_TEMPLATE.replace('{dir}', dir).replace('{name}', name);
  return existsSync(path.join(workspace, mask)) ? mask : undefined;
}

/**
 * .demo/index.html: one row per source, before (and mask) beside after.
 * @param {any[] | undefined} results the `results` output
 * @param {string[]} outputFiles the `output-files` output
 * @param {Record<string, string>} outputs all step outputs
 * @param {number} code the action's exit code
 */
function renderIndex(results, outputFiles, outputs, code) {
  const rows = [];
  if (Array.isArray(results)) {
    for (const result of results) {
      const source = String(result.source ?? '');
      const mask = maskOf(source);
      const after = Array.isArray(result.outputs) ? result.outputs.map((/** @type {string} */ o, /** @type {number} */ k) => image(String(o), result.outputs.length > 1 ? `after ${k + 1}` : 'after')) : [];
      rows.push(`<section>
<h2>${html(source)} <span class="status ${html(result.status)}">${html(result.status)}</span></h2>
${result['revised-prompt'] ? `<p class="prompt">Revised prompt: ${html(result['revised-prompt'])}</p>` : ''}
${result.error ? `<p class="error">${html(result.error)}</p>` : ''}
<div class="row">${image(source, 'before')}${mask ? image(mask, 'mask') : ''}${after.join('') || '<p>No output image.</p>'}</div>
</section>`);
    }
  } else {
    rows.push(`<p>The action set no readable <code>results</code> output.</p>`);
    if (outputFiles.length) rows.push(`<div class="row">${outputFiles.map(file => image(file, 'output')).join('')}</div>`);
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Image edit demo</title>
<style>
body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem; color: #1f2328; }
section { border-top: 1px solid #d0d7de; padding: 1rem 0; }
h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
.row { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
figure { margin: 0; }
img { max-width: 360px; max-height: 360px; border: 1px solid #d0d7de;
  background: repeating-conic-gradient(#eee 0 25%, #fff 0 50%) 0 0 / 16px 16px; }
figcaption { font-size: .85rem; color: #59636e; }
.status { font-size: .8rem; padding: .1rem .5rem; border-radius: 1rem; background: #ddf4ff; }
.status.failed { background: #ffebe9; } .status.edited { background: #dafbe1; }
.error { color: #d1242f; } .prompt { color: #59636e; }
.missing { width: 160px; height: 100px; display: grid; place-items: center; border: 1px dashed #d0d7de; }
</style>
</head>
<body>
<h1>Image edit demo</h1>
<p>The action exited with code ${html(code)}: edited ${html(outputs['edited-count'] ?? '?')}, skipped ${html(outputs['skipped-count'] ?? '?')}, failed ${html(outputs['failed-count'] ?? '?')}.
Edits came from the built-in stand-in endpoint (sepia tone and a coloured frame where the mask allows), not from a real model.</p>
${rows.join('\n')}
</body>
</html>
`;
}

/** @param {string} file */
function displayPath(file) {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') ? relative : file;
}

main().then(
  code => {
    process.exitCode = code;
  },
  error => {
    console.error(`demo failed: ${error instanceof Error ? error.stack : String(error)}`);
    process.exitCode = 1;
  }
);
