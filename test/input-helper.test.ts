import { jest, describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { actionInputs, getInputs } from '../src/input-helper.js';
import { DEFAULT_ENDPOINT, DEFAULT_OUTPUT_PATH, InputError, type InputsResult } from '../src/settings.js';

const KEY = 'sk-test-Zq81-SECRET-value';
const BASE: Record<string, string> = { images: 'art/*.png', prompt: 'make it blue', 'api-key': KEY };

let workspace: string;

beforeAll(async () => {
  workspace = await fs.mkdtemp(path.join(os.tmpdir(), 'input-helper-'));
  await fs.mkdir(path.join(workspace, 'prompts', 'folder'), { recursive: true });
  await fs.writeFile(path.join(workspace, 'prompts', 'good.txt'), '\n  Paint {name} in blue  \n\n');
  await fs.writeFile(path.join(workspace, 'prompts', 'empty.txt'), '  \n\n ');
  await fs.writeFile(path.join(workspace, 'prompts', 'bad-placeholder.txt'), 'Paint {colour} on {name}');
  await fs.writeFile(path.join(workspace, 'prompts', 'long.txt'), 'a'.repeat(1001));
});

afterAll(async () => {
  await fs.rm(workspace, { recursive: true, force: true });
});

/** A reader over BASE plus `values`; a value of undefined removes a BASE input. */
function reader(values: Record<string, string | undefined>) {
  const all: Record<string, string | undefined> = { ...BASE, ...values };
  return (name: string): string => all[name] ?? '';
}

function run(values: Record<string, string | undefined>, env: NodeJS.ProcessEnv = {}): Promise<InputsResult> {
  return getInputs(reader(values), { workspace, env });
}

/** The problems of a run that must fail. */
async function problemsOf(values: Record<string, string | undefined>, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await run(values, env);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).problems;
  }
  throw new Error(`expected an InputError for ${JSON.stringify(values)}`);
}

describe('getInputs: defaults', () => {
  it('builds the settings with every default', async () => {
    const { settings, warnings } = await run({});
    expect(warnings).toEqual([]);
    expect(settings).toEqual({
      workspace: path.resolve(workspace),
      images: ['art/*.png'],
      prompt: 'make it blue',
      mask: undefined,
      referenceImages: [],
      modelFamily: 'gpt-image',
      params: { model: 'gpt-image-1', n: 1 },
      mode: 'sync',
      apiKey: KEY,
      endpoint: new URL(DEFAULT_ENDPOINT),
      taskEndpoint: undefined,
      outputPath: DEFAULT_OUTPUT_PATH,
      overwrite: true,
      concurrency: 4,
      timeoutMs: 600_000,
      maxRetries: 3,
      force: false,
      manifest: undefined,
      shard: { index: 1, count: 1 },
      dryRun: false,
      failOnError: true,
      uploadArtifact: true,
      artifactName: 'edited-images',
      retentionDays: undefined,
      github: {
        token: '',
        comment: 'auto',
        commentTag: 'image-edit-preview',
        commit: false,
        commitMethod: 'api',
        commitBranch: undefined,
        commitMessage: 'Edit {count} image(s) with {model}',
        previewBranch: undefined,
        onlyChanged: false
      }
    });
  });
});

