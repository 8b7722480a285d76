import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createEditClient, EditError, editParts, type EditClient, type EditClientOptions, type EditFile, type EditRequest } from '../src/edit-client.js';
import type { EditParameters } from '../src/settings.js';
import { hang, json, raw, redirect, reset, sse, stall, startEditServer, tinyPng, type Handler, type TestServer } from './helpers/edit-server.js';

const API_KEY = 'sk-test-SECRET-key-0123456789';

let dir: string;
let server: TestServer;
let other: TestServer;
const clients: EditClient[] = [];

const SOURCE = tinyPng(4, 4, 1);
const REF_JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('not really a jpeg, but bytes are bytes')]);
const REF_WEBP = Buffer.concat([Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 ', 'latin1'), Buffer.alloc(8, 3)]);
const MASK = tinyPng(4, 4, 9);
const RESULT_1 = tinyPng(4, 4, 2);
const RESULT_2 = tinyPng(4, 4, 3);
const PARTIAL = tinyPng(2, 2, 4);

let source: EditFile;
let refJpeg: EditFile;
let refWebp: EditFile;
let mask: EditFile;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edit-client-test-'));
  const file = async (name: string, bytes: Buffer, contentType: string): Promise<EditFile> => {
    const full = path.join(dir, name);
    await writeFile(full, bytes);
    return { path: full, filename: name, contentType };
  };
  source = await file('logo.png', SOURCE, 'image/png');
  refJpeg = await file('ref one.jpg', REF_JPEG, 'image/jpeg');
  refWebp = await file('ref-two.webp', REF_WEBP, 'image/webp');
  mask = await file('logo.mask.png', MASK, 'image/png');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  server = await startEditServer();
  other = await startEditServer();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map(c => c.close()));
  await Promise.all([server.close(), other.close()]);
});

function client(overrides: Partial<EditClientOptions> = {}): EditClient {
  const created = createEditClient({
    endpoint: server.url('/v1/images/edits'),
    apiKey: API_KEY,
    mode: 'sync',
    timeoutMs: 5000,
    maxRetries: 2,
    concurrency: 2,
    retryBaseMs: 10,
    retryMaxMs: 40,
    pollIntervalMs: 20,
    pollDeadlineMs: 5000,
    ...overrides
  });
  clients.push(created);
  return created;
}

const PARAMS: EditParameters = {
  model: 'gpt-image-1',
  n: 1,
  size: '1024x1024',
  quality: 'high',
  background: 'opaque',
  inputFidelity: 'high',
  outputFormat: 'png',
  outputCompression: 80
};

function editRequest(overrides: Partial<EditRequest> = {}): EditRequest {
  return { images: [source], prompt: 'Make the logo blue', params: PARAMS, ...overrides };
}

const b64 = (bytes: Buffer): string => bytes.toString('base64');
const ok = (images: Buffer[] = [RESULT_1], extra: Record<string, unknown> = {}): Handler =>
  json(200, { created: 1, data: images.map(i => ({ b64_json: b64(i), revised_prompt: 'a blue logo' })), ...extra }, { 'x-request-id': 'req_ok' });

async function fileBytes(value: unknown): Promise<Buffer> {
  expect(value).toBeInstanceOf(File);
  return Buffer.from(await (value as File).arrayBuffer());
}

async function editError(promise: Promise<unknown>): Promise<EditError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(EditError);
    return err as EditError;
  }
  throw new Error('expected the edit to fail');
}

