#!/usr/bin/env node
/**
 * `npm run bench`: measures the built action (dist/) against the stand-in
 * endpoint, next to what a user would otherwise write — a curl loop and a
 * loop on the official `openai` SDK — in the same run, on the same stand-in.
 *
 * Scenarios (sizes configurable, see `--help`):
 *   latency     64 files of 1 MB, 300 ms latency, concurrency 8: wall, efficiency, vs curl, vs SDK
 *   throughput  500 files of 64 KB, zero latency, concurrency 16: files/s, ms per file
 *   memory      16 files of 1 MB, then of 40 MB, concurrency 8: peak RSS and its growth
 *   coldstart   `node dist/index.js` dry-run of one file minus a bare `node -e ''` (medians)
 *   size        bytes of dist/
 *
 * The stand-in runs in its own child process (stand-in/edit-endpoint.mjs), and so
 * does every measured tool, so neither's memory or CPU mixes with the other's.
 * Wall time is measured here, from spawn to exit. Peak RSS, CPU time and the
 * request phase (first request sent → last answer read) of a Node child come from
 * a preload (bench/probe.mjs); the curl loop's RSS and CPU from `/usr/bin/time`.
 * A "floor" row (bench/floor-client.mjs: bodies in memory, answers parsed and
 * dropped) shows the best any client can do against the stand-in on this machine.
 *
 * Prints a Markdown table and writes bench/results.json (`--quick`: a smoke run
 * on small sizes that writes bench/work/results-quick.json instead).
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { encodePng, padPng } from '../stand-in/png.mjs';
import { actionDefaults } from '../scripts/action-defaults.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = path.join(root, 'bench');
const workRoot = path.join(benchDir, 'work');
/** The build measured: dist/ unless `--dist DIR` (or BENCH_DIST) names another ncc output folder. */
let distDir = path.join(root, 'dist');
let distAction = path.join(distDir, 'index.js');
let distCli = path.join(distDir, 'cli', 'index.js');
const standInScript = path.join(root, 'stand-in', 'edit-endpoint.mjs');
const sdkScript = path.join(benchDir, 'sdk-loop.mjs');
const floorScript = path.join(benchDir, 'floor-client.mjs');
const probePreload = pathToFileURL(path.join(benchDir, 'probe.mjs')).href;
const API_KEY = 'bench-key';
const PROMPT = 'Redraw {name} as a flat pastel illustration; keep the composition';
const SDK_PROMPT = 'Redraw it as a flat pastel illustration; keep the composition';
const MB = 1024 * 1024;

/** Every size the bench uses: flag `--name`, environment `BENCH_NAME`; `quick` is the `--quick` value. */
const SETTINGS = {
  files: { full: 64, quick: 16, help: 'latency scenario: files' },
  'latency-ms': { full: 300, quick: 300, help: 'latency scenario: stand-in latency per request (ms)' },
  concurrency: { full: 8, quick: 8, help: 'latency scenario: concurrency' },
  'input-kb': { full: 1024, quick: 256, help: 'latency scenario: size of each input (KB)' },
  'tp-files': { full: 500, quick: 100, help: 'throughput scenario: files (zero latency)' },
  'tp-concurrency': { full: 16, quick: 16, help: 'throughput scenario: concurrency' },
  'tp-input-kb': { full: 64, quick: 64, help: 'throughput scenario: size of each input (KB)' },
  'mem-files': { full: 16, quick: 8, help: 'memory scenario: files' },
  'mem-concurrency': { full: 8, quick: 8, help: 'memory scenario: concurrency' },
  'mem-small-mb': { full: 1, quick: 1, help: 'memory scenario: size of each small input (MB)' },
  'mem-large-mb': { full: 40, quick: 16, help: 'memory scenario: size of each large input (MB)' },
  'mem-latency-ms': { full: 300, quick: 300, help: 'memory scenario: stand-in latency (ms)' },
  'answer-bytes': { full: 2 * 1024 * 1024, quick: 2 * 1024 * 1024, help: 'size of the PNG in every answer (bytes; sent as base64)' },
  repeat: { full: 5, quick: 1, help: 'runs of each timed row (the median is reported)' },
  'cold-runs': { full: 15, quick: 5, help: 'runs of each cold-start command (the median is reported)' }
};
const SCENARIOS = ['latency', 'throughput', 'memory', 'coldstart', 'size'];
/** The folders under bench/work/ that the scenarios make (and remove unless --keep). */
const WORK_DIRS = ['latency', 'throughput', 'memory-small', 'memory-large', 'coldstart'];

const USAGE = `usage: npm run bench [-- options]

  --quick            smoke run on small sizes (writes bench/work/results-quick.json)
  --only LIST        comma-separated scenarios: ${SCENARIOS.join(', ')}
  --no-curl          skip the curl loop rows
  --no-sdk           skip the SDK loop rows
  --keep             keep bench/work/ (inputs, outputs, logs) afterwards
  --out FILE         where to write the results (default bench/results.json)
  --dist DIR         measure the build in DIR instead of dist/ (env BENCH_DIST)
  --report FILE      measure nothing: print the tables of a results file (e.g. bench/results.json)
${Object.entries(SETTINGS)
  .map(([name, s]) => `  --${name} N`.padEnd(22) + `${s.help} [${s.full}; quick ${s.quick}] (env BENCH_${envName(name)})`)
  .join('\n')}`;

