/**
 * runPipeline in-process against loopback endpoints (the stand-in, or the
 * programmable test server), on real files in a temporary workspace.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startStandIn, type StandIn, type StandInOptions } from '../stand-in/edit-endpoint.mjs';
import { padPng, readPngHeader } from '../stand-in/png.mjs';
import { createEditClient, type EditClient } from '../src/edit-client.js';
import { getInputs } from '../src/input-helper.js';
import { silentLog } from '../src/log.js';
import { redact, runPipeline, type PipelineDeps, type PipelineResult } from '../src/pipeline.js';
import type { Settings } from '../src/settings.js';
import { json, startEditServer, tinyPng, type TestServer } from './helpers/edit-server.js';
import { FIXTURES, makePng } from './helpers/images.js';
import { listFiles as listFilesUnder } from './helpers/runner.js';

const KEY = 'sk-pipeline-test-0123456789';
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

let workspace: string;
let standIn: StandIn | undefined;
let server: TestServer | undefined;

beforeEach(() => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-'));
});

afterEach(async () => {
  await standIn?.close();
  await server?.close();
  standIn = undefined;
  server = undefined;
  fs.rmSync(workspace, { recursive: true, force: true });
});

function put(file: string, bytes: Buffer | string): void {
  const full = path.join(workspace, file);
  fs.mkdirSync(path.dirname(full), { recursive: true });
  fs.writeFileSync(full, bytes);
}

/** Every file in the workspace (hidden ones too), relative, sorted. */
const listFiles = (): string[] => listFilesUnder(workspace);

async function startStandInFor(options: StandInOptions = {}): Promise<StandIn> {
  standIn = await startStandIn({ requireKey: KEY, ...options });
  return standIn;
}

async function settingsFor(endpoint: string, values: Record<string, string> = {}): Promise<Settings> {
  const all: Record<string, string> = {
    images: 'art/*.png',
    prompt: 'Make {name} blue',
    'api-key': KEY,
    endpoint,
    manifest: '',
    ...values
  };
  const { settings } = await getInputs(name => all[name] ?? '', { workspace, env: {} });
  return settings;
}

/** A client with fast retries, so a test can see retries without waiting seconds. */
function fastClient(settings: Settings, concurrency = settings.concurrency): EditClient {
  return createEditClient({
    endpoint: settings.endpoint,
    apiKey: settings.apiKey,
    mode: settings.mode,
    taskEndpoint: settings.taskEndpoint,
    timeoutMs: settings.timeoutMs,
    maxRetries: settings.maxRetries,
    concurrency,
    retryBaseMs: 5,
    retryMaxMs: 20,
    pollIntervalMs: 20
  });
}

async function run(settings: Settings, deps: Partial<PipelineDeps> = {}): Promise<PipelineResult> {
  const client = deps.client;
  try {
    return await runPipeline(settings, { log: silentLog, ...deps });
  } finally {
    await client?.close();
  }
}

const statusOf = (result: PipelineResult): Array<[string, string]> => result.results.map(r => [r.source, r.status]);

describe('runPipeline: concurrency and order', () => {
  it('never has more than `concurrency` edits in flight, and keeps the input order when answers finish out of order', async () => {
    const count = 12;
    const names = Array.from({ length: count }, (_, i) => `art/img-${String(i).padStart(2, '0')}.png`);
    for (const name of names) put(name, makePng(4, 4));

    server = await startEditServer();
    let inFlight = 0;
    let maxInFlight = 0;
    const finished: number[] = [];
    server.fallback = async (req, res) => {
      const image = req.form?.get('image') as File;
      const index = Number(/img-(\d+)/.exec(image.name)![1]);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // Earlier files answer later: the finishing order is not the input order.
      await sleep(60 + (count - index) * 15);
      inFlight--;
      finished.push(index);
      // The answer's width tells which source it was made for.
      json(200, { created: 1, data: [{ b64_json: tinyPng(index + 1, 1).toString('base64') }] })(req, res);
    };

    const settings = await settingsFor(server.url().href, { concurrency: '3' });
    // The client's own pool would allow 16: only the pipeline limits to 3.
    const client = fastClient(settings, 16);
    let callsInFlight = 0;
    let maxCalls = 0;
    const counting: EditClient = {
      edit: async (request, callbacks) => {
        callsInFlight++;
        maxCalls = Math.max(maxCalls, callsInFlight);
        try {
          return await client.edit(request, callbacks);
        } finally {
          callsInFlight--;
        }
      },
      close: () => client.close()
    };
    const result = await run(settings, { client: counting });

    expect(maxInFlight).toBe(3);
    expect(maxCalls).toBe(3);
    expect(server.requests).toHaveLength(count);
    expect(finished).not.toEqual([...finished].sort((a, b) => a - b));
    expect(result.results.map(r => r.source)).toEqual(names);
    expect(result.results.every(r => r.status === 'edited' && r.attempts === 1)).toBe(true);
    expect(result.outputFiles).toEqual(names.map(name => name.replace('.png', '.edited.png')));
    // Each output holds the answer made for its own source.
    for (const [i, output] of result.outputFiles.entries()) {
      expect(readPngHeader(fs.readFileSync(path.join(workspace, output))).width).toBe(i + 1);
    }
  });
});