describe('getInputs: good values', () => {
  const cases: [string, Record<string, string | undefined>, Record<string, unknown>][] = [
    ['image patterns trimmed, blank lines dropped', { images: '  a/*.png \n\n  !a/skip.png\r\n b/**/*.webp  \n' }, { images: ['a/*.png', '!a/skip.png', 'b/**/*.webp'] }],
    ['reference images', { 'reference-images': 'refs/style.png\n\n refs/logo.png ' }, { referenceImages: ['refs/style.png', 'refs/logo.png'] }],
    ['provider suffix', { model: 'gpt-image-2:official' }, { modelFamily: 'gpt-image-2', params: { model: 'gpt-image-2:official', n: 1 } }],
    ['gpt-image-1.5', { model: 'gpt-image-1.5', size: '1536x1024', quality: 'high' }, { modelFamily: 'gpt-image', params: { model: 'gpt-image-1.5', n: 1, size: '1536x1024', quality: 'high' } }],
    ['gpt-image-2 free size', { model: 'gpt-image-2', size: '3840x2160' }, { params: { model: 'gpt-image-2', n: 1, size: '3840x2160' } }],
    ['size auto', { size: 'auto' }, { params: { model: 'gpt-image-1', n: 1, size: 'auto' } }],
    ['dall-e-2 size, quality, response-format', { model: 'dall-e-2', size: '512x512', quality: 'standard', 'response-format': 'b64_json' }, { modelFamily: 'dall-e-2', params: { model: 'dall-e-2', n: 1, size: '512x512', quality: 'standard', responseFormat: 'b64_json' } }],
    ['dall-e-3 hd', { model: 'dall-e-3', size: '1792x1024', quality: 'hd', 'response-format': 'url' }, { modelFamily: 'dall-e-3', params: { model: 'dall-e-3', n: 1, size: '1792x1024', quality: 'hd', responseFormat: 'url' } }],
    ['background with png', { background: 'transparent', 'output-format': 'png' }, { params: { model: 'gpt-image-1', n: 1, background: 'transparent', outputFormat: 'png' } }],
    ['webp with compression', { 'output-format': 'webp', 'output-compression': '80' }, { params: { model: 'gpt-image-1', n: 1, outputFormat: 'webp', outputCompression: 80 } }],
    ['jpeg with compression 0 and opaque', { 'output-format': 'jpeg', 'output-compression': '0', background: 'opaque' }, { params: { model: 'gpt-image-1', n: 1, outputFormat: 'jpeg', outputCompression: 0, background: 'opaque' } }],
    ['input fidelity', { 'input-fidelity': 'high' }, { params: { model: 'gpt-image-1', n: 1, inputFidelity: 'high' } }],
    ['n with {variant}', { n: '3' }, { params: { model: 'gpt-image-1', n: 3 } }],
    ['n 10 with own template', { n: '10', 'output-path': 'out/{path}{variant}.{format}' }, { outputPath: 'out/{path}{variant}.{format}' }],
    ['partial images stream', { 'partial-images': '2' }, { mode: 'stream', params: { model: 'gpt-image-1', n: 1, partialImages: 2 } }],
    ['partial images 0 not sent', { 'partial-images': '0' }, { mode: 'sync', params: { model: 'gpt-image-1', n: 1 } }],
    ['callback', { 'callback-url': 'https://hooks.example.com/done?x=1' }, { mode: 'callback', params: { model: 'gpt-image-1', n: 1, callbackUrl: 'https://hooks.example.com/done?x=1' } }],
    ['async', { async: 'true' }, { mode: 'async', taskEndpoint: new URL('https://api.acedata.cloud/openai/tasks') }],
    ['booleans in YAML spellings', { overwrite: 'False', force: 'TRUE', 'fail-on-error': 'false', 'dry-run': 'True' }, { overwrite: false, force: true, failOnError: false, dryRun: true }],
    ['numbers at their bounds', { concurrency: '64', 'max-retries': '0', timeout: '3600' }, { concurrency: 64, maxRetries: 0, timeoutMs: 3_600_000 }],
    ['fractional timeout', { timeout: '1.5' }, { timeoutMs: 1500 }],
    ['lower number bounds', { concurrency: '1', 'max-retries': '10' }, { concurrency: 1, maxRetries: 10 }],
    ['shard', { shard: '3/4' }, { shard: { index: 3, count: 4 } }],
    ['shard 256/256', { shard: '256/256' }, { shard: { index: 256, count: 256 } }],
    ['manifest', { manifest: '.image-edits.json' }, { manifest: '.image-edits.json' }],
    ['manifest in a folder', { manifest: 'meta/edits.json' }, { manifest: 'meta/edits.json' }],
    ['mask template', { mask: '{dir}/{name}.mask.png' }, { mask: '{dir}/{name}.mask.png' }],
    ['prompt placeholders', { prompt: 'Recolour {name} ({ext}) in {dir}, path {path}' }, { prompt: 'Recolour {name} ({ext}) in {dir}, path {path}' }],
    ['loopback http endpoint', { endpoint: 'http://127.0.0.1:8080/v1/images/edits' }, { endpoint: new URL('http://127.0.0.1:8080/v1/images/edits') }],
    ['localhost http endpoint', { endpoint: 'http://localhost:3000/images/edits' }, { endpoint: new URL('http://localhost:3000/images/edits') }],
    ['IPv6 loopback http endpoint', { endpoint: 'http://[::1]:3000/images/edits' }, { endpoint: new URL('http://[::1]:3000/images/edits') }],
    ['127.0.0.0/8', { endpoint: 'http://127.8.9.10/images/edits' }, { endpoint: new URL('http://127.8.9.10/images/edits') }],
    ['dry run needs no key', { 'api-key': undefined, 'dry-run': 'true' }, { dryRun: true, apiKey: '' }],
    ['unknown model allowed: everything sent', { model: 'flux-edit', 'allow-unknown-model': 'true', quality: 'ultra', size: '1000x700', background: 'opaque', 'input-fidelity': 'low', 'response-format': 'url', 'partial-images': '1' }, { modelFamily: 'unknown', mode: 'stream', params: { model: 'flux-edit', n: 1, quality: 'ultra', size: '1000x700', background: 'opaque', inputFidelity: 'low', responseFormat: 'url', partialImages: 1 } }]
  ];

  it.each(cases)('%s', async (_name, values, expected) => {
    const { settings } = await run(values);
    expect(settings).toMatchObject(expected);
  });

  it('does not send response-format to GPT image models and says why', async () => {
    for (const model of ['gpt-image-1', 'gpt-image-1-mini', 'gpt-image-2:official']) {
      const { settings, warnings } = await run({ model, 'response-format': 'url' });
      expect(settings.params.responseFormat).toBeUndefined();
      expect('responseFormat' in settings.params).toBe(false);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('response-format: "url" is not sent');
      expect(warnings[0]).toContain(model);
      expect(warnings[0]).toContain('reject the response_format field');
    }
  });
});