describe('the request', () => {
  it('sends one image as `image` with the exact fields, headers and bytes', async () => {
    server.queue(ok());
    const outcome = await client().edit(editRequest());
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0];
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/v1/images/edits');
    expect(req.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(req.headers.accept).toBe('application/json');
    expect(req.headers['user-agent']).toBe('image-edit-action');
    expect(req.headers['transfer-encoding']).toBeUndefined();
    expect(Number(req.headers['content-length'])).toBe(req.body.length);
    expect(req.formError).toBeUndefined();
    const form = req.form!;
    const texts = Object.fromEntries([...form.entries()].filter(([, v]) => typeof v === 'string'));
    expect(texts).toEqual({
      prompt: 'Make the logo blue',
      model: 'gpt-image-1',
      n: '1',
      size: '1024x1024',
      quality: 'high',
      background: 'opaque',
      input_fidelity: 'high',
      output_format: 'png',
      output_compression: '80'
    });
    expect(form.has('response_format')).toBe(false);
    expect(form.has('image[]')).toBe(false);
    expect(form.has('mask')).toBe(false);
    expect(form.getAll('image')).toHaveLength(1);
    const image = form.get('image') as File;
    expect(image.name).toBe('logo.png');
    expect(image.type).toBe('image/png');
    expect((await fileBytes(image)).equals(SOURCE)).toBe(true);

    expect(outcome).toEqual({
      kind: 'images',
      images: [{ data: RESULT_1, revisedPrompt: 'a blue logo' }],
      attempts: 1,
      requestId: 'req_ok'
    });
  });

  it('sends several images as repeated `image[]` in order, and the mask', async () => {
    server.queue(ok([RESULT_1, RESULT_2]));
    const outcome = await client().edit(editRequest({ images: [source, refJpeg, refWebp], mask, params: { ...PARAMS, n: 2 } }));
    const form = server.requests[0].form!;
    expect(form.has('image')).toBe(false);
    const images = form.getAll('image[]') as File[];
    expect(images.map(i => [i.name, i.type])).toEqual([
      ['logo.png', 'image/png'],
      ['ref one.jpg', 'image/jpeg'],
      ['ref-two.webp', 'image/webp']
    ]);
    expect((await fileBytes(images[0])).equals(SOURCE)).toBe(true);
    expect((await fileBytes(images[1])).equals(REF_JPEG)).toBe(true);
    expect((await fileBytes(images[2])).equals(REF_WEBP)).toBe(true);
    const maskPart = form.get('mask') as File;
    expect([maskPart.name, maskPart.type]).toEqual(['logo.mask.png', 'image/png']);
    expect((await fileBytes(maskPart)).equals(MASK)).toBe(true);
    expect(form.get('n')).toBe('2');
    expect(outcome.kind === 'images' && outcome.images.map(i => i.data)).toEqual([RESULT_1, RESULT_2]);
  });

  it('sends only the parameters that are set, and response_format when given', async () => {
    server.queue(ok());
    await client().edit(editRequest({ params: { model: 'dall-e-2', n: 1, responseFormat: 'b64_json' } }));
    const form = server.requests[0].form!;
    expect([...form.keys()].sort()).toEqual(['image', 'model', 'n', 'prompt', 'response_format']);
    expect(form.get('response_format')).toBe('b64_json');
  });

  it('maps parameters to wire names in one place', () => {
    const parts = editParts(editRequest({ params: { ...PARAMS, partialImages: 2, callbackUrl: 'https://hook.example/x' } }), 'stream');
    expect(parts.map(p => p.name)).toEqual([
      'prompt', 'model', 'n', 'size', 'quality', 'background', 'input_fidelity', 'output_format', 'output_compression',
      'partial_images', 'stream', 'callback_url', 'image'
    ]);
    expect(editParts(editRequest(), 'async').find(p => p.name === 'async')).toEqual({ name: 'async', value: 'true' });
  });

  it('names a missing file in the error', async () => {
    const missing = path.join(dir, 'gone.png');
    const error = await editError(client().edit(editRequest({ images: [{ path: missing, filename: 'gone.png', contentType: 'image/png' }] })));
    expect(error.message).toContain(missing);
    expect(server.requests).toHaveLength(0);
  });
});

