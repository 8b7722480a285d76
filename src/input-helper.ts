/**
 * Reads and checks every input at once. `getInputs()` either returns the typed
 * settings (plus warnings to print) or throws an InputError listing EVERY
 * problem found, each naming the input and the bad value.
 */
import * as core from '@actions/core';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  DEFAULT_ARTIFACT_NAME,
  DEFAULT_COMMENT_TAG,
  DEFAULT_COMMIT_MESSAGE,
  DEFAULT_ENDPOINT,
  DEFAULT_OUTPUT_PATH,
  InputError,
  type CommentMode,
  type CommitMethod,
  type EditMode,
  type EditParameters,
  type GitHubDelivery,
  type ImageType,
  type InputsResult,
  type ModelFamily,
  type Settings,
  type Shard
} from './settings.js';
import { insideWorkspace } from './files.js';
import { checkTemplate, OUTPUT_PLACEHOLDERS, placeholdersIn, SOURCE_PLACEHOLDERS } from './template.js';
import {
  BACKGROUNDS,
  checkPromptLength,
  checkSize,
  INPUT_FIDELITIES,
  KNOWN_MODELS,
  modelFamily,
  modelRules,
  OUTPUT_FORMATS,
  RESPONSE_FORMATS
} from './models.js';

/** Reads one input by its action.yml name (kebab-case); '' when unset. */
export type InputReader = (name: string) => string;

/** Where the inputs are read: the workspace and the environment (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, …). */
export interface InputEnvironment {
  workspace: string;
  env: NodeJS.ProcessEnv;
}

/** Reads the action's inputs through @actions/core, each value trimmed. */
export function actionInputs(): InputReader {
  return name => core.getInput(name).trim();
}

const DEFAULT_MODEL = 'gpt-image-1';
const TRUE_VALUES = ['true', 'True', 'TRUE'];
const FALSE_VALUES = ['false', 'False', 'FALSE'];
const LONGEST_SHOWN = 120;
/** Characters GitHub refuses in an artifact name. */
const ARTIFACT_NAME_FORBIDDEN = ['"', ':', '<', '>', '|', '*', '?', '\r', '\n', '\\', '/'];

/** A value as it appears in a message: quoted, escaped, cut when very long. */
function show(value: string): string {
  const cut = [...value].length > LONGEST_SHOWN ? `${[...value].slice(0, LONGEST_SHOWN).join('')}…` : value;
  return JSON.stringify(cut);
}

/** A boolean input: YAML 1.2 core schema values only; '' gives `fallback`. */
function parseBoolean(problems: string[], name: string, raw: string, fallback: boolean): boolean {
  if (raw === '') return fallback;
  if (TRUE_VALUES.includes(raw)) return true;
  if (FALSE_VALUES.includes(raw)) return false;
  problems.push(`${name}: ${show(raw)} is not a boolean; use true or false`);
  return fallback;
}

/** An integer input within [min, max]; undefined when unset or wrong (the problem is recorded). */
function parseInteger(problems: string[], name: string, raw: string, min: number, max: number): number | undefined {
  if (raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) {
    problems.push(`${name}: ${show(raw)} is not a whole number; give an integer from ${min} to ${max}`);
    return undefined;
  }
  const value = Number(raw);
  if (value < min || value > max) {
    problems.push(`${name}: ${show(raw)} is out of range; give an integer from ${min} to ${max}`);
    return undefined;
  }
  return value;
}

/** An enum input; undefined when unset or not one of `valid` (the problem is recorded). */
function parseEnum<T extends string>(problems: string[], name: string, raw: string, valid: readonly T[]): T | undefined {
  if (raw === '') return undefined;
  if ((valid as readonly string[]).includes(raw)) return raw as T;
  problems.push(`${name}: ${show(raw)} is not valid; valid values are ${valid.join(', ')}`);
  return undefined;
}