function envName(name) {
  return name.toUpperCase().replace(/-/g, '_');
}

/** Parses flags; sizes come from flags, then BENCH_* variables, then the full/quick defaults. */
function parseOptions(argv) {
  const flags = {
    quick: false,
    only: SCENARIOS,
    curl: true,
    sdk: true,
    keep: false,
    out: undefined,
    dist: process.env.BENCH_DIST || undefined,
    report: undefined,
    help: false
  };
  const given = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    const value = () => {
      const v = inline !== undefined ? inline : argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--quick') flags.quick = true;
    else if (flag === '--keep') flags.keep = true;
    else if (flag === '--no-curl') flags.curl = false;
    else if (flag === '--no-sdk') flags.sdk = false;
    else if (flag === '--help' || flag === '-h') flags.help = true;
    else if (flag === '--out') flags.out = path.resolve(value());
    else if (flag === '--dist') flags.dist = value();
    else if (flag === '--report') flags.report = path.resolve(value());
    else if (flag === '--only') {
      flags.only = value().split(',').map(s => s.trim()).filter(Boolean);
      const unknown = flags.only.filter(s => !SCENARIOS.includes(s));
      if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
    } else if (flag.startsWith('--') && flag.slice(2) in SETTINGS) given[flag.slice(2)] = value();
    else throw new Error(`unknown argument ${JSON.stringify(argv[i])} (try --help)`);
  }
  const sizes = {};
  for (const [name, spec] of Object.entries(SETTINGS)) {
    const raw = given[name] ?? process.env[`BENCH_${envName(name)}`];
    const fallback = flags.quick ? spec.quick : spec.full;
    const number = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isFinite(number) || number < 0 || (name !== 'latency-ms' && name !== 'mem-latency-ms' && number <= 0)) {
      throw new Error(`--${name} (BENCH_${envName(name)}) must be a positive number, got ${JSON.stringify(raw)}`);
    }
    sizes[name] = number;
  }
  flags.out ??= flags.quick ? path.join(workRoot, 'results-quick.json') : path.join(benchDir, 'results.json');
  return { ...flags, sizes };
}

// ---------------------------------------------------------------- processes

/** A stand-in endpoint in its own process; resolves once it listens. */
async function startStandIn({ latencyMs, answerBytes }) {
  const child = spawn(
    process.execPath,
    [standInScript, '--port', '0', '--latency', String(latencyMs), '--answer-bytes', String(answerBytes), '--require-key', API_KEY],
    { stdio: ['ignore', 'pipe', 'inherit'] }
  );
  const url = await new Promise((resolve, reject) => {
    let text = '';
    const onData = chunk => {
      text += chunk;
      const match = /listening on (\S+)/.exec(text);
      if (match) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve(match[1]);
      }
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.once('exit', code => reject(new Error(`the stand-in exited (code ${code}) before it listened`)));
    child.once('error', reject);
  });
  const { origin } = new URL(url);
  return {
    url,
    origin,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  };
}

/**
 * Runs a command to its end; its output goes to `logFile`. Resolves with the
 * exit code, the wall time (ms, from spawn to exit, as the parent sees it) and
 * what the child's probe wrote to `probeFile` (bench/probe.mjs JSON, or the
 * `/usr/bin/time -f '%M %U %S'` line of the curl loop): peak RSS (KB), CPU time
 * (ms) and the request phase.
 */
async function runTimed(command, args, { cwd, env, logFile, probeFile }) {
  if (probeFile) fs.rmSync(probeFile, { force: true });
  const log = fs.openSync(logFile, 'w');
  const started = process.hrtime.bigint();
  let code;
  try {
    const child = spawn(command, args, { cwd, env: { ...env, ...(probeFile && { BENCH_PROBE_FILE: probeFile }) }, stdio: ['ignore', log, log] });
    [code] = await Promise.race([once(child, 'exit'), once(child, 'error').then(([error]) => Promise.reject(error))]);
  } finally {
    fs.closeSync(log);
  }
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const run = { code, wallMs, maxRssKb: undefined, cpuMs: undefined, requestPhaseMs: undefined, maxInFlight: undefined };
  if (probeFile && fs.existsSync(probeFile)) {
    const text = fs.readFileSync(probeFile, 'utf8').trim();
    if (text.startsWith('{')) {
      const probe = JSON.parse(text);
      run.maxRssKb = probe.maxRssKb;
      run.cpuMs = probe.cpuMs;
      const r = probe.requests;
      if (r?.count && r.firstStartMs !== null && r.lastEndMs !== null) run.requestPhaseMs = r.lastEndMs - r.firstStartMs;
      run.maxInFlight = r?.maxInFlight;
    } else {
      const [rss, user, system] = text.split('\n').pop().trim().split(/\s+/).map(Number);
      run.maxRssKb = rss;
      run.cpuMs = Math.round((user + system) * 1000);
    }
  }
  return run;
}