describe('runPipeline: answers and outputs', () => {
  it('writes n = 3 variants to -1, -2, -3 (b64 answers)', async () => {
    put('art/a.png', makePng(16, 16));
    const s = await startStandInFor();
    const result = await run(await settingsFor(s.url, { n: '3' }));
    expect(statusOf(result)).toEqual([['art/a.png', 'edited']]);
    const outputs = ['art/a.edited-1.png', 'art/a.edited-2.png', 'art/a.edited-3.png'];
    expect(result.outputFiles).toEqual(outputs);
    const bytes = outputs.map(output => fs.readFileSync(path.join(workspace, output)));
    for (const data of bytes) expect(data.subarray(0, 4)).toEqual(PNG_MAGIC);
    // Three different images (the stand-in frames each variant in its own colour).
    expect(new Set(bytes.map(data => data.toString('base64'))).size).toBe(3);
    expect(s.requests[0].fields.n).toBe('3');
    expect(s.requests[0].fields.response_format).toBeUndefined();
    expect(result.results[0].revisedPrompt).toContain('Make a blue');
  });

  it('downloads url answers (dall-e-2, response-format url) without sending the key to the image URL', async () => {
    put('art/a.png', makePng(16, 16));
    const s = await startStandInFor();
    const result = await run(await settingsFor(s.url, { model: 'dall-e-2', 'response-format': 'url' }));
    expect(statusOf(result)).toEqual([['art/a.png', 'edited']]);
    const written = fs.readFileSync(path.join(workspace, 'art/a.edited.png'));
    expect(written.subarray(0, 4)).toEqual(PNG_MAGIC);
    expect(readPngHeader(written).width).toBe(16);
    expect(s.requests.map(r => r.kind)).toEqual(['edit', 'file']);
    expect(s.requests[0].fields.response_format).toBe('url');
    expect(s.requests[1].hasAuthorization).toBe(false);
  });

  it('sends the source first, then the reference images as image[] parts, and the mask', async () => {
    put('art/a.png', makePng(16, 16));
    put('art/a.mask.png', makePng(16, 16, () => [0, 0, 0, 0]));
    put('refs/style.png', makePng(8, 8));
    put('refs/z.webp', fs.readFileSync(path.join(FIXTURES, 'lossy.webp')));
    const s = await startStandInFor();
    const settings = await settingsFor(s.url, { 'reference-images': 'refs/*', mask: '{dir}/{name}.mask.png' });
    const result = await run(settings);
    expect(statusOf(result)).toEqual([['art/a.png', 'edited']]);
    expect(s.requests[0].files.map(f => [f.name, f.filename, f.type])).toEqual([
      ['image[]', 'a.png', 'image/png'],
      ['image[]', 'style.png', 'image/png'],
      ['image[]', 'z.webp', 'image/webp'],
      ['mask', 'a.mask.png', 'image/png']
    ]);
  });

  it('with overwrite: false, an existing output fails that file only and is left untouched', async () => {
    put('art/a.png', makePng(8, 8));
    put('art/b.png', makePng(8, 8));
    put('art/c.png', makePng(8, 8));
    put('out/b.png', 'precious');
    const s = await startStandInFor();
    const settings = await settingsFor(s.url, { overwrite: 'false', 'output-path': 'out/{name}.{format}' });
    const result = await run(settings);
    expect(statusOf(result)).toEqual([
      ['art/a.png', 'edited'],
      ['art/b.png', 'failed'],
      ['art/c.png', 'edited']
    ]);
    expect(result.results[1].error).toContain('already exists');
    expect(result.results[1].outputs).toEqual([]);
    expect(fs.readFileSync(path.join(workspace, 'out/b.png'), 'utf8')).toBe('precious');
    expect(result.outputFiles).toEqual(['out/a.png', 'out/c.png']);
    // No request is sent (and billed) for a file whose output is already there.
    expect(s.requests.map(r => r.files[0].filename).sort()).toEqual(['a.png', 'c.png']);
    expect(listFiles()).toEqual(['art/a.png', 'art/b.png', 'art/c.png', 'out/a.png', 'out/b.png', 'out/c.png']);
  });

  it('a file the endpoint always fails (500) fails after its retries; the others are edited', async () => {
    for (const name of ['a', 'bad', 'c']) put(`art/${name}.png`, makePng(8, 8));
    const s = await startStandInFor({
      intercept: summary =>
        summary.files[0]?.filename === 'bad.png' ? { status: 500, body: { error: { message: 'the upstream broke' } } } : undefined
    });
    const settings = await settingsFor(s.url, { 'max-retries': '2', concurrency: '1' });
    const result = await run(settings, { client: fastClient(settings) });
    expect(statusOf(result)).toEqual([
      ['art/a.png', 'edited'],
      ['art/bad.png', 'failed'],
      ['art/c.png', 'edited']
    ]);
    const bad = result.results[1];
    expect(bad.attempts).toBe(3);
    expect(bad.error).toContain('HTTP 500');
    expect(bad.error).toContain('the upstream broke');
    expect(s.requests.filter(r => r.files[0]?.filename === 'bad.png')).toHaveLength(3);
    expect(fs.existsSync(path.join(workspace, 'art/bad.edited.png'))).toBe(false);
    expect(result.outputFiles).toEqual(['art/a.edited.png', 'art/c.edited.png']);
  });
});