describe('answers', () => {
  it('downloads url answers without the Authorization header, following redirects', async () => {
    other.queue(redirect(302, '/files/final.png'), (req, res) => {
      if (req.headers.authorization !== undefined) {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end('the API key was sent to the download server');
        return;
      }
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(RESULT_2);
    });
    server.queue(json(200, { created: 1, data: [{ url: other.url('/files/result.png?sig=abc').href }] }));
    const outcome = await client({ maxRetries: 0 }).edit(editRequest());
    expect(outcome.kind === 'images' && outcome.images[0].data).toEqual(RESULT_2);
    expect(other.requests.map(r => [r.method, r.url, r.headers.authorization])).toEqual([
      ['GET', '/files/result.png?sig=abc', undefined],
      ['GET', '/files/final.png', undefined]
    ]);
  });

  it('retries a download that fails with 503', async () => {
    other.queue(json(503, { error: { message: 'busy' } }), raw(200, RESULT_1, { 'content-type': 'image/png' }));
    server.queue(json(200, { data: [{ url: other.url('/r.png').href }] }));
    const outcome = await client().edit(editRequest());
    expect(outcome.kind === 'images' && outcome.images[0].data).toEqual(RESULT_1);
    expect(other.requests).toHaveLength(2);
  });

  it('reports a download that answers 404', async () => {
    other.queue(raw(404, 'Not Found', { 'content-type': 'text/plain' }));
    server.queue(json(200, { data: [{ url: other.url('/r.png?token=s3cr3t').href }] }));
    const error = await editError(client().edit(editRequest()));
    expect(error.code).toBe('DOWNLOAD');
    expect(error.status).toBe(404);
    expect(error.message).toBe(`downloading ${other.origin}/r.png: HTTP 404: Not Found`);
  });

  it('says so when a 200 answer is not JSON', async () => {
    server.queue(raw(200, '<html><body>Gateway says hi</body></html>', { 'content-type': 'text/html' }));
    const error = await editError(client().edit(editRequest()));
    expect(error.message).toBe("the endpoint's answer is not JSON: <html><body>Gateway says hi</body></html>");
    expect(error.code).toBe('BAD_ANSWER');
    expect(error.attempts).toBe(1);
    expect(server.requests).toHaveLength(1);
  });

  it('says so when a 200 answer has no image', async () => {
    server.queue(json(200, { created: 1, data: [] }));
    const error = await editError(client().edit(editRequest()));
    expect(error.message).toBe('the endpoint answered 200 without an image');
    expect(error.code).toBe('BAD_ANSWER');
  });

  it('reports an error inside a 200 answer', async () => {
    server.queue(json(200, { success: false, error: { code: 'bad_prompt', message: 'The prompt was rejected' }, trace_id: 'trace-200' }));
    const error = await editError(client().edit(editRequest()));
    expect(error.message).toBe('the endpoint reported an error: The prompt was rejected (request id trace-200)');
    expect(error.apiMessage).toBe('The prompt was rejected');
  });
});