/** The environment of a child: this process's, without anything a runner would set. */
function cleanEnv() {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || /^(INPUT_|GITHUB_|ACTIONS_|RUNNER_|STATE_|BENCH_|OPENAI_)/i.test(name)) continue;
    env[name] = value;
  }
  const noProxy = ['127.0.0.1', 'localhost', process.env.NO_PROXY ?? process.env.no_proxy].filter(Boolean).join(',');
  return { ...env, NO_PROXY: noProxy, no_proxy: noProxy };
}

/** The environment of `node dist/index.js` as a GitHub runner gives it: INPUT_* variables and the runner's files. */
function runnerEnv(inputs, dir) {
  const env = cleanEnv();
  for (const [name, value] of Object.entries({ ...actionDefaults(path.join(root, 'action.yml')), ...inputs })) {
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  }
  const files = { output: path.join(dir, 'github-output.txt'), summary: path.join(dir, 'step-summary.md'), event: path.join(dir, 'event.json') };
  fs.writeFileSync(files.output, '');
  fs.writeFileSync(files.summary, '');
  fs.writeFileSync(files.event, JSON.stringify({ inputs: {} }));
  fs.mkdirSync(path.join(dir, 'runner-temp'), { recursive: true });
  return {
    ...env,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: path.join(dir, 'ws'),
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_EVENT_PATH: files.event,
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_REPOSITORY: 'bench/image-edit-bench',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SHA: '0000000000000000000000000000000000000000',
    GITHUB_RUN_ID: '1',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    RUNNER_TEMP: path.join(dir, 'runner-temp'),
    RUNNER_OS: 'Linux'
  };
}

// ---------------------------------------------------------------- inputs

/**
 * Writes `count` distinct valid PNGs of about `bytes` each into `dir` (a small
 * image, different per file, padded with a private chunk of incompressible bytes).
 */
function makeInputs(dir, count, bytes) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const side = 32;
  for (let i = 0; i < count; i++) {
    const rgba = Buffer.alloc(side * side * 4);
    for (let p = 0; p < side * side; p++) {
      rgba[p * 4] = (i * 37 + p) & 0xff;
      rgba[p * 4 + 1] = (i * 11) & 0xff;
      rgba[p * 4 + 2] = (p * 3) & 0xff;
      rgba[p * 4 + 3] = 255;
    }
    fs.writeFileSync(path.join(dir, `img-${String(i).padStart(4, '0')}.png`), padPng(encodePng({ width: side, height: side, rgba }), bytes));
  }
}

/** Number and total size of `.png` files in `dir`. */
function countOutputs(dir) {
  if (!fs.existsSync(dir)) return { count: 0, bytes: 0 };
  let count = 0;
  let bytes = 0;
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith('.png')) continue;
    count++;
    bytes += fs.statSync(path.join(dir, name)).size;
  }
  return { count, bytes };
}

// ---------------------------------------------------------------- the three tools

/** Ours: the built action, `node dist/index.js`, with INPUT_* variables as the runner runs it. */
async function runOurs(scenarioDir, standIn, concurrency, label) {
  const ws = path.join(scenarioDir, 'ws');
  const out = path.join(ws, 'out');
  fs.rmSync(out, { recursive: true, force: true });
  fs.rmSync(path.join(ws, '.image-edits.json'), { force: true });
  const env = runnerEnv(
    {
      images: 'in/*.png',
      prompt: PROMPT,
      'api-key': API_KEY,
      endpoint: standIn.url,
      concurrency: String(concurrency),
      'output-path': 'out/{name}.edited.{format}',
      // No artifact service here: the comparison is the edits themselves.
      'upload-artifact': 'false'
    },
    scenarioDir
  );
  const run = await runTimed(process.execPath, ['--import', probePreload, distAction], {
    cwd: ws,
    env,
    logFile: path.join(scenarioDir, `${label}.log`),
    probeFile: path.join(scenarioDir, `${label}.probe.json`)
  });
  return { ...run, outputs: countOutputs(out) };
}

/** The SDK loop: bench/sdk-loop.mjs on the `openai` client, same concurrency. */
async function runSdk(scenarioDir, standIn, concurrency, label) {
  const out = path.join(scenarioDir, 'sdk-out');
  fs.rmSync(out, { recursive: true, force: true });
  const run = await runTimed(
    process.execPath,
    [
      '--import',
      probePreload,
      sdkScript,
      '--in',
      path.join(scenarioDir, 'ws', 'in'),
      '--out',
      out,
      '--base-url',
      `${standIn.origin}/v1`,
      '--concurrency',
      String(concurrency),
      '--prompt',
      SDK_PROMPT
    ],
    {
      cwd: root,
      env: { ...cleanEnv(), BENCH_API_KEY: API_KEY },
      logFile: path.join(scenarioDir, `${label}.log`),
      probeFile: path.join(scenarioDir, `${label}.probe.json`)
    }
  );
  return { ...run, outputs: countOutputs(out) };
}