/** Newline-separated patterns: lines trimmed, empty ones dropped. */
function parseLines(raw: string): string[] {
  return raw
    .split(/\r?\n/)
    .map(line => line.trim())
    .filter(line => line !== '');
}

/**
 * Checks that a path or template stays inside the workspace: not absolute, no
 * `..` leading out (checked on the template text, backslashes read as slashes).
 */
function checkInsideWorkspace(name: string, value: string): string | undefined {
  const posix = value.replace(/\\/g, '/');
  if (path.posix.isAbsolute(posix) || /^[A-Za-z]:/.test(posix)) {
    return `${name}: ${show(value)} is an absolute path; give a path relative to the workspace`;
  }
  const normalized = path.posix.normalize(posix);
  if (normalized === '..' || normalized.startsWith('../')) {
    return `${name}: ${show(value)} leads outside the workspace (..); give a path inside it`;
  }
  if (normalized === '.' || normalized === './') return `${name}: ${show(value)} does not name a file`;
  return undefined;
}

/** True for loopback hosts: localhost, 127.0.0.0/8, [::1]. */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** The pull request's head repository when the run is a pull_request from a fork; undefined otherwise. */
async function forkOfPullRequest(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const event = env.GITHUB_EVENT_NAME ?? '';
  // pull_request_target runs in the base repository and does receive secrets.
  if (!event.startsWith('pull_request') || event === 'pull_request_target' || !env.GITHUB_EVENT_PATH) return undefined;
  try {
    const payload = JSON.parse(await fs.readFile(env.GITHUB_EVENT_PATH, 'utf8')) as {
      pull_request?: {
        head?: { repo?: { fork?: boolean; full_name?: string } | null };
        base?: { repo?: { full_name?: string } | null };
      };
    };
    const pr = payload.pull_request;
    if (!pr) return undefined;
    const head = pr.head?.repo;
    const base = pr.base?.repo;
    if (head === null) return 'a deleted fork';
    if (head?.fork === true || (head?.full_name && base?.full_name && head.full_name !== base.full_name)) {
      return head?.full_name ?? 'a fork';
    }
  } catch {
    // No readable event: no fork hint.
  }
  return undefined;
}

/**
 * Masks a secret in the log at once (`core.setSecret`). Only on a runner: elsewhere
 * `::add-mask::VALUE` would print the value itself.
 */
function maskOnRunner(secret: string, environment: InputEnvironment): void {
  if (secret !== '' && (environment.env.GITHUB_ACTIONS === 'true' || process.env.GITHUB_ACTIONS === 'true')) core.setSecret(secret);
}