describe('runPipeline: the manifest', () => {
  it('records edited files; a rerun skips them, a changed prompt or a missing output edits again', async () => {
    put('art/a.png', makePng(8, 8));
    put('art/b.png', makePng(8, 8, () => [255, 0, 0, 255]));
    const s = await startStandInFor();
    const manifestValues = { manifest: '.image-edits.json' };

    const first = await run(await settingsFor(s.url, manifestValues));
    expect(statusOf(first)).toEqual([
      ['art/a.png', 'edited'],
      ['art/b.png', 'edited']
    ]);
    const manifest = JSON.parse(fs.readFileSync(path.join(workspace, '.image-edits.json'), 'utf8'));
    expect(Object.keys(manifest.entries)).toEqual(['art/a.png', 'art/b.png']);
    expect(manifest.entries['art/a.png'].outputs).toEqual(['art/a.edited.png']);
    expect(s.requests).toHaveLength(2);

    const second = await run(await settingsFor(s.url, manifestValues));
    expect(statusOf(second)).toEqual([
      ['art/a.png', 'skipped'],
      ['art/b.png', 'skipped']
    ]);
    expect(second.outputFiles).toEqual([]);
    expect(s.requests).toHaveLength(2);

    const changed = await run(await settingsFor(s.url, { ...manifestValues, prompt: 'Make {name} green' }));
    expect(statusOf(changed)).toEqual([
      ['art/a.png', 'edited'],
      ['art/b.png', 'edited']
    ]);
    expect(s.requests).toHaveLength(4);
    expect(s.requests[3].fields.prompt).toBe('Make b green');

    fs.rmSync(path.join(workspace, 'art/a.edited.png'));
    const missing = await run(await settingsFor(s.url, { ...manifestValues, prompt: 'Make {name} green' }));
    expect(statusOf(missing)).toEqual([
      ['art/a.png', 'edited'],
      ['art/b.png', 'skipped']
    ]);
    expect(s.requests).toHaveLength(5);
  });

  it('sends a small file read ahead and a large one streamed byte for byte, and fingerprints the bytes sent', async () => {
    const small = makePng(8, 8);
    const large = padPng(makePng(8, 8, () => [0, 255, 0, 255]), 3 * 1024 * 1024);
    put('art/a-small.png', small);
    put('art/b-large.png', large);
    server = await startEditServer();
    server.fallback = json(200, { created: 1, data: [{ b64_json: tinyPng(2, 2, 5).toString('base64') }] });
    const manifestValues = { manifest: '.image-edits.json', model: 'gpt-image-1' };

    const first = await run(await settingsFor(server.url().href, manifestValues));
    expect(statusOf(first)).toEqual([
      ['art/a-small.png', 'edited'],
      ['art/b-large.png', 'edited']
    ]);
    const sent = await Promise.all(
      server.requests.map(async request => {
        const image = request.form?.get('image') as File;
        return [image.name, Buffer.from(await image.arrayBuffer())] as const;
      })
    );
    const byName = new Map(sent);
    expect(byName.get('a-small.png')?.equals(small)).toBe(true);
    expect(byName.get('b-large.png')?.equals(large)).toBe(true);

    // The fingerprints recorded from the bytes sent are those of the files: a rerun skips both.
    const second = await run(await settingsFor(server.url().href, manifestValues));
    expect(statusOf(second)).toEqual([
      ['art/a-small.png', 'skipped'],
      ['art/b-large.png', 'skipped']
    ]);
    expect(server.requests).toHaveLength(2);
  });

  it('does not record a failed file: the next run tries it again', async () => {
    put('art/a.png', makePng(8, 8));
    let fail = true;
    const s = await startStandInFor({ intercept: () => (fail ? { status: 400, body: { error: { message: 'nope' } } } : undefined) });
    const values = { manifest: '.image-edits.json' };
    const first = await run(await settingsFor(s.url, values));
    expect(statusOf(first)).toEqual([['art/a.png', 'failed']]);
    expect(fs.existsSync(path.join(workspace, '.image-edits.json'))).toBe(false);
    fail = false;
    const second = await run(await settingsFor(s.url, values));
    expect(statusOf(second)).toEqual([['art/a.png', 'edited']]);
    expect(s.requests).toHaveLength(2);
  });
});