/** The floor: bench/floor-client.mjs, the least a client can do (see there). */
async function runFloor(scenarioDir, standIn, concurrency, label, { files, inputBytes }) {
  const run = await runTimed(
    process.execPath,
    [
      '--import',
      probePreload,
      floorScript,
      '--url',
      standIn.url,
      '--files',
      String(files),
      '--concurrency',
      String(concurrency),
      '--input-bytes',
      String(inputBytes)
    ],
    {
      cwd: root,
      env: { ...cleanEnv(), BENCH_API_KEY: API_KEY },
      logFile: path.join(scenarioDir, `${label}.log`),
      probeFile: path.join(scenarioDir, `${label}.probe.json`)
    }
  );
  // Nothing is written: count the answers it reports instead.
  const last = fs.readFileSync(path.join(scenarioDir, `${label}.log`), 'utf8').trim().split('\n').pop() ?? '';
  let ok = 0;
  try {
    ok = JSON.parse(last).ok;
  } catch {
    ok = 0;
  }
  return { ...run, outputs: { count: ok, bytes: 0 } };
}

/** The curl loop: one file after another, `curl -F image=@… | jq | base64 -d`. */
const CURL_LOOP = `set -euo pipefail
for f in "$IN"/*.png; do
  name="\${f##*/}"
  curl -sS --fail-with-body -H "Authorization: Bearer $KEY" \\
    -F model=gpt-image-1 -F "prompt=$PROMPT" -F "image=@$f" "$URL" \\
    | jq -r '.data[0].b64_json' | base64 -d > "$OUT/\${name%.png}.edited.png"
done`;

async function runCurl(scenarioDir, standIn, label) {
  const out = path.join(scenarioDir, 'curl-out');
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const probeFile = path.join(scenarioDir, `${label}.time.txt`);
  const withTime = fs.existsSync('/usr/bin/time');
  const args = withTime ? ['-f', '%M %U %S', '-o', probeFile, 'bash', '-c', CURL_LOOP] : ['-c', CURL_LOOP];
  const run = await runTimed(withTime ? '/usr/bin/time' : 'bash', args, {
    cwd: scenarioDir,
    env: { ...cleanEnv(), IN: path.join(scenarioDir, 'ws', 'in'), OUT: out, URL: standIn.url, KEY: API_KEY, PROMPT: SDK_PROMPT },
    logFile: path.join(scenarioDir, `${label}.log`),
    probeFile: withTime ? probeFile : undefined
  });
  return { ...run, outputs: countOutputs(out) };
}

/** Which of curl, jq, base64 and bash are missing (the curl row needs all four). */
function missingShellTools() {
  return ['curl', 'jq', 'base64', 'bash'].filter(tool => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0);
}

// ---------------------------------------------------------------- scenarios

/** The median of a non-empty list of numbers. */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Checks a run: exit 0 and every output written; otherwise throws with the log's tail. */
function checkRun(run, expected, what, logFile) {
  if (run.code === 0 && run.outputs.count === expected) return;
  const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '(no log)';
  throw new Error(`${what}: exit code ${run.code}, ${run.outputs.count} of ${expected} outputs written. Log tail (${logFile}):\n${tail}`);
}

/**
 * Runs each tool `repeat` times, interleaved so that drift on the machine hits
 * all alike (the curl loop once: it is slow), and returns one row per tool with
 * medians: wall, CPU, request phase; peak RSS is the largest of the runs.
 */
async function timedRows(scenarioDir, standIn, { files, concurrency, inputBytes, repeat, curl, sdk, name }) {
  const runs = { ours: [], sdk: [], floor: [], curl: [] };
  const tools = [
    ['ours', 'ours', () => runOurs(scenarioDir, standIn, concurrency, label('ours'))],
    ...(sdk ? [['sdk', 'SDK loop', () => runSdk(scenarioDir, standIn, concurrency, label('sdk'))]] : []),
    ['floor', 'floor', () => runFloor(scenarioDir, standIn, concurrency, label('floor'), { files, inputBytes })]
  ];
  let round_ = 0;
  function label(tool) {
    return `${tool}-${round_ + 1}`;
  }
  for (; round_ < repeat; round_++) {
    for (const [tool, shown, run] of tools) {
      const outcome = await run();
      checkRun(outcome, files, `${name}: ${shown} (run ${round_ + 1})`, path.join(scenarioDir, `${label(tool)}.log`));
      runs[tool].push(outcome);
      progress(`${name}: ${shown} run ${round_ + 1}/${repeat}: ${fmtMs(outcome.wallMs)}`);
    }
  }
  if (curl) {
    const curlRun = await runCurl(scenarioDir, standIn, 'curl-1');
    checkRun(curlRun, files, `${name}: curl loop`, path.join(scenarioDir, 'curl-1.log'));
    runs.curl.push(curlRun);
    progress(`${name}: curl loop: ${fmtMs(curlRun.wallMs)}`);
  }
  const medianOf = (list, key) => (list.every(r => typeof r[key] === 'number') ? round(median(list.map(r => r[key]))) : null);
  const row = list =>
    list.length
      ? {
          wallMs: round(median(list.map(r => r.wallMs))),
          runsMs: list.map(r => round(r.wallMs)),
          requestPhaseMs: medianOf(list, 'requestPhaseMs'),
          cpuMs: medianOf(list, 'cpuMs'),
          maxInFlight: list.every(r => typeof r.maxInFlight === 'number') ? Math.max(...list.map(r => r.maxInFlight)) : null,
          peakRssMb: list.every(r => r.maxRssKb) ? round(Math.max(...list.map(r => r.maxRssKb)) / 1024, 1) : null
        }
      : null;
  return { ours: row(runs.ours), sdk: row(runs.sdk), floor: row(runs.floor), curl: row(runs.curl) };
}