describe('getInputs: bad values name the input and the value', () => {
  // [case, inputs, texts every one of which must appear in ONE problem]
  const cases: [string, Record<string, string | undefined>, string[]][] = [
    ['no images', { images: '' }, ['images:', 'required']],
    ['only blank image lines', { images: ' \n \n' }, ['images:', 'no patterns']],
    ['unknown model', { model: 'gpt-5' }, ['model: "gpt-5" is not a known model', 'gpt-image-1, gpt-image-1.5, gpt-image-1-mini, gpt-image-2, dall-e-2, dall-e-3', 'gpt-image-2:official', 'allow-unknown-model: true']],
    ['allow-unknown-model not boolean', { 'allow-unknown-model': 'yes' }, ['allow-unknown-model: "yes"', 'true or false']],
    ['size for gpt-image-1', { size: '512x512' }, ['size: "512x512"', 'model gpt-image-1', 'auto, 1024x1024, 1536x1024, 1024x1536']],
    ['size auto for dall-e-2', { model: 'dall-e-2', size: 'auto' }, ['size: "auto"', 'model dall-e-2', '256x256, 512x512, 1024x1024']],
    ['size for dall-e-3', { model: 'dall-e-3', size: '1536x1024' }, ['size: "1536x1024"', '1024x1024, 1792x1024, 1024x1792']],
    ['gpt-image-2 size too many pixels', { model: 'gpt-image-2', size: '3840x2176' }, ['size: "3840x2176"', 'model gpt-image-2', '3840x2160']],
    ['gpt-image-2 size ratio', { model: 'gpt-image-2', size: '1024x4000' }, ['size: "1024x4000"', 'ratio']],
    ['gpt-image-2 size divisibility', { model: 'gpt-image-2', size: '1000x1000' }, ['size: "1000x1000"', 'divisible by 16']],
    ['size shape', { model: 'flux', 'allow-unknown-model': 'true', size: 'large' }, ['size: "large"', 'WIDTHxHEIGHT']],
    ['quality for GPT', { quality: 'ultra' }, ['quality: "ultra"', 'auto, high, medium, low']],
    ['quality for dall-e-2', { model: 'dall-e-2', quality: 'hd' }, ['quality: "hd"', 'model dall-e-2', 'standard']],
    ['quality for dall-e-3', { model: 'dall-e-3', quality: 'high' }, ['quality: "high"', 'standard, hd']],
    ['background value', { background: 'none' }, ['background: "none"', 'auto, transparent, opaque']],
    ['background for dall-e-2', { model: 'dall-e-2', background: 'opaque' }, ['background: "opaque"', 'model dall-e-2', 'GPT image models']],
    ['transparent jpeg', { background: 'transparent', 'output-format': 'jpeg' }, ['background: "transparent"', 'output-format "jpeg"']],
    ['input-fidelity value', { 'input-fidelity': 'medium' }, ['input-fidelity: "medium"', 'high, low']],
    ['input-fidelity for mini', { model: 'gpt-image-1-mini', 'input-fidelity': 'high' }, ['input-fidelity: "high"', 'model gpt-image-1-mini']],
    ['input-fidelity for dall-e-3', { model: 'dall-e-3', 'input-fidelity': 'low' }, ['input-fidelity: "low"', 'model dall-e-3']],
    ['output-format value', { 'output-format': 'jpg' }, ['output-format: "jpg"', 'png, jpeg, webp']],
    ['output-format for dall-e-3', { model: 'dall-e-3', 'output-format': 'png' }, ['output-format: "png"', 'model dall-e-3']],
    ['compression without format', { 'output-compression': '80' }, ['output-compression: "80"', 'jpeg or webp', 'not set']],
    ['compression with png', { 'output-format': 'png', 'output-compression': '80' }, ['output-compression: "80"', 'output-format is "png"']],
    ['compression out of range', { 'output-format': 'jpeg', 'output-compression': '101' }, ['output-compression: "101"', '0 to 100']],
    ['compression not integer', { 'output-format': 'webp', 'output-compression': '8.5' }, ['output-compression: "8.5"', 'whole number']],
    ['n zero', { n: '0' }, ['n: "0"', '1 to 10']],
    ['n eleven', { n: '11' }, ['n: "11"', '1 to 10']],
    ['n fractional', { n: '2.5' }, ['n: "2.5"', 'whole number']],
    ['n words', { n: 'two' }, ['n: "two"', 'whole number']],
    ['n for dall-e-3', { model: 'dall-e-3', n: '2' }, ['n: "2"', 'model dall-e-3', 'at most 1']],
    ['n without {variant}', { n: '2', 'output-path': '{dir}/{name}.out.{format}' }, ['output-path: "{dir}/{name}.out.{format}"', '{variant}', 'n is 2']],
    ['response-format value', { 'response-format': 'json' }, ['response-format: "json"', 'url, b64_json']],
    ['partial-images range', { 'partial-images': '4' }, ['partial-images: "4"', '0 to 3']],
    ['partial-images for dall-e-2', { model: 'dall-e-2', 'partial-images': '2' }, ['partial-images: "2"', 'model dall-e-2']],
    ['partial-images with callback', { 'partial-images': '1', 'callback-url': 'https://example.com/cb' }, ['partial-images: "1"', 'callback-url "https://example.com/cb"']],
    ['partial-images with async', { 'partial-images': '3', async: 'true' }, ['partial-images: "3"', 'async: true']],
    ['callback with async', { 'callback-url': 'https://example.com/cb', async: 'true' }, ['callback-url', 'async', 'cannot be used together']],
    ['callback not a URL', { 'callback-url': 'example.com/cb' }, ['callback-url: "example.com/cb"', 'absolute URL']],
    ['callback not http', { 'callback-url': 'ftp://example.com/cb' }, ['callback-url: "ftp://example.com/cb"', 'http(s)']],
    ['async not boolean', { async: 'y' }, ['async: "y"', 'true or false']],
    ['endpoint not a URL', { endpoint: 'api.example.com/images/edits' }, ['endpoint: "api.example.com/images/edits"', 'absolute URL']],
    ['endpoint plain http', { endpoint: 'http://api.example.com/images/edits' }, ['endpoint: "http://api.example.com/images/edits"', 'allow-insecure-endpoint: true']],
    ['endpoint not http', { endpoint: 'ftp://api.example.com/images/edits' }, ['endpoint: "ftp://api.example.com/images/edits"', 'http(s)']],
    ['endpoint look-alike loopback', { endpoint: 'http://127.0.0.1.example.com/images/edits' }, ['endpoint: "http://127.0.0.1.example.com/images/edits"', 'plain http']],
    ['async without images/edits', { async: 'true', endpoint: 'https://api.example.com/v1/edit' }, ['async: true', '/images/edits', '"https://api.example.com/v1/edit"']],
    ['allow-insecure-endpoint not boolean', { 'allow-insecure-endpoint': 'sure' }, ['allow-insecure-endpoint: "sure"']],
    ['no api key', { 'api-key': undefined }, ['api-key:', 'required unless dry-run']],
    ['output-path absolute', { 'output-path': '/tmp/{name}.{format}' }, ['output-path: "/tmp/{name}.{format}"', 'absolute']],
    ['output-path windows absolute', { 'output-path': 'C:\\out\\{name}.{format}' }, ['output-path:', 'absolute']],
    ['output-path escapes', { 'output-path': '../{name}.{format}' }, ['output-path: "../{name}.{format}"', 'outside the workspace']],
    ['output-path escapes deeper', { 'output-path': 'a/../../{name}.{format}' }, ['output-path: "a/../../{name}.{format}"', 'outside the workspace']],
    ['output-path backslash escape', { 'output-path': '..\\{name}.{format}' }, ['output-path:', 'outside the workspace']],
    ['output-path unknown placeholder', { 'output-path': '{dir}/{nme}.{format}' }, ['output-path:', '{nme}', '{variant}']],
    ['mask absolute', { mask: '/masks/{name}.png' }, ['mask: "/masks/{name}.png"', 'absolute']],
    ['mask escapes', { mask: '../masks/{name}.png' }, ['mask: "../masks/{name}.png"', 'outside the workspace']],
    ['mask unknown placeholder', { mask: '{dir}/{name}.{format}' }, ['mask:', '{format}']],
    ['prompt unknown placeholder', { prompt: 'Paint it {colour}' }, ['prompt:', '{colour}', '"Paint it {colour}"']],
    ['prompt and prompt-file', { 'prompt-file': 'prompts/good.txt' }, ['prompt, prompt-file', 'both', '"prompts/good.txt"']],
    ['neither prompt', { prompt: undefined }, ['prompt, prompt-file', 'neither']],
    ['prompt too long for dall-e-2', { model: 'dall-e-2', prompt: 'x'.repeat(1001) }, ['prompt:', '1001 characters', 'at most 1000']],
    ['prompt too long for dall-e-3', { model: 'dall-e-3', prompt: 'x'.repeat(4001) }, ['prompt:', '4001 characters', 'at most 4000']],
    ['prompt too long for GPT', { prompt: 'x'.repeat(32001) }, ['prompt:', '32001 characters', 'at most 32000']],
    ['reference images with dall-e-2', { model: 'dall-e-2', 'reference-images': 'refs/*.png' }, ['reference-images: "refs/*.png"', 'model dall-e-2']],
    ['overwrite', { overwrite: 'yes' }, ['overwrite: "yes"', 'true or false']],
    ['force', { force: '1' }, ['force: "1"']],
    ['dry-run', { 'dry-run': 'on' }, ['dry-run: "on"']],
    ['fail-on-error', { 'fail-on-error': 'no' }, ['fail-on-error: "no"']],
    ['concurrency zero', { concurrency: '0' }, ['concurrency: "0"', '1 to 64']],
    ['concurrency too high', { concurrency: '65' }, ['concurrency: "65"', '1 to 64']],
    ['concurrency words', { concurrency: 'four' }, ['concurrency: "four"', 'whole number']],
    ['timeout zero', { timeout: '0' }, ['timeout: "0"', 'greater than 0']],
    ['timeout too long', { timeout: '3601' }, ['timeout: "3601"', 'at most 3600']],
    ['timeout negative', { timeout: '-5' }, ['timeout: "-5"']],
    ['timeout words', { timeout: '10s' }, ['timeout: "10s"', 'not a number']],
    ['max-retries high', { 'max-retries': '11' }, ['max-retries: "11"', '0 to 10']],
    ['max-retries negative', { 'max-retries': '-1' }, ['max-retries: "-1"', '0 to 10']],
    ['manifest absolute', { manifest: '/var/edits.json' }, ['manifest: "/var/edits.json"', 'absolute']],
    ['manifest escapes', { manifest: '../edits.json' }, ['manifest: "../edits.json"', 'outside the workspace']],
    ['manifest is the workspace', { manifest: './' }, ['manifest: "./"', 'does not name a file']],
    ['shard zero', { shard: '0/2' }, ['shard: "0/2"', '1 ≤ i ≤ n ≤ 256']],
    ['shard past the end', { shard: '3/2' }, ['shard: "3/2"']],
    ['shard too many', { shard: '1/257' }, ['shard: "1/257"']],
    ['shard words', { shard: 'a/b' }, ['shard: "a/b"']],
    ['shard without count', { shard: '1' }, ['shard: "1"']]
  ];

  it.each(cases)('%s', async (_name, values, texts) => {
    const problems = await problemsOf(values);
    const match = problems.find(problem => texts.every(text => problem.includes(text)));
    if (!match) throw new Error(`no problem contains all of ${JSON.stringify(texts)}; problems: ${JSON.stringify(problems, null, 2)}`);
    expect(match).toBeDefined();
  });

  it('reports a single problem for a single bad input', async () => {
    expect(await problemsOf({ quality: 'ultra' })).toHaveLength(1);
  });

  it('reports every problem at once', async () => {
    const problems = await problemsOf({
      images: '',
      model: 'gpt-5',
      n: '0',
      concurrency: 'many',
      shard: '9/3',
      overwrite: 'maybe',
      endpoint: 'http://api.example.com/images/edits',
      'output-path': '../out/{name}.{format}'
    });
    for (const input of ['images:', 'model:', 'n:', 'concurrency:', 'shard:', 'overwrite:', 'endpoint:', 'output-path:']) {
      expect(problems.some(problem => problem.startsWith(input))).toBe(true);
    }
    expect(problems).toHaveLength(8);
  });

  it('cuts a very long prompt in the placeholder problem', async () => {
    const prompt = `Paint {colour} ${'word '.repeat(500)}`;
    const problems = await problemsOf({ prompt });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('{colour}');
    expect(problems[0].length).toBeLessThan(400);
  });
});