describe('errors and retries', () => {
  it('honours Retry-After on 429', async () => {
    server.queue(json(429, { error: { message: 'Rate limit reached' } }, { 'retry-after': '1' }), ok());
    const retries: Array<{ attempt: number; delayMs: number; reason: string }> = [];
    const started = Date.now();
    const outcome = await client().edit(editRequest(), { onRetry: info => retries.push(info) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(outcome.attempts).toBe(2);
    expect(retries).toEqual([{ attempt: 1, delayMs: 1000, reason: 'HTTP 429: Rate limit reached' }]);
    expect(server.requests).toHaveLength(2);
    expect((await fileBytes(server.requests[1].form!.get('image'))).equals(SOURCE)).toBe(true);
  });

  it('retries a 500', async () => {
    server.queue(json(500, { error: { message: 'boom' } }), ok());
    const outcome = await client().edit(editRequest());
    expect(outcome.attempts).toBe(2);
  });

  it('names the status when an error answer says nothing (empty body, {})', async () => {
    server.queue(raw(502, ''), json(503, {}), raw(500, '  {  }  '));
    const reasons: string[] = [];
    const error = await editError(client({ maxRetries: 2 }).edit(editRequest(), { onRetry: info => reasons.push(info.reason) }));
    expect(reasons).toEqual(['HTTP 502: Bad Gateway', 'HTTP 503: Service Unavailable']);
    expect(error.message).toBe('HTTP 500: Internal Server Error');
  });

  it('retries a connection reset', async () => {
    server.queue(reset(), ok());
    const reasons: string[] = [];
    const outcome = await client().edit(editRequest(), { onRetry: info => reasons.push(info.reason) });
    expect(outcome.attempts).toBe(2);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^the edit request failed: /);
  });

  it('retries a refused connection, then reports it', async () => {
    const closed = await startEditServer();
    const endpoint = closed.url('/v1/images/edits');
    await closed.close();
    const reasons: string[] = [];
    const error = await editError(client({ endpoint, maxRetries: 1 }).edit(editRequest(), { onRetry: info => reasons.push(info.reason) }));
    expect(error.code).toBe('NETWORK');
    expect(error.attempts).toBe(2);
    expect(error.message).toMatch(/^the edit request failed: .*ECONNREFUSED/);
    expect(reasons).toHaveLength(1);
  });

  it('retries an attempt that hangs past the timeout', async () => {
    server.queue(hang(), ok());
    const reasons: string[] = [];
    const outcome = await client({ timeoutMs: 300 }).edit(editRequest(), { onRetry: info => reasons.push(info.reason) });
    expect(outcome.attempts).toBe(2);
    expect(reasons).toEqual(['the edit request timed out: no complete answer within 300 ms (the timeout per attempt)']);
  });

  it('times out an answer whose body stalls', async () => {
    server.queue(stall(), ok());
    const outcome = await client({ timeoutMs: 300 }).edit(editRequest());
    expect(outcome.attempts).toBe(2);
  });

  it('gives up after maxRetries+1 attempts that all hang', async () => {
    server.fallback = hang();
    const error = await editError(client({ timeoutMs: 300, maxRetries: 2 }).edit(editRequest()));
    expect(error.code).toBe('TIMEOUT');
    expect(error.attempts).toBe(3);
    expect(server.requests).toHaveLength(3);
    expect(error.message).toContain('no complete answer within 300 ms');
  });

  it('does not retry a 400, and reads the OpenAI error shape', async () => {
    server.queue(
      json(
        400,
        { error: { message: "Invalid value: 'huge'. Supported values are: '1024x1024'.", type: 'invalid_request_error', param: 'size', code: 'invalid_value' } },
        { 'x-request-id': 'req_abc123' }
      )
    );
    const retries: unknown[] = [];
    const error = await editError(client().edit(editRequest(), { onRetry: info => retries.push(info) }));
    expect(error.status).toBe(400);
    expect(error.attempts).toBe(1);
    expect(error.code).toBe('HTTP');
    expect(error.apiMessage).toBe("Invalid value: 'huge'. Supported values are: '1024x1024'.");
    expect(error.requestId).toBe('req_abc123');
    expect(error.message).toBe("HTTP 400: Invalid value: 'huge'. Supported values are: '1024x1024'. (request id req_abc123)");
    expect(retries).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('reads the AceData error shape and its trace_id', async () => {
    server.queue(json(403, { success: false, error: { code: 'used_up', message: 'Your balance is used up.' }, trace_id: 'a1b2-trace' }));
    const error = await editError(client().edit(editRequest()));
    expect(error.message).toBe('HTTP 403: Your balance is used up. (request id a1b2-trace)');
    expect(error.requestId).toBe('a1b2-trace');
    expect(error.apiMessage).toBe('Your balance is used up.');
    expect(server.requests).toHaveLength(1);
  });

  it('reports the last error after exhausting retries', async () => {
    server.fallback = json(502, '<html>Bad Gateway</html>');
    const retries: number[] = [];
    const error = await editError(client({ maxRetries: 1 }).edit(editRequest(), { onRetry: info => retries.push(info.attempt) }));
    expect(error.message).toBe('HTTP 502: <html>Bad Gateway</html>');
    expect(error.attempts).toBe(2);
    expect(retries).toEqual([1]);
  });

  it('never puts the API key in an error', async () => {
    server.queue(json(401, { error: { message: `Incorrect API key provided: ${API_KEY}` } }));
    const error = await editError(client().edit(editRequest()));
    expect(error.message).toBe('HTTP 401: Incorrect API key provided: ***');
    expect(error.apiMessage).not.toContain(API_KEY);
  });

  it('refuses a redirect to another origin', async () => {
    server.queue(redirect(307, other.url('/v1/images/edits').href));
    const error = await editError(client().edit(editRequest()));
    expect(error.message).toBe(`the endpoint redirected to another origin (${other.origin}); the API key is only sent to ${server.origin}`);
    expect(error.code).toBe('REDIRECT');
    expect(other.requests).toHaveLength(0);
  });

  it('follows a 308 on the same origin with the whole body again', async () => {
    server.queue(redirect(308, '/v2/images/edits'), ok());
    const outcome = await client().edit(editRequest());
    expect(outcome.kind).toBe('images');
    expect(server.requests.map(r => r.url)).toEqual(['/v1/images/edits', '/v2/images/edits']);
    expect(server.requests[1].headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect((await fileBytes(server.requests[1].form!.get('image'))).equals(SOURCE)).toBe(true);
  });

  it('refuses a 302 for the POST', async () => {
    server.queue(redirect(302, '/login'));
    const error = await editError(client().edit(editRequest()));
    expect(error.message).toBe('the endpoint answered HTTP 302 (a redirect to /login); only 307 and 308 redirects are followed for an edit');
  });

  it('stops at once when the caller aborts mid-request', async () => {
    server.fallback = hang();
    const controller = new AbortController();
    const edit = client({ timeoutMs: 20_000 }).edit(editRequest(), { signal: controller.signal });
    await new Promise(resolve => setTimeout(resolve, 200));
    const started = Date.now();
    controller.abort();
    const error = await editError(edit);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error.code).toBe('ABORTED');
    expect(server.requests).toHaveLength(1);
  });

  it('wakes from the wait between retries when the caller aborts', async () => {
    server.queue(json(503, { error: { message: 'later' } }, { 'retry-after': '30' }));
    const controller = new AbortController();
    const started = Date.now();
    const edit = client().edit(editRequest(), { signal: controller.signal, onRetry: () => controller.abort() });
    const error = await editError(edit);
    expect(error.code).toBe('ABORTED');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(server.requests).toHaveLength(1);
  });

  it('does not start when already aborted', async () => {
    const error = await editError(client().edit(editRequest(), { signal: AbortSignal.abort() }));
    expect(error.code).toBe('ABORTED');
    expect(server.requests).toHaveLength(0);
  });
});

describe('stream mode', () => {
  it('reports partial frames and returns the completed image', async () => {
    server.queue(
      sse([
        { event: 'image_edit.partial_image', data: { type: 'image_edit.partial_image', b64_json: b64(PARTIAL), partial_image_index: 0 } },
        { event: 'image_edit.partial_image', data: { type: 'image_edit.partial_image', b64_json: b64(PARTIAL), partial_image_index: 1 } },
        { event: 'image_edit.completed', data: { type: 'image_edit.completed', b64_json: b64(RESULT_1), revised_prompt: 'blue' } },
        { data: '[DONE]' }
      ], { 'x-request-id': 'req_stream' })
    );
    const partials: Array<{ index: number; bytes: number }> = [];
    const outcome = await client({ mode: 'stream' }).edit(editRequest({ params: { ...PARAMS, partialImages: 2 } }), {
      onPartial: info => partials.push(info)
    });
    expect(partials).toEqual([
      { index: 0, bytes: PARTIAL.length },
      { index: 1, bytes: PARTIAL.length }
    ]);
    expect(outcome).toEqual({ kind: 'images', images: [{ data: RESULT_1, revisedPrompt: 'blue' }], attempts: 1, requestId: 'req_stream' });
    const req = server.requests[0];
    expect(req.headers.accept).toBe('text/event-stream');
    expect(req.form!.get('stream')).toBe('true');
    expect(req.form!.get('partial_images')).toBe('2');
  });

  it('handles a plain JSON answer like sync', async () => {
    server.queue(ok());
    const outcome = await client({ mode: 'stream' }).edit(editRequest());
    expect(outcome.kind === 'images' && outcome.images[0].data).toEqual(RESULT_1);
  });

  it('turns an error event into an EditError', async () => {
    server.queue(sse([{ event: 'error', data: { error: { message: 'content policy violation', code: 'moderation_blocked' } } }]));
    const error = await editError(client({ mode: 'stream' }).edit(editRequest()));
    expect(error.message).toBe("the endpoint's event stream reported an error: content policy violation");
    expect(error.apiMessage).toBe('content policy violation');
    expect(error.code).toBe('API_ERROR');
  });

  it('says so when the stream ends without a completed image', async () => {
    server.queue(sse([{ event: 'image_edit.partial_image', data: { b64_json: b64(PARTIAL), partial_image_index: 0 } }]));
    const error = await editError(client({ mode: 'stream' }).edit(editRequest()));
    expect(error.message).toBe("the endpoint's event stream ended without a completed image");
  });
});

describe('callback mode', () => {
  it('returns the task id and writes no image', async () => {
    server.queue(json(200, { success: true, task_id: 'task-123', trace_id: 'trace-9' }));
    const outcome = await client({ mode: 'callback' }).edit(editRequest({ params: { ...PARAMS, callbackUrl: 'https://hook.example/done' } }));
    expect(outcome).toEqual({ kind: 'queued', taskIds: ['task-123'], attempts: 1, requestId: 'trace-9' });
    expect(server.requests[0].form!.get('callback_url')).toBe('https://hook.example/done');
  });

  it('finds the id under data.task_id too', async () => {
    server.queue(json(200, { data: { task_id: 'nested-1' } }));
    const outcome = await client({ mode: 'callback' }).edit(editRequest());
    expect(outcome.kind === 'queued' && outcome.taskIds).toEqual(['nested-1']);
  });

  it('says so when there is no task id', async () => {
    server.queue(json(200, { ok: true }));
    const error = await editError(client({ mode: 'callback' }).edit(editRequest()));
    expect(error.message).toBe('the endpoint answered without a task id (callback mode): {"ok":true}');
  });
});

describe('async mode', () => {
  const taskEndpoint = (): URL => server.url('/v1/tasks');

  it('submits, polls until the task has a response, then returns its images', async () => {
    server.queue(
      json(200, { task_id: 'task-async-1' }, { 'x-request-id': 'req_submit' }),
      json(200, { id: 'task-async-1', created_at: 1 }),
      json(200, { id: 'task-async-1', created_at: 1, response: null }),
      json(200, {
        id: 'task-async-1',
        finished_at: 2,
        response: { success: true, task_id: 'task-async-1', trace_id: 't-1', created: 2, data: [{ b64_json: b64(RESULT_2), revised_prompt: 'done' }] }
      })
    );
    const tasks: string[] = [];
    const outcome = await client({ mode: 'async', taskEndpoint: taskEndpoint() }).edit(editRequest(), { onTask: id => tasks.push(id) });
    expect(outcome).toEqual({ kind: 'images', images: [{ data: RESULT_2, revisedPrompt: 'done' }], attempts: 1, requestId: 'req_submit' });
    expect(tasks).toEqual(['task-async-1']);
    expect(server.requests[0].form!.get('async')).toBe('true');
    const polls = server.requests.slice(1);
    expect(polls).toHaveLength(3);
    for (const poll of polls) {
      expect([poll.method, poll.url, poll.headers.authorization, poll.headers['content-type']]).toEqual([
        'POST',
        '/v1/tasks',
        `Bearer ${API_KEY}`,
        'application/json'
      ]);
      expect(JSON.parse(poll.body.toString('utf8'))).toEqual({ action: 'retrieve', id: 'task-async-1' });
    }
  });

  it('retries a poll that fails with 503', async () => {
    server.queue(
      json(200, { task_id: 't2' }),
      json(503, { error: { message: 'busy' } }),
      json(200, { response: { data: [{ b64_json: b64(RESULT_1) }] } })
    );
    const outcome = await client({ mode: 'async', taskEndpoint: taskEndpoint() }).edit(editRequest());
    expect(outcome.kind === 'images' && outcome.images[0].data).toEqual(RESULT_1);
  });

  it('reports a task that failed', async () => {
    server.queue(
      json(200, { task_id: 't3' }),
      json(200, { finished_at: 5, response: { success: false, error: { code: 'bad', message: 'The image could not be edited' }, trace_id: 'tr-3' } })
    );
    const error = await editError(client({ mode: 'async', taskEndpoint: taskEndpoint() }).edit(editRequest()));
    expect(error.message).toBe('task t3 failed: The image could not be edited (request id tr-3)');
    expect(error.code).toBe('TASK_FAILED');
    expect(error.requestId).toBe('tr-3');
  });

  it('gives up at the deadline, naming the task and how to retrieve it later', async () => {
    server.queue(json(200, { task_id: 'slow-task' }));
    server.fallback = json(200, { id: 'slow-task' });
    const error = await editError(client({ mode: 'async', taskEndpoint: taskEndpoint(), pollIntervalMs: 20, pollDeadlineMs: 300 }).edit(editRequest()));
    expect(error.code).toBe('TASK_DEADLINE');
    expect(error.message).toBe(
      `task slow-task did not finish within 300 ms; it can be retrieved later with POST ${server.origin}/v1/tasks {"action":"retrieve","id":"slow-task"}`
    );
    expect(server.requests.length).toBeGreaterThanOrEqual(3);
  });

  it('defaults the task endpoint to ../tasks beside the endpoint', async () => {
    server.queue(json(200, { task_id: 't4' }), json(200, { response: { data: [{ b64_json: b64(RESULT_1) }] } }));
    await client({ mode: 'async', endpoint: server.url('/openai/images/edits') }).edit(editRequest());
    expect(server.requests[1].url).toBe('/openai/tasks');
  });

  it('refuses a task endpoint on another origin', () => {
    expect(() => client({ mode: 'async', taskEndpoint: other.url('/tasks') })).toThrow(
      `the task endpoint ${other.origin} is not on the endpoint's origin; the API key is only sent to ${server.origin}`
    );
  });
});