/** N files, a set latency, concurrency C: wall and efficiency against ceil(N/C) × latency, next to the curl and SDK loops. */
async function latencyScenario(options) {
  const s = options.sizes;
  const dir = path.join(workRoot, 'latency');
  const files = s.files;
  const inputBytes = s['input-kb'] * 1024;
  makeInputs(path.join(dir, 'ws', 'in'), files, inputBytes);
  const standIn = await startStandIn({ latencyMs: s['latency-ms'], answerBytes: s['answer-bytes'] });
  let rows;
  try {
    rows = await timedRows(dir, standIn, {
      files,
      concurrency: s.concurrency,
      inputBytes,
      repeat: s.repeat,
      curl: options.curl,
      sdk: options.sdk,
      name: 'latency'
    });
  } finally {
    await standIn.stop();
  }
  const idealMs = Math.ceil(files / s.concurrency) * s['latency-ms'];
  for (const [tool, row] of Object.entries(rows)) {
    if (!row) continue;
    row.efficiency = round(idealMs / row.wallMs, 3);
    if (row.requestPhaseMs) row.requestPhaseEfficiency = round(idealMs / row.requestPhaseMs, 3);
    if (rows.curl && tool !== 'curl') row.speedupVsCurl = round(rows.curl.wallMs / row.wallMs, 2);
    if (rows.sdk && tool !== 'sdk') row.speedupVsSdk = round(rows.sdk.wallMs / row.wallMs, 3);
  }
  return {
    config: { files, inputBytes, latencyMs: s['latency-ms'], concurrency: s.concurrency, answerBytes: s['answer-bytes'], repeat: s.repeat },
    idealMs,
    rows
  };
}

/** Many small files at zero latency: what each tool adds per file (wall and CPU). */
async function throughputScenario(options) {
  const s = options.sizes;
  const dir = path.join(workRoot, 'throughput');
  const files = s['tp-files'];
  const inputBytes = s['tp-input-kb'] * 1024;
  makeInputs(path.join(dir, 'ws', 'in'), files, inputBytes);
  const standIn = await startStandIn({ latencyMs: 0, answerBytes: s['answer-bytes'] });
  let rows;
  try {
    rows = await timedRows(dir, standIn, {
      files,
      concurrency: s['tp-concurrency'],
      inputBytes,
      repeat: s.repeat,
      curl: options.curl,
      sdk: options.sdk,
      name: 'throughput'
    });
  } finally {
    await standIn.stop();
  }
  for (const [tool, row] of Object.entries(rows)) {
    if (!row) continue;
    row.filesPerSecond = round((files * 1000) / row.wallMs, 1);
    row.msPerFile = round(row.wallMs / files, 2);
    if (row.cpuMs) row.cpuMsPerFile = round(row.cpuMs / files, 2);
    if (rows.sdk && tool !== 'sdk') row.speedupVsSdk = round(rows.sdk.wallMs / row.wallMs, 3);
  }
  return {
    config: { files, inputBytes, latencyMs: 0, concurrency: s['tp-concurrency'], answerBytes: s['answer-bytes'], repeat: s.repeat },
    rows
  };
}

/** The same run on small, then large inputs: how much peak RSS grows with the input size. */
async function memoryScenario(options) {
  const s = options.sizes;
  const files = s['mem-files'];
  const result = {
    config: {
      files,
      concurrency: s['mem-concurrency'],
      latencyMs: s['mem-latency-ms'],
      smallBytes: s['mem-small-mb'] * MB,
      largeBytes: s['mem-large-mb'] * MB,
      answerBytes: s['answer-bytes']
    },
    rows: {}
  };
  const standIn = await startStandIn({ latencyMs: s['mem-latency-ms'], answerBytes: s['answer-bytes'] });
  try {
    const tools = [['ours', runOurs], ...(options.sdk ? [['sdk', runSdk]] : [])];
    for (const [size, mb] of [
      ['small', s['mem-small-mb']],
      ['large', s['mem-large-mb']]
    ]) {
      const dir = path.join(workRoot, `memory-${size}`);
      makeInputs(path.join(dir, 'ws', 'in'), files, mb * MB);
      for (const [tool, run] of tools) {
        const outcome = await run(dir, standIn, s['mem-concurrency'], `${tool}-mem`);
        checkRun(outcome, files, `memory (${mb} MB inputs): ${tool}`, path.join(dir, `${tool}-mem.log`));
        result.rows[tool] ??= {};
        result.rows[tool][size] = { peakRssMb: outcome.maxRssKb ? round(outcome.maxRssKb / 1024, 1) : null, wallMs: round(outcome.wallMs) };
        progress(`memory: ${tool}, ${files} × ${mb} MB: peak RSS ${fmtMb(outcome.maxRssKb / 1024)}, ${fmtMs(outcome.wallMs)}`);
      }
      // 640 MB of inputs: free the disk before the next size.
      if (!options.keep) fs.rmSync(path.join(dir, 'ws', 'in'), { recursive: true, force: true });
    }
  } finally {
    await standIn.stop();
  }
  for (const row of Object.values(result.rows)) {
    if (row.small?.peakRssMb != null && row.large?.peakRssMb != null) row.growthMb = round(row.large.peakRssMb - row.small.peakRssMb, 1);
  }
  return result;
}