describe('runPipeline: dry run and cancellation', () => {
  it('a dry run sends nothing and writes nothing', async () => {
    put('art/a.png', makePng(8, 8));
    put('art/b.png', makePng(8, 8));
    const s = await startStandInFor();
    const before = listFiles();
    const result = await run(await settingsFor(s.url, { 'dry-run': 'true', manifest: '.image-edits.json' }));
    expect(statusOf(result)).toEqual([
      ['art/a.png', 'skipped'],
      ['art/b.png', 'skipped']
    ]);
    expect(result.results[0].reason).toBe('dry run: would be edited');
    expect(result.results[0].outputs).toEqual(['art/a.edited.png']);
    expect(result.outputFiles).toEqual([]);
    expect(s.requests).toHaveLength(0);
    expect(listFiles()).toEqual(before);
  });

  it('an abort stops in-flight edits, reports every file, and leaves no partial or temporary file', async () => {
    for (const name of ['a', 'b', 'c', 'd']) put(`art/${name}.png`, makePng(8, 8));
    const s = await startStandInFor({ latencyMs: 30_000 });
    const before = listFiles();
    const controller = new AbortController();
    const settings = await settingsFor(s.url, { concurrency: '2', 'output-path': 'out/{name}.{format}', manifest: '.image-edits.json' });
    const running = run(settings, { signal: controller.signal });
    for (let i = 0; i < 500 && s.stats.inFlight < 2; i++) await sleep(10);
    expect(s.stats.inFlight).toBe(2);
    const started = Date.now();
    controller.abort(new Error('test abort'));
    const result = await running;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.cancelled).toBe(true);
    expect(result.results.map(r => r.status)).toEqual(['failed', 'failed', 'failed', 'failed']);
    expect(result.results[0].error).toMatch(/cancel/);
    expect(result.results[3].error).toMatch(/cancelled before it started/);
    // Nothing was written for it: no output path is reported.
    expect(result.results[3].outputs).toEqual([]);
    expect(result.outputFiles).toEqual([]);
    expect(s.requests).toHaveLength(2);
    expect(listFiles()).toEqual(before);
  });
});