describe('getInputs: the API key', () => {
  it('never appears in problems, even when pasted into other inputs', async () => {
    const problems = await problemsOf({
      model: KEY,
      quality: `${KEY}-x`,
      endpoint: `http://api.example.com/images/edits?key=${KEY}`,
      'callback-url': `not a url ${KEY}`,
      shard: KEY
    });
    expect(problems.length).toBeGreaterThanOrEqual(4);
    expect(JSON.stringify(problems)).not.toContain(KEY);
    expect(JSON.stringify(problems)).toContain('***');
  });

  it('never appears in warnings', async () => {
    const { warnings } = await run({
      'response-format': 'b64_json',
      endpoint: `http://api.example.com/images/edits?key=${KEY}`,
      'allow-insecure-endpoint': 'true'
    });
    expect(warnings).toHaveLength(2);
    expect(JSON.stringify(warnings)).not.toContain(KEY);
  });

  it('leaves messages whole when a toy key is a common word fragment', async () => {
    const problems = await problemsOf({ 'api-key': 'k', model: 'dall-e-2', background: 'opaque' });
    expect(problems).toEqual([expect.stringContaining('does not take background')]);
  });

  it('hides the user name and password of an endpoint', async () => {
    const problems = await problemsOf({ endpoint: 'https://me:hunter2@api.example.com/images/edits' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('endpoint: "https://***@api.example.com/images/edits"');
    expect(problems[0]).not.toContain('hunter2');
    expect(problems[0]).not.toContain('me:');
  });

  it('is masked at once on a runner, and not printed elsewhere', async () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const before = process.env.GITHUB_ACTIONS;
    try {
      delete process.env.GITHUB_ACTIONS;
      await run({});
      expect(written.join('')).not.toContain(KEY);
      await expect(run({ quality: 'bad' }, { GITHUB_ACTIONS: 'true' })).rejects.toThrow(InputError);
      expect(written.join('')).toContain(`::add-mask::${KEY}`);
    } finally {
      spy.mockRestore();
      if (before === undefined) delete process.env.GITHUB_ACTIONS;
      else process.env.GITHUB_ACTIONS = before;
    }
  });
});

describe('getInputs: pull requests from forks', () => {
  async function eventFile(name: string, payload: unknown): Promise<string> {
    const file = path.join(workspace, `${name}.json`);
    await fs.writeFile(file, JSON.stringify(payload));
    return file;
  }
  const pr = (head: unknown, base = 'octo/art') => ({
    pull_request: { number: 7, head: { repo: head }, base: { repo: { full_name: base, fork: false } } }
  });

  it('says plainly that forks get no secrets (fork flag)', async () => {
    const file = await eventFile('fork', pr({ full_name: 'stranger/art', fork: true }));
    const problems = await problemsOf({ 'api-key': undefined }, { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: file });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('api-key:');
    expect(problems[0]).toContain('the fork stranger/art');
    expect(problems[0]).toContain('GitHub does not pass secrets to workflows run from forks');
    expect(problems[0]).toContain('dry-run');
  });

  it('says so when the head repository differs from the base', async () => {
    const file = await eventFile('other', pr({ full_name: 'someone/art-copy' }));
    const problems = await problemsOf({ 'api-key': undefined }, { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: file });
    expect(problems[0]).toContain('GitHub does not pass secrets to workflows run from forks');
  });

  it('says so when the fork was deleted', async () => {
    const file = await eventFile('deleted', pr(null));
    const problems = await problemsOf({ 'api-key': undefined }, { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: file });
    expect(problems[0]).toContain('GitHub does not pass secrets to workflows run from forks');
  });

  it('does not blame forks for a pull request from the same repository', async () => {
    const file = await eventFile('same', pr({ full_name: 'octo/art', fork: false }));
    const problems = await problemsOf({ 'api-key': undefined }, { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: file });
    expect(problems[0]).toContain('api-key:');
    expect(problems[0]).not.toContain('fork');
  });

  it('does not blame forks on pull_request_target, which does receive secrets', async () => {
    const file = await eventFile('target', pr({ full_name: 'stranger/art', fork: true }));
    const problems = await problemsOf({ 'api-key': undefined }, { GITHUB_EVENT_NAME: 'pull_request_target', GITHUB_EVENT_PATH: file });
    expect(problems[0]).toContain('api-key:');
    expect(problems[0]).not.toContain('fork');
  });

  it('falls back to the plain message when the event cannot be read', async () => {
    const problems = await problemsOf(
      { 'api-key': undefined },
      { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: path.join(workspace, 'missing.json') }
    );
    expect(problems[0]).toContain('required unless dry-run');
  });

  it('needs no key in a dry run from a fork', async () => {
    const file = await eventFile('fork-dry', pr({ full_name: 'stranger/art', fork: true }));
    const { settings } = await run({ 'api-key': undefined, 'dry-run': 'true' }, { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: file });
    expect(settings.dryRun).toBe(true);
  });
});

describe('getInputs: prompt-file', () => {
  it('reads and trims the file, relative to the workspace', async () => {
    const { settings } = await run({ prompt: undefined, 'prompt-file': 'prompts/good.txt' });
    expect(settings.prompt).toBe('Paint {name} in blue');
  });

  it.each([
    ['missing', 'prompts/none.txt', 'does not exist'],
    ['empty', 'prompts/empty.txt', 'is empty'],
    ['a directory', 'prompts/folder', 'is a directory']
  ])('names the path when the file is %s', async (_name, file, text) => {
    const problems = await problemsOf({ prompt: undefined, 'prompt-file': file });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`prompt-file: "${file}"`);
    expect(problems[0]).toContain(text);
  });

  it('reads no file outside the workspace (.., an absolute path, a symbolic link leading out)', async () => {
    const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'input-helper-outside-'));
    await fs.writeFile(path.join(outside, 'secret.txt'), 'not a prompt');
    await fs.symlink(path.join(outside, 'secret.txt'), path.join(workspace, 'prompts', 'link.txt'));
    try {
      const relative = path.relative(workspace, path.join(outside, 'secret.txt'));
      expect(await problemsOf({ prompt: undefined, 'prompt-file': relative })).toEqual([
        `prompt-file: ${JSON.stringify(relative)} leads outside the workspace (..); give a path inside it`
      ]);
      expect(await problemsOf({ prompt: undefined, 'prompt-file': '/etc/hostname' })).toEqual([
        'prompt-file: "/etc/hostname" is an absolute path; give a path relative to the workspace'
      ]);
      const [problem] = await problemsOf({ prompt: undefined, 'prompt-file': 'prompts/link.txt' });
      expect(problem).toMatch(/^prompt-file: prompts\/link.txt leads outside the workspace through a symbolic link \(to .*secret\.txt\)$/);
    } finally {
      await fs.rm(path.join(workspace, 'prompts', 'link.txt'), { force: true });
      await fs.rm(outside, { recursive: true, force: true });
    }
  });

  it('checks the placeholders of the file', async () => {
    const problems = await problemsOf({ prompt: undefined, 'prompt-file': 'prompts/bad-placeholder.txt' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('prompt-file:');
    expect(problems[0]).toContain('{colour}');
  });

  it('checks the length of the file for the model', async () => {
    const problems = await problemsOf({ prompt: undefined, 'prompt-file': 'prompts/long.txt', model: 'dall-e-2' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('prompt-file: the prompt in "prompts/long.txt"');
    expect(problems[0]).toContain('1001 characters');
    const { settings } = await run({ prompt: undefined, 'prompt-file': 'prompts/long.txt' });
    expect(settings.prompt).toHaveLength(1001);
  });
});

describe('getInputs: endpoints', () => {
  it.each([
    [DEFAULT_ENDPOINT, 'https://api.acedata.cloud/openai/tasks'],
    ['http://127.0.0.1:9999/v1/images/edits', 'http://127.0.0.1:9999/v1/tasks'],
    ['https://gw.example.com/openai/images/edits/', 'https://gw.example.com/openai/tasks'],
    ['https://gw.example.com/images/edits?api-version=2', 'https://gw.example.com/tasks?api-version=2']
  ])('derives the task endpoint of %s', async (endpoint, tasks) => {
    const { settings } = await run({ endpoint, async: 'true' });
    expect(settings.mode).toBe('async');
    expect(settings.taskEndpoint?.href).toBe(tasks);
    expect(settings.endpoint.href).toBe(new URL(endpoint).href);
  });

  it('sets no task endpoint outside async mode', async () => {
    const { settings } = await run({ endpoint: 'https://api.example.com/v1/edit' });
    expect(settings.taskEndpoint).toBeUndefined();
  });

  it('allows plain http anywhere with allow-insecure-endpoint, with a warning', async () => {
    const { settings, warnings } = await run({ endpoint: 'http://gpu-box.lan:8000/images/edits', 'allow-insecure-endpoint': 'true' });
    expect(settings.endpoint.href).toBe('http://gpu-box.lan:8000/images/edits');
    expect(warnings).toEqual([expect.stringContaining('unencrypted')]);
  });

  it('allows plain http on loopback without a warning', async () => {
    const { warnings } = await run({ endpoint: 'http://localhost:8000/images/edits' });
    expect(warnings).toEqual([]);
  });
});

describe('getInputs: artifact delivery', () => {
  it('reads upload-artifact, artifact-name and retention-days', async () => {
    const { settings } = await run({ 'upload-artifact': 'False', 'artifact-name': ' previews (png) ', 'retention-days': '90' });
    expect(settings.uploadArtifact).toBe(false);
    expect(settings.artifactName).toBe('previews (png)');
    expect(settings.retentionDays).toBe(90);
    expect((await run({ 'retention-days': '1' })).settings.retentionDays).toBe(1);
  });

  it.each([
    ['upload-artifact', 'yes', 'upload-artifact: "yes" is not a boolean; use true or false'],
    ['retention-days', '0', 'retention-days: "0" is out of range; give an integer from 1 to 90'],
    ['retention-days', '91', 'retention-days: "91" is out of range; give an integer from 1 to 90'],
    ['retention-days', '7.5', 'retention-days: "7.5" is not a whole number; give an integer from 1 to 90'],
    ['retention-days', 'a week', 'retention-days: "a week" is not a whole number; give an integer from 1 to 90']
  ])('%s: %j is refused', async (name, value, problem) => {
    expect(await problemsOf({ [name]: value })).toEqual([problem]);
  });

  it.each(['a/b', 'a\\b', 'x:y', 'what?', 'star*', 'a|b', '<tag>', 'say "hi"', 'two\nlines', 'cr\rhere'])(
    'artifact-name: %j is refused, naming the character',
    async name => {
      const problems = await problemsOf({ 'artifact-name': name });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^artifact-name: .* contains .*GitHub forbids these characters in artifact names/);
    }
  );

  it('lists each forbidden character once', async () => {
    const [problem] = await problemsOf({ 'artifact-name': 'a/b/c:d' });
    expect(problem.startsWith('artifact-name: "a/b/c:d" contains "/", ":";')).toBe(true);
  });
});

describe('getInputs: delivery to GitHub', () => {
  const TOKEN = 'ghs_test-token-0123456789';

  it('reads github-token (the defaults of the others are in the defaults test above)', async () => {
    expect((await run({ 'github-token': TOKEN })).settings.github.token).toBe(TOKEN);
  });

  it('reads every value', async () => {
    const { settings, warnings } = await run({
      'github-token': TOKEN,
      comment: 'always',
      'comment-tag': 'icons.v2_x-1',
      commit: 'true',
      'commit-method': 'git',
      'commit-branch': 'refs/heads/assets/regenerated',
      'commit-message': 'chore: {count} images by {model}',
      'only-changed': 'true'
    });
    expect(settings.github).toMatchObject({
      comment: 'always',
      commentTag: 'icons.v2_x-1',
      commit: true,
      commitMethod: 'git',
      commitBranch: 'assets/regenerated',
      commitMessage: 'chore: {count} images by {model}',
      onlyChanged: true
    });
    expect(warnings).toEqual([]);
  });

  it.each([
    ['comment', 'sometimes', 'comment: "sometimes" is not valid; valid values are auto, always, never'],
    ['commit', 'yes', 'commit: "yes" is not a boolean; use true or false'],
    ['commit-method', 'ssh', 'commit-method: "ssh" is not valid; valid values are api, git'],
    ['only-changed', '1', 'only-changed: "1" is not a boolean; use true or false'],
    ['comment-tag', 'my tag', 'comment-tag: "my tag" is not valid; use 1 to 64 letters, digits, dots, dashes or underscores'],
    ['comment-tag', 'x-->', 'comment-tag: "x-->" is not valid; use 1 to 64 letters, digits, dots, dashes or underscores'],
    [
      'commit-message',
      'Edit {count} with {prompt}',
      'commit-message: unknown placeholder {prompt} in "Edit {count} with {prompt}"; valid placeholders are {count}, {model}'
    ]
  ])('%s: %j is refused', async (name, value, problem) => {
    expect(await problemsOf({ 'github-token': TOKEN, [name]: value })).toEqual([problem]);
  });

  it.each(['has space', 'a..b', 'ends/', '-dash', 'x.lock', 'a~1', 'what?', 'a:b', '.hidden', 'a//b', 'at@{1}', 'refs/heads/'])(
    'commit-branch and preview-branch: %j is not a branch name',
    async branch => {
      for (const name of ['commit-branch', 'preview-branch']) {
        const problems = await problemsOf({ 'github-token': TOKEN, [name]: branch });
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(new RegExp(`^${name}: .* is not a valid branch name \\(`));
      }
    }
  );

  it('needs github-token for an API commit, a preview branch and only-changed, and says why', async () => {
    const problems = await problemsOf({ 'github-token': '', commit: 'true', 'only-changed': 'true' });
    expect(problems).toEqual([
      'github-token: empty, but commit: true with commit-method api commits through the GitHub API and needs it (the default is ${{ github.token }})',
      'github-token: empty, but only-changed: true asks GitHub which files changed and needs it'
    ]);
    expect(await problemsOf({ 'github-token': '', 'preview-branch': 'previews' })).toEqual([
      'github-token: empty, but preview-branch "previews" is pushed through the GitHub API and needs it'
    ]);
    // The git CLI pushes with the checkout's own credentials; commenting without a token is skipped later.
    expect((await run({ 'github-token': '', commit: 'true', 'commit-method': 'git' })).settings.github.commit).toBe(true);
  });

  it('warns that preview-branch is not used when the outputs are committed', async () => {
    const { warnings } = await run({ 'github-token': TOKEN, commit: 'true', 'preview-branch': 'previews' });
    expect(warnings).toEqual(['preview-branch: "previews" is not used: with commit: true the previews link the commit that holds the outputs']);
  });

  it('masks the token on a runner and never names it in a problem', async () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await run({ 'github-token': TOKEN }, { GITHUB_ACTIONS: 'true' });
    } finally {
      spy.mockRestore();
    }
    expect(written.join('')).toContain(`::add-mask::${TOKEN}`);
    const problems = await problemsOf({ 'github-token': TOKEN, comment: 'nope', commit: 'maybe' });
    expect(problems.join('\n')).not.toContain(TOKEN);
  });
});

describe('actionInputs', () => {
  it('reads INPUT_ variables through @actions/core, trimmed', () => {
    process.env['INPUT_OUTPUT-PATH'] = '  out/{name}.{format}  \n';
    try {
      const read = actionInputs();
      expect(read('output-path')).toBe('out/{name}.{format}');
      expect(read('not-set-anywhere')).toBe('');
    } finally {
      delete process.env['INPUT_OUTPUT-PATH'];
    }
  });
});