/** Medians of a bare `node -e ''` and of the action's and the CLI's dry-run of one file, interleaved. */
async function coldStartScenario(options) {
  const runs = options.sizes['cold-runs'];
  const dir = path.join(workRoot, 'coldstart');
  const ws = path.join(dir, 'ws');
  makeInputs(path.join(ws, 'in'), 1, 64 * 1024);
  const env = runnerEnv({ images: 'in/*.png', prompt: PROMPT, 'dry-run': 'true', 'output-path': 'out/{name}.edited.{format}' }, dir);
  const cliEnv = cleanEnv();
  const commands = {
    bare: [process.execPath, ['-e', ''], { cwd: ws, env: cliEnv }],
    action: [process.execPath, [distAction], { cwd: ws, env }],
    cli: [process.execPath, [distCli, '--images', 'in/*.png', '--prompt', PROMPT, '--dry-run'], { cwd: ws, env: cliEnv }]
  };
  const times = { bare: [], action: [], cli: [] };
  // One warm-up each (the file cache), then interleaved runs.
  for (let r = -1; r < runs; r++) {
    for (const [name, [command, args, opts]] of Object.entries(commands)) {
      const run = await runTimed(command, args, { ...opts, logFile: path.join(dir, `${name}.log`) });
      if (run.code !== 0) checkRun({ ...run, outputs: { count: 0 } }, 0, `cold start: ${name}`, path.join(dir, `${name}.log`));
      if (r >= 0) times[name].push(run.wallMs);
    }
  }
  const bareMs = median(times.bare);
  const actionMs = median(times.action);
  const cliMs = median(times.cli);
  progress(`cold start: bare node ${fmtMs(bareMs)}, action dry-run ${fmtMs(actionMs)}, CLI dry-run ${fmtMs(cliMs)}`);
  return {
    config: { runs },
    bareNodeMs: round(bareMs, 1),
    actionDryRunMs: round(actionMs, 1),
    cliDryRunMs: round(cliMs, 1),
    actionOverBareMs: round(actionMs - bareMs, 1),
    cliOverBareMs: round(cliMs - bareMs, 1)
  };
}

/** Bytes of the measured dist/ folder. */
function sizeScenario() {
  const dist = distDir;
  const all = [];
  const walk = folder => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else all.push({ file: path.relative(dist, full), bytes: fs.statSync(full).size });
    }
  };
  walk(dist);
  const sum = list => list.reduce((total, f) => total + f.bytes, 0);
  return {
    totalBytes: sum(all),
    withoutMapsBytes: sum(all.filter(f => !f.file.endsWith('.map'))),
    actionEntryBytes: fs.statSync(distAction).size,
    files: all.sort((a, b) => b.bytes - a.bytes)
  };
}

// ---------------------------------------------------------------- report