/** Reads the prompt file; returns the prompt, or records the problem. */
async function readPromptFile(problems: string[], workspace: string, file: string): Promise<string | undefined> {
  let full: string;
  try {
    // Through a symbolic link it must still be a file of the workspace.
    full = await insideWorkspace(workspace, file, 'prompt-file');
  } catch (error) {
    problems.push((error as Error).message);
    return undefined;
  }
  let text: string;
  try {
    text = await fs.readFile(full, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') problems.push(`prompt-file: ${show(file)} does not exist (looked for ${full})`);
    else if (code === 'EISDIR') problems.push(`prompt-file: ${show(file)} is a directory, not a file`);
    else problems.push(`prompt-file: ${show(file)} cannot be read (${code ?? String(error)})`);
    return undefined;
  }
  const prompt = text.trim();
  if (prompt === '') {
    problems.push(`prompt-file: ${show(file)} is empty; it must hold the edit instruction`);
    return undefined;
  }
  return prompt;
}

/**
 * Reads every input, checks them all against each other and against the model,
 * and builds the settings. Throws InputError with every problem found. On a
 * runner (GITHUB_ACTIONS=true) the API key is masked in the log (`core.setSecret`)
 * as soon as it is read; it never appears in a problem or warning.
 */
export async function getInputs(read: InputReader, environment: InputEnvironment): Promise<InputsResult> {
  const get = (name: string): string => (read(name) ?? '').trim();

  const apiKey = get('api-key');
  maskOnRunner(apiKey, environment);

  const problems: string[] = [];
  const warnings: string[] = [];
  const workspace = path.resolve(environment.workspace);
  const env = environment.env;

  // Sources.
  const images = parseLines(get('images'));
  if (images.length === 0) {
    problems.push('images: no patterns given; it is required (newline-separated glob patterns relative to the workspace)');
  }
  const referenceImages = parseLines(get('reference-images'));

  // Model.
  const model = get('model') || DEFAULT_MODEL;
  const allowUnknownModel = parseBoolean(problems, 'allow-unknown-model', get('allow-unknown-model'), false);
  let family: ModelFamily | undefined = modelFamily(model);
  if (family === undefined) {
    if (!allowUnknownModel) {
      problems.push(
        `model: ${show(model)} is not a known model; valid models are ${KNOWN_MODELS.join(', ')}, each optionally with a provider suffix such as gpt-image-2:official (or set allow-unknown-model: true)`
      );
    }
    family = 'unknown';
  }
  const rules = modelRules(family, model);

  // Prompt.
  const promptText = get('prompt');
  const promptFile = get('prompt-file');
  let prompt = '';
  let promptInput = 'prompt';
  if (promptText !== '' && promptFile !== '') {
    problems.push(`prompt, prompt-file: both are set (prompt-file is ${show(promptFile)}); give exactly one`);
  } else if (promptText === '' && promptFile === '') {
    problems.push('prompt, prompt-file: neither is set; give the edit instruction in prompt, or a file holding it in prompt-file');
  } else if (promptText !== '') {
    prompt = promptText;
  } else {
    promptInput = 'prompt-file';
    const outside = checkInsideWorkspace('prompt-file', promptFile);
    if (outside) problems.push(outside);
    else prompt = (await readPromptFile(problems, workspace, promptFile)) ?? '';
  }
  if (prompt !== '') {
    // checkTemplate quotes the whole template; a long prompt is shown cut.
    for (const problem of checkTemplate(promptInput, prompt, SOURCE_PLACEHOLDERS)) {
      problems.push(problem.replace(`"${prompt}"`, () => show(prompt)));
    }
    const tooLong = checkPromptLength(rules, prompt);
    if (tooLong) {
      problems.push(
        promptInput === 'prompt' ? `prompt: ${tooLong}` : `prompt-file: the prompt in ${show(promptFile)} is too long: ${tooLong}`
      );
    }
  }

  // Mask.
  const maskRaw = get('mask');
  const mask = maskRaw === '' ? undefined : maskRaw;
  if (mask !== undefined) {
    problems.push(...checkTemplate('mask', mask, SOURCE_PLACEHOLDERS));
    const outside = checkInsideWorkspace('mask', mask);
    if (outside) problems.push(outside);
  }

  if (referenceImages.length > 0 && rules.maxImages === 1) {
    problems.push(
      `reference-images: ${show(referenceImages.join('\n'))} is given, but ${rules.label} takes a single image per request; reference images need a GPT image model`
    );
  }

  // Request parameters.
  const params: EditParameters = { model, n: 1 };
  const notFor = (name: string, value: string, appliesTo: string): string =>
    `${name}: ${show(value)} is given, but ${rules.label} does not take ${name}; it applies to ${appliesTo}`;

  const n = parseInteger(problems, 'n', get('n'), 1, 10);
  if (n !== undefined) {
    if (n > rules.maxN) problems.push(`n: ${show(get('n'))} is too many for ${rules.label}; it makes at most ${rules.maxN} image per request`);
    else params.n = n;
  }

  const size = get('size');
  if (size !== '') {
    const problem = checkSize(family, size, model);
    if (problem) problems.push(`size: ${problem}`);
    else params.size = size;
  }

  const quality = get('quality');
  if (quality !== '') {
    if (rules.qualities && !rules.qualities.includes(quality)) {
      problems.push(`quality: ${show(quality)} is not valid for ${rules.label}; valid values are ${rules.qualities.join(', ')}`);
    } else {
      params.quality = quality;
    }
  }

  const background = get('background');
  if (background !== '') {
    if (rules.backgrounds.length === 0) problems.push(notFor('background', background, 'GPT image models only'));
    else params.background = parseEnum(problems, 'background', background, BACKGROUNDS);
  }

  const inputFidelity = get('input-fidelity');
  if (inputFidelity !== '') {
    if (!rules.inputFidelity) {
      problems.push(notFor('input-fidelity', inputFidelity, 'GPT image models except gpt-image-1-mini'));
    } else {
      params.inputFidelity = parseEnum(problems, 'input-fidelity', inputFidelity, INPUT_FIDELITIES);
    }
  }

  const outputFormat = get('output-format');
  if (outputFormat !== '') {
    if (rules.outputFormats.length === 0) problems.push(notFor('output-format', outputFormat, 'GPT image models only'));
    else params.outputFormat = parseEnum<ImageType>(problems, 'output-format', outputFormat, OUTPUT_FORMATS);
  }

  const outputCompressionRaw = get('output-compression');
  const outputCompression = parseInteger(problems, 'output-compression', outputCompressionRaw, 0, 100);
  if (outputCompressionRaw !== '' && outputFormat !== 'jpeg' && outputFormat !== 'webp') {
    const current = outputFormat === '' ? 'output-format is not set, so outputs are PNG' : `output-format is ${show(outputFormat)}`;
    problems.push(`output-compression: ${show(outputCompressionRaw)} applies only with output-format jpeg or webp (${current})`);
  } else if (outputCompression !== undefined) {
    params.outputCompression = outputCompression;
  }

  if (background === 'transparent' && outputFormat === 'jpeg') {
    problems.push('background: "transparent" cannot be used with output-format "jpeg" (JPEG has no transparency); use png or webp');
  }

  const responseFormatRaw = get('response-format');
  const responseFormat = parseEnum(problems, 'response-format', responseFormatRaw, RESPONSE_FORMATS);
  if (responseFormat !== undefined) {
    if (rules.responseFormat) {
      params.responseFormat = responseFormat;
    } else {
      warnings.push(
        `response-format: ${show(responseFormat)} is not sent: GPT image models (here ${model}) reject the response_format field and always answer with base64 images`
      );
    }
  }

  // Mode.
  const partialImagesRaw = get('partial-images');
  const partialImages = parseInteger(problems, 'partial-images', partialImagesRaw, 0, 3);
  if (partialImages !== undefined && partialImages > 0) {
    if (!rules.partialImages) problems.push(notFor('partial-images', partialImagesRaw, 'GPT image models only (streaming)'));
    else params.partialImages = partialImages;
  }
  const streaming = partialImages !== undefined && partialImages > 0;

  const callbackUrl = get('callback-url');
  if (callbackUrl !== '') {
    let url: URL | undefined;
    try {
      url = new URL(callbackUrl);
    } catch {
      problems.push(`callback-url: ${show(callbackUrl)} is not an absolute URL; give an http(s) URL such as https://example.com/hook`);
    }
    if (url && url.protocol !== 'https:' && url.protocol !== 'http:') {
      problems.push(`callback-url: ${show(callbackUrl)} is not an http(s) URL`);
    } else if (url) {
      params.callbackUrl = callbackUrl;
    }
  }

  const asyncMode = parseBoolean(problems, 'async', get('async'), false);
  if (callbackUrl !== '' && asyncMode) {
    problems.push(
      `callback-url, async: callback-url ${show(callbackUrl)} and async: true cannot be used together; callback-url hands the result to your URL, async polls for it`
    );
  }
  if (streaming && (callbackUrl !== '' || asyncMode)) {
    const other = callbackUrl !== '' ? `callback-url ${show(callbackUrl)}` : 'async: true';
    problems.push(`partial-images: ${show(partialImagesRaw)} streams the answer and cannot be used with ${other}`);
  }
  const mode: EditMode = streaming ? 'stream' : callbackUrl !== '' ? 'callback' : asyncMode ? 'async' : 'sync';

  // Endpoint and key.
  const endpointRaw = get('endpoint') || DEFAULT_ENDPOINT;
  const allowInsecureEndpoint = parseBoolean(problems, 'allow-insecure-endpoint', get('allow-insecure-endpoint'), false);
  let endpoint: URL | undefined;
  try {
    endpoint = new URL(endpointRaw);
  } catch {
    problems.push(`endpoint: ${show(endpointRaw)} is not an absolute URL; give one such as ${DEFAULT_ENDPOINT}`);
  }
  if (endpoint) {
    if (endpoint.username !== '' || endpoint.password !== '') {
      const shown = `${endpoint.protocol}//***@${endpoint.host}${endpoint.pathname}`;
      problems.push(`endpoint: ${show(shown)} carries a user name or password; remove them and pass the key in api-key`);
      endpoint = undefined;
    } else if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') {
      problems.push(`endpoint: ${show(endpointRaw)} is not an http(s) URL`);
      endpoint = undefined;
    } else if (endpoint.protocol === 'http:' && !isLoopback(endpoint.hostname)) {
      if (allowInsecureEndpoint) {
        warnings.push(`endpoint: ${show(endpointRaw)} is plain http: the API key and the images travel unencrypted`);
      } else {
        problems.push(
          `endpoint: ${show(endpointRaw)} uses plain http; use https, or set allow-insecure-endpoint: true (plain http is allowed without it only for loopback hosts: localhost, 127.0.0.0/8, [::1])`
        );
      }
    }
  }

  let taskEndpoint: URL | undefined;
  if (mode === 'async' && endpoint) {
    const pathname = endpoint.pathname.replace(/\/+$/, '');
    if (pathname.endsWith('/images/edits')) {
      taskEndpoint = new URL(endpoint.href);
      taskEndpoint.pathname = `${pathname.slice(0, -'images/edits'.length)}tasks`;
      taskEndpoint.hash = '';
    } else {
      problems.push(
        `async: true needs an endpoint whose path ends with /images/edits, so that the task endpoint (…/tasks) can be found; endpoint is ${show(endpointRaw)}`
      );
    }
  }

  const dryRun = parseBoolean(problems, 'dry-run', get('dry-run'), false);
  if (apiKey === '' && !dryRun) {
    const fork = await forkOfPullRequest(env);
    if (fork !== undefined) {
      problems.push(
        `api-key: no value given, and it is required unless dry-run is true. This run is for a pull request from ${fork === 'a fork' || fork === 'a deleted fork' ? fork : `the fork ${fork}`}, and GitHub does not pass secrets to workflows run from forks, so the key is empty here. For pull requests from forks set dry-run: true (e.g. dry-run: \${{ github.event.pull_request.head.repo.fork }}), or edit the images after merging`
      );
    } else if (env.GITHUB_ACTOR === 'dependabot[bot]') {
      problems.push(
        'api-key: no value given, and it is required unless dry-run is true. Runs started by Dependabot only see Dependabot secrets: add the key there, or set dry-run: true for them'
      );
    } else {
      problems.push(
        'api-key: no value given; it is required unless dry-run is true (pass it from a secret, e.g. api-key: ${{ secrets.ACEDATA_API_KEY }})'
      );
    }
  }

  // Outputs.
  const outputPath = get('output-path') || DEFAULT_OUTPUT_PATH;
  problems.push(...checkTemplate('output-path', outputPath, OUTPUT_PLACEHOLDERS));
  const outputOutside = checkInsideWorkspace('output-path', outputPath);
  if (outputOutside) problems.push(outputOutside);
  if (params.n > 1 && !placeholdersIn(outputPath).includes('variant')) {
    problems.push(
      `output-path: ${show(outputPath)} has no {variant} placeholder, but n is ${params.n}: the ${params.n} outputs of each file would overwrite each other`
    );
  }

  const overwrite = parseBoolean(problems, 'overwrite', get('overwrite'), true);
  const concurrency = parseInteger(problems, 'concurrency', get('concurrency'), 1, 64) ?? 4;

  const timeoutRaw = get('timeout');
  let timeoutSeconds = 600;
  if (timeoutRaw !== '') {
    const seconds = /^\d+(\.\d+)?$/.test(timeoutRaw) ? Number(timeoutRaw) : Number.NaN;
    if (Number.isNaN(seconds)) {
      problems.push(`timeout: ${show(timeoutRaw)} is not a number of seconds; give a number greater than 0 and at most 3600`);
    } else if (seconds <= 0 || seconds > 3600) {
      problems.push(`timeout: ${show(timeoutRaw)} is out of range; give seconds greater than 0 and at most 3600`);
    } else {
      timeoutSeconds = seconds;
    }
  }

  const maxRetries = parseInteger(problems, 'max-retries', get('max-retries'), 0, 10) ?? 3;
  const force = parseBoolean(problems, 'force', get('force'), false);

  const manifestRaw = get('manifest');
  const manifest = manifestRaw === '' ? undefined : manifestRaw;
  if (manifest !== undefined) {
    const outside = checkInsideWorkspace('manifest', manifest);
    if (outside) problems.push(outside);
  }

  const shardRaw = get('shard');
  let shard: Shard = { index: 1, count: 1 };
  if (shardRaw !== '') {
    const match = /^(\d+)\/(\d+)$/.exec(shardRaw);
    const index = match ? Number(match[1]) : Number.NaN;
    const count = match ? Number(match[2]) : Number.NaN;
    if (!match || index < 1 || index > count || count > 256) {
      problems.push(`shard: ${show(shardRaw)} is not valid; give i/n with whole numbers 1 ≤ i ≤ n ≤ 256, e.g. 2/4`);
    } else {
      shard = { index, count };
    }
  }

  const failOnError = parseBoolean(problems, 'fail-on-error', get('fail-on-error'), true);

  // Artifact delivery.
  const uploadArtifact = parseBoolean(problems, 'upload-artifact', get('upload-artifact'), true);
  const artifactName = get('artifact-name') || DEFAULT_ARTIFACT_NAME;
  const forbidden = [...new Set([...artifactName].filter(char => ARTIFACT_NAME_FORBIDDEN.includes(char)))];
  if (forbidden.length) {
    problems.push(
      `artifact-name: ${show(artifactName)} contains ${forbidden.map(char => JSON.stringify(char)).join(', ')}; GitHub forbids these characters in artifact names: ${ARTIFACT_NAME_FORBIDDEN.map(char => JSON.stringify(char)).join(' ')}`
    );
  }
  const retentionDays = parseInteger(problems, 'retention-days', get('retention-days'), 1, 90);

  const github = readGitHubDelivery(get, problems, warnings, environment);

  if (problems.length > 0 || endpoint === undefined) {
    throw new InputError(hideKey(problems, apiKey));
  }

  const settings: Settings = {
    workspace,
    images,
    prompt,
    mask,
    referenceImages,
    modelFamily: family,
    params,
    mode,
    apiKey,
    endpoint,
    taskEndpoint,
    outputPath,
    overwrite,
    concurrency,
    timeoutMs: Math.round(timeoutSeconds * 1000),
    maxRetries,
    force,
    manifest,
    shard,
    dryRun,
    failOnError,
    uploadArtifact,
    artifactName,
    retentionDays,
    github
  };
  return { settings, warnings: hideKey(warnings, apiKey) };
}