describe('runPipeline: API text', () => {
  it('hides the key in a revised prompt that echoes the request', async () => {
    put('art/a.png', makePng(8, 8));
    server = await startEditServer();
    server.fallback = json(200, { created: 1, data: [{ b64_json: tinyPng(2, 2, 1).toString('base64'), revised_prompt: `as asked with key ${KEY}` }] });
    const result = await run(await settingsFor(server.url().href, { model: 'gpt-image-1' }));
    expect(result.results[0].revisedPrompt).toBe('as asked with key ***');
  });
});

describe('redact', () => {
  it('hides every occurrence of the key', () => {
    expect(redact(`a ${KEY} b ${KEY}`, { apiKey: KEY })).toBe('a *** b ***');
    expect(redact('nothing here', { apiKey: KEY })).toBe('nothing here');
    expect(redact(`kept ${KEY}`, { apiKey: '' })).toBe(`kept ${KEY}`);
  });

  it('hides the start of the key where a message was cut short with …', () => {
    expect(redact(`HTTP 500: xxx ${KEY.slice(0, 15)}…`, { apiKey: KEY })).toBe('HTTP 500: xxx ***…');
    expect(redact(`${KEY.slice(0, 6)}… and ${KEY}`, { apiKey: KEY })).toBe('***… and ***');
    // Too short a piece to tell from ordinary text: left alone.
    expect(redact(`${KEY.slice(0, 3)}…`, { apiKey: KEY })).toBe(`${KEY.slice(0, 3)}…`);
  });
});

describe('runPipeline: what the endpoint sends back', () => {
  it('fails a file whose answer is not an image and writes nothing for it; another type than asked is written with a warning', async () => {
    put('art/a.png', makePng(8, 8));
    put('art/b.png', makePng(8, 8));
    server = await startEditServer();
    server.fallback = async (req, res) => {
      const image = req.form?.get('image') as File;
      const bytes = image.name === 'a.png' ? Buffer.from('<html>not an image</html>') : Buffer.from(fs.readFileSync(path.join(FIXTURES, 'photo.jpg')));
      json(200, { created: 1, data: [{ b64_json: bytes.toString('base64') }] })(req, res);
    };
    const warnings: string[] = [];
    const settings = await settingsFor(server.url('/openai/images/edits').href, { 'max-retries': '0' });
    const result = await runPipeline(settings, { log: { ...silentLog, warning: message => warnings.push(message) } });
    expect(statusOf(result)).toEqual([
      ['art/a.png', 'failed'],
      ['art/b.png', 'edited']
    ]);
    expect(result.results[0].error).toMatch(/not a PNG, JPEG or WebP image; nothing was written to art\/a\.edited\.png/);
    expect(fs.existsSync(path.join(workspace, 'art/a.edited.png'))).toBe(false);
    expect(warnings).toEqual([expect.stringMatching(/art\/b\.edited\.png: the endpoint returned a JPEG image, not PNG/)]);
  });

  it('a manifest that cannot be saved is a warning: the written images are still reported', async () => {
    put('art/a.png', makePng(8, 8));
    server = await startEditServer();
    server.fallback = async (req, res) => {
      // While the request is in flight, a folder takes the manifest's place: saving it must fail.
      fs.mkdirSync(path.join(workspace, 'state.json'), { recursive: true });
      json(200, { created: 1, data: [{ b64_json: makePng(8, 8).toString('base64') }] })(req, res);
    };
    const warnings: string[] = [];
    const settings = await settingsFor(server.url('/openai/images/edits').href, { manifest: 'state.json' });
    const result = await runPipeline(settings, { log: { ...silentLog, warning: message => warnings.push(message) } });
    expect(statusOf(result)).toEqual([['art/a.png', 'edited']]);
    expect(result.outputFiles).toEqual(['art/a.edited.png']);
    expect(warnings).toEqual([expect.stringMatching(/^The manifest state\.json could not be saved: /)]);
  });
});