function round(value, digits = 0) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
function fmtMs(ms) {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
function fmtMb(mb) {
  return Number.isFinite(mb) ? `${mb.toFixed(0)} MB` : 'n/a';
}
function progress(text) {
  console.error(`  · ${text}`);
}

/** The targets of issue 4, judged on the results. */
function judge(results) {
  const targets = [];
  const add = (name, target, value, met) => targets.push({ name, target, value, met });
  const lat = results.latency;
  if (lat?.rows.ours) {
    add('latency: efficiency', '≥ 0.90', lat.rows.ours.efficiency, lat.rows.ours.efficiency >= 0.9);
    if (lat.rows.curl) add('latency: faster than the curl loop', '≥ 7×', lat.rows.ours.speedupVsCurl, lat.rows.ours.speedupVsCurl >= 7);
    if (lat.rows.sdk) add('latency: not slower than the SDK loop', 'wall ≤ SDK wall', `${lat.rows.ours.wallMs} ms vs ${lat.rows.sdk.wallMs} ms`, lat.rows.ours.wallMs <= lat.rows.sdk.wallMs);
  }
  const tp = results.throughput;
  if (tp?.rows.ours && tp.rows.sdk) {
    add('zero latency: throughput', '≥ SDK loop', `${tp.rows.ours.filesPerSecond} vs ${tp.rows.sdk.filesPerSecond} files/s`, tp.rows.ours.filesPerSecond >= tp.rows.sdk.filesPerSecond);
  }
  const mem = results.memory;
  if (mem?.rows.ours?.growthMb != null) {
    add(
      `memory: peak RSS growth, ${mem.config.smallBytes / MB} → ${mem.config.largeBytes / MB} MB inputs`,
      '< 64 MB',
      `${mem.rows.ours.growthMb} MB`,
      mem.rows.ours.growthMb < 64
    );
  }
  const cold = results.coldstart;
  if (cold) add('cold start: dry-run of one file minus bare node', '≤ 250 ms', `${cold.actionOverBareMs} ms`, cold.actionOverBareMs <= 250);
  return targets;
}

/** The Markdown tables printed at the end (and pasted into the README). */
function renderTables(results) {
  const lines = [];
  const rss = row => (row?.peakRssMb != null ? fmtMb(row.peakRssMb) : '—');
  const cpu = row => (row?.cpuMs != null ? fmtMs(row.cpuMs) : '—');
  const lat = results.latency;
  if (lat) {
    const c = lat.config;
    lines.push(
      `**${c.files} files of ${fmtSize(c.inputBytes)}, ${c.latencyMs} ms latency, concurrency ${c.concurrency}** — ideal ${fmtMs(lat.idealMs)} (ceil(${c.files}/${c.concurrency}) × ${c.latencyMs} ms); answers: a ${fmtSize(c.answerBytes)} PNG as base64; ${runsText(c.repeat)}`,
      '',
      '| tool | wall | efficiency | request phase ² | vs curl loop | vs SDK loop | CPU | peak RSS |',
      '|---|--:|--:|--:|--:|--:|--:|--:|'
    );
    for (const [tool, name] of TOOL_NAMES) {
      const row = lat.rows[tool];
      if (!row) continue;
      const phase = row.requestPhaseMs ? `${fmtMs(row.requestPhaseMs)} (${row.requestPhaseEfficiency.toFixed(2)})` : '—';
      lines.push(
        `| ${name} | ${fmtMs(row.wallMs)} | ${tool === 'curl' ? '— (one at a time)' : row.efficiency.toFixed(2)} | ${phase} | ${row.speedupVsCurl ? `${row.speedupVsCurl.toFixed(1)}× faster` : '—'} | ${row.speedupVsSdk ? `${row.speedupVsSdk.toFixed(2)}×` : '—'} | ${cpu(row)} | ${rss(row)}${tool === 'curl' ? ' ¹' : ''} |`
      );
    }
    lines.push('');
  }
  const tp = results.throughput;
  if (tp) {
    const c = tp.config;
    lines.push(
      `**${c.files} files of ${fmtSize(c.inputBytes)}, zero latency, concurrency ${c.concurrency}** — ${runsText(c.repeat)}`,
      '',
      '| tool | wall | files/s | per file (wall) | CPU per file | vs SDK loop | peak RSS |',
      '|---|--:|--:|--:|--:|--:|--:|'
    );
    for (const [tool, name] of TOOL_NAMES) {
      const row = tp.rows[tool];
      if (!row) continue;
      lines.push(
        `| ${name} | ${fmtMs(row.wallMs)} | ${row.filesPerSecond} | ${row.msPerFile.toFixed(1)} ms | ${row.cpuMsPerFile != null ? `${row.cpuMsPerFile.toFixed(1)} ms` : '—'} | ${row.speedupVsSdk ? `${row.speedupVsSdk.toFixed(2)}×` : '—'} | ${rss(row)}${tool === 'curl' ? ' ¹' : ''} |`
      );
    }
    lines.push('');
  }
  const mem = results.memory;
  if (mem) {
    const c = mem.config;
    lines.push(
      `**Peak RSS, ${c.files} files, concurrency ${c.concurrency}, ${c.latencyMs} ms latency**`,
      '',
      `| tool | ${fmtSize(c.smallBytes)} inputs | ${fmtSize(c.largeBytes)} inputs | growth |`,
      '|---|--:|--:|--:|'
    );
    for (const [tool, name] of TOOL_NAMES) {
      const row = mem.rows[tool];
      if (!row) continue;
      lines.push(`| ${name} | ${fmtMb(row.small?.peakRssMb)} | ${fmtMb(row.large?.peakRssMb)} | ${row.growthMb != null ? `${row.growthMb.toFixed(0)} MB` : '—'} |`);
    }
    lines.push('');
  }
  const cold = results.coldstart;
  const size = results.size;
  if (cold || size) {
    lines.push('| start-up and size | |', '|---|--:|');
    if (cold) {
      lines.push(
        `| \`node -e ''\` (bare Node ${process.versions.node.split('.')[0]}), median of ${cold.config.runs} | ${fmtMs(cold.bareNodeMs)} |`,
        `| \`node dist/index.js\`, dry-run of one file | ${fmtMs(cold.actionDryRunMs)} (+${Math.round(cold.actionOverBareMs)} ms) |`,
        `| \`node dist/cli/index.js --dry-run\`, one file | ${fmtMs(cold.cliDryRunMs)} (+${Math.round(cold.cliOverBareMs)} ms) |`
      );
    }
    if (size) {
      lines.push(`| \`dist/\` in all (with source maps) | ${fmtSize(size.totalBytes)} |`, `| \`dist/\` without source maps | ${fmtSize(size.withoutMapsBytes)} |`);
    }
    lines.push('');
  }
  if (lat?.rows.curl || tp?.rows.curl) lines.push("¹ the curl loop's peak RSS is that of its largest process (curl, jq or base64), from `/usr/bin/time`.");
  if (lat) {
    lines.push(
      '² from the first request sent to the last answer read, in the process (undici diagnostics channels); in brackets, the efficiency on that span.',
      "The floor is bench/floor-client.mjs: one multipart body built in memory, answers parsed and dropped, no file read or written — the best any client reaches against this stand-in on this machine."
    );
  }
  return lines.join('\n');
}

function runsText(repeat) {
  return repeat === 1 ? 'one run each' : `median of ${repeat} runs, the curl loop 1 run`;
}

const TOOL_NAMES = [
  ['ours', 'this action (`node dist/index.js`)'],
  ['sdk', '`openai` SDK loop (`images.edit`)'],
  ['curl', 'curl loop (`curl \\| jq \\| base64 -d`)'],
  ['floor', 'floor (minimal undici client)']
];

function fmtSize(bytes) {
  if (bytes >= MB) return `${round(bytes / MB, 1)} MB`;
  return `${round(bytes / 1024)} KB`;
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGb: round(os.totalmem() / 1024 ** 3, 1),
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    openai: readVersion('openai'),
    undici: readVersion('undici'),
    curl: firstLine(spawnSync('curl', ['--version'], { encoding: 'utf8' }).stdout),
    jq: firstLine(spawnSync('jq', ['--version'], { encoding: 'utf8' }).stdout)
  };
}
function readVersion(pkg) {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}
function firstLine(text) {
  return text ? text.split('\n')[0].trim() : null;
}
function gitCommit() {
  const out = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src', 'dist'], { cwd: root, encoding: 'utf8' });
  return out.status === 0 ? `${out.stdout.trim()}${dirty.stdout.trim() ? ' (src/dist modified)' : ''}` : null;
}