/** Characters a comment tag may hold (it goes into a hidden HTML comment). */
const COMMENT_TAG = /^[A-Za-z0-9._-]{1,64}$/;

/** Why `name` is not a valid branch name (git check-ref-format rules), or undefined when it is. */
function branchProblem(name: string): string | undefined {
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return 'it holds a space, a control character or one of ~ ^ : ? * [ \\';
  if (name.startsWith('-') || name.startsWith('/') || name.endsWith('/') || name.endsWith('.')) return 'it starts with - or /, or ends with / or .';
  if (name.includes('..') || name.includes('//') || name.includes('@{') || name === '@') return 'it holds .., //, @{ or is @';
  if (name.split('/').some(part => part.startsWith('.') || part.endsWith('.lock'))) return 'a part starts with . or ends with .lock';
  return undefined;
}

/** A branch input: `refs/heads/` dropped; undefined when unset or invalid (the problem is recorded). */
function parseBranch(problems: string[], name: string, raw: string): string | undefined {
  if (raw === '') return undefined;
  const branch = raw.startsWith('refs/heads/') ? raw.slice('refs/heads/'.length) : raw;
  const problem = branch === '' ? 'it is empty' : branchProblem(branch);
  if (problem) {
    problems.push(`${name}: ${show(raw)} is not a valid branch name (${problem})`);
    return undefined;
  }
  return branch;
}