// ---------------------------------------------------------------- main

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  if (options.report) {
    printReport(JSON.parse(fs.readFileSync(options.report, 'utf8')), options.report);
    return 0;
  }
  if (options.dist) {
    distDir = path.resolve(options.dist);
    distAction = path.join(distDir, 'index.js');
    distCli = path.join(distDir, 'cli', 'index.js');
  }
  if (!fs.existsSync(distAction) || !fs.existsSync(distCli)) {
    console.error(`${distAction} or ${distCli} is missing: run \`npm run build\` first`);
    return 1;
  }
  if (options.curl) {
    const missing = missingShellTools();
    if (missing.length) {
      console.error(`note: ${missing.join(', ')} not found: the curl loop rows are skipped`);
      options.curl = false;
    }
  }
  if (options.sdk) {
    try {
      await import('openai');
    } catch {
      console.error('note: the `openai` package is not installed (npm ci installs it): the SDK loop rows are skipped');
      options.sdk = false;
    }
  }
  fs.mkdirSync(workRoot, { recursive: true });
  const results = {
    machine: machine(),
    date: new Date().toISOString(),
    commit: gitCommit(),
    dist: path.relative(root, distDir) || distDir,
    quick: options.quick
  };
  const started = Date.now();
  try {
    for (const scenario of options.only) {
      console.error(`${scenario}…`);
      if (scenario === 'latency') results.latency = await latencyScenario(options);
      else if (scenario === 'throughput') results.throughput = await throughputScenario(options);
      else if (scenario === 'memory') results.memory = await memoryScenario(options);
      else if (scenario === 'coldstart') results.coldstart = await coldStartScenario(options);
      else if (scenario === 'size') results.size = sizeScenario();
    }
  } finally {
    if (!options.keep) {
      for (const entry of WORK_DIRS) fs.rmSync(path.join(workRoot, entry), { recursive: true, force: true });
    }
  }
  results.targets = judge(results);
  results.benchSeconds = round((Date.now() - started) / 1000, 1);
  fs.mkdirSync(path.dirname(options.out), { recursive: true });
  fs.writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);

  printReport(results, options.out);
  return 0;
}

/** Prints the machine, the tables and the targets of a results object. */
function printReport(results, file) {
  const m = results.machine;
  console.log(
    `\n${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, ${m.os}, Node ${m.node}, openai ${m.openai}; ${results.date}, commit ${results.commit}${results.quick ? ' — QUICK RUN (small sizes)' : ''}\n`
  );
  console.log(renderTables(results));
  console.log('\n| target | wanted | measured | |\n|---|---|---|---|');
  for (const t of results.targets) console.log(`| ${t.name} | ${t.target} | ${t.value} | ${t.met ? 'met' : '**missed**'} |`);
  console.log(`\nResults: ${path.relative(process.cwd(), file) || file}${results.benchSeconds ? ` (bench took ${results.benchSeconds} s)` : ''}`);
}

if (Number(process.versions.node.split('.')[0]) < 24) {
  // `node bench/run.mjs` on the machine's older Node: go through the project's Node 24.
  const local = path.join(root, 'node_modules', '.bin', 'node');
  if (!fs.existsSync(local)) {
    console.error(`the bench needs Node 24 (this is ${process.version}); run it with npm run bench after npm ci`);
    process.exit(1);
  }
  const child = spawnSync(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

main().then(
  code => {
    process.exitCode = code;
  },
  error => {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
);