/** The inputs of the delivery to GitHub: comment, commit, preview branch, only-changed. */
function readGitHubDelivery(
  get: (name: string) => string,
  problems: string[],
  warnings: string[],
  environment: InputEnvironment
): GitHubDelivery {
  const token = get('github-token');
  maskOnRunner(token, environment);

  const comment = parseEnum<CommentMode>(problems, 'comment', get('comment'), ['auto', 'always', 'never']) ?? 'auto';
  const commentTag = get('comment-tag') || DEFAULT_COMMENT_TAG;
  if (!COMMENT_TAG.test(commentTag)) {
    problems.push(`comment-tag: ${show(commentTag)} is not valid; use 1 to 64 letters, digits, dots, dashes or underscores`);
  }

  const commit = parseBoolean(problems, 'commit', get('commit'), false);
  const commitMethod = parseEnum<CommitMethod>(problems, 'commit-method', get('commit-method'), ['api', 'git']) ?? 'api';
  const commitBranch = parseBranch(problems, 'commit-branch', get('commit-branch'));
  const commitMessage = get('commit-message') || DEFAULT_COMMIT_MESSAGE;
  problems.push(...checkTemplate('commit-message', commitMessage, ['count', 'model']));
  const previewBranch = parseBranch(problems, 'preview-branch', get('preview-branch'));
  const onlyChanged = parseBoolean(problems, 'only-changed', get('only-changed'), false);

  if (token === '') {
    if (commit && commitMethod === 'api') {
      problems.push('github-token: empty, but commit: true with commit-method api commits through the GitHub API and needs it (the default is ${{ github.token }})');
    }
    if (previewBranch !== undefined && !commit) {
      problems.push(`github-token: empty, but preview-branch ${show(previewBranch)} is pushed through the GitHub API and needs it`);
    }
    if (onlyChanged) problems.push("github-token: empty, but only-changed: true asks GitHub which files changed and needs it");
  }
  if (previewBranch !== undefined && commit) {
    warnings.push(`preview-branch: ${show(previewBranch)} is not used: with commit: true the previews link the commit that holds the outputs`);
  }
  return { token, comment, commentTag, commit, commitMethod, commitBranch, commitMessage, previewBranch, onlyChanged };
}

/** Keys shorter than this are not searched for: they would match ordinary words. */
const SHORTEST_HIDDEN_KEY = 8;

/** Replaces the API key wherever it might appear (a key pasted into another input). */
function hideKey(messages: string[], apiKey: string): string[] {
  if (apiKey.length < SHORTEST_HIDDEN_KEY) return messages;
  return messages.map(message => message.split(apiKey).join('***'));
}
