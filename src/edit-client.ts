/**
 * The edit client: the only place HTTP requests are made (the edit POST, image
 * URL downloads, asynchronous task polling). It knows nothing of GitHub.
 *
 * Requests go through undici's `request` with a dedicated `Agent` whose pool is
 * sized by `concurrency`; upload bodies are streamed from disk (see multipart.ts).
 * Every attempt has one time limit covering connect, upload, waiting and reading.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { apiErrorOf, EditError, httpError, isErrorAnswer, requestIdOf, snippet } from './api-error.js';
import { parseEventStream } from './event-stream.js';
import { DecodedBase64, JsonAnswerScanner, parseScanned } from './json-answer.js';
import { multipartBody, type MultipartBody, type Part } from './multipart.js';
import { AttemptTimeoutError, formatDuration, isRetryableError, isRetryableStatus, retryDelay } from './retry.js';
import type { EditMode, EditParameters } from './settings.js';

export { EditError } from './api-error.js';
export type { EditErrorCode } from './api-error.js';

/** A file sent as a part: its absolute path, the name it is sent under, its MIME type. */
export interface EditFile {
  path: string;
  filename: string;
  contentType: string;
  /** The file's bytes, when the caller read them already (else the file is streamed from `path`). */
  bytes?: Buffer;
}

export interface EditRequest {
  /** The source first, then reference images. */
  images: EditFile[];
  mask?: EditFile;
  prompt: string;
  params: EditParameters;
}

export interface EditedImage {
  data: Buffer;
  revisedPrompt?: string;
}

export type EditOutcome =
  | { kind: 'images'; images: EditedImage[]; attempts: number; requestId?: string }
  | { kind: 'queued'; taskIds: string[]; attempts: number; requestId?: string };

export interface EditClientOptions {
  endpoint: URL;
  apiKey: string;
  mode: EditMode;
  /** Where `async` tasks are polled; default: `../tasks` next to the endpoint (AceData: `/openai/tasks`). Same origin only. */
  taskEndpoint?: URL;
  /** Per attempt: connect, upload, waiting for headers and reading the body. */
  timeoutMs: number;
  /** Retries after the first attempt. */
  maxRetries: number;
  /** Sizes the connection pool (per origin). */
  concurrency: number;
  /** Polling for async mode (defaults: every 5 s growing to 15 s, give up after 30 min); tests pass small values. */
  pollIntervalMs?: number;
  pollDeadlineMs?: number;
  /** Backoff base (default 1000 ms) and cap (default 30 s); tests pass small values. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  userAgent?: string;
}

export interface EditCallbacks {
  /** Aborting stops at once (no retry); the edit rejects with code `ABORTED`. */
  signal?: AbortSignal;
  /** Before each retry: `attempt` is the number of the attempt that failed (1-based). */
  onRetry?(info: { attempt: number; delayMs: number; reason: string }): void;
  /** A partial frame arrived (stream mode). */
  onPartial?(info: { index: number; bytes: number }): void;
  /** The task id of an asynchronous edit is known. */
  onTask?(id: string): void;
}

export interface EditClient {
  edit(request: EditRequest, callbacks?: EditCallbacks): Promise<EditOutcome>;
  /** Closes the connection pool. */
  close(): Promise<void>;
}

type Headers = Record<string, string | string[] | undefined>;

/** One image entry of an answer, as the API names its fields. */
interface RawImage {
  b64_json?: unknown;
  url?: unknown;
  revised_prompt?: unknown;
}

/** What one edit POST attempt brought back. */
type Submitted = { kind: 'json'; json: unknown; requestId?: string } | { kind: 'stream'; images: RawImage[]; requestId?: string };

/** A failed attempt, with what the retry loop needs to decide. */
class AttemptFailure extends Error {
  constructor(
    readonly error: EditError,
    readonly retryable: boolean,
    readonly headers?: Headers
  ) {
    super(error.message);
  }
}

const DEFAULT_POLL_INTERVAL_MS = 5000;
const DEFAULT_POLL_DEADLINE_MS = 30 * 60 * 1000;
const DEFAULT_RETRY_BASE_MS = 1000;
const DEFAULT_RETRY_MAX_MS = 30_000;
const DEFAULT_USER_AGENT = 'image-edit-action';
const MAX_REDIRECTS = 5;
/** Error answers are read up to this size (the rest is dropped). */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** A JSON answer (base64 images included) or a downloaded image may not exceed this. */
const MAX_ANSWER_BYTES = 512 * 1024 * 1024;

/**
 * Maps an edit request to its multipart parts: the one place the wire names
 * appear. One image goes as `image`, several as repeated `image[]` (OpenAI
 * rejects a repeated `image`). Undefined parameters are not sent. `stream=true`
 * is added in mode `stream`, `async=true` in mode `async`.
 */
export function editParts(request: EditRequest, mode: EditMode): Part[] {
  if (request.images.length === 0) throw new EditError('an edit request needs at least one image', { code: 'LOCAL' });
  const p = request.params;
  const parts: Part[] = [{ name: 'prompt', value: request.prompt }];
  const text = (name: string, value: string | number | undefined): void => {
    if (value !== undefined && value !== '') parts.push({ name, value: String(value) });
  };
  text('model', p.model);
  text('n', p.n);
  text('size', p.size);
  text('quality', p.quality);
  text('background', p.background);
  text('input_fidelity', p.inputFidelity);
  text('output_format', p.outputFormat);
  text('output_compression', p.outputCompression);
  text('partial_images', p.partialImages);
  if (mode === 'stream') text('stream', 'true');
  text('response_format', p.responseFormat);
  text('callback_url', p.callbackUrl);
  if (mode === 'async') text('async', 'true');
  const imageName = request.images.length === 1 ? 'image' : 'image[]';
  for (const image of request.images) {
    parts.push({ name: imageName, file: image.path, filename: image.filename, contentType: image.contentType, bytes: image.bytes });
  }
  if (request.mask) {
    const { path, filename, contentType, bytes } = request.mask;
    parts.push({ name: 'mask', file: path, filename, contentType, bytes });
  }
  return parts;
}

/** The default task endpoint: `tasks` beside the endpoint's parent (`/openai/images/edits` → `/openai/tasks`). */
export function defaultTaskEndpoint(endpoint: URL): URL {
  return new URL('../tasks', endpoint);
}

/**
 * Creates an edit client with its own connection pool. Throws when the endpoint
 * is not http(s) or the task endpoint is on another origin (the API key is only
 * sent to the endpoint's origin).
 */
export function createEditClient(options: EditClientOptions): EditClient {
  const { endpoint, apiKey, mode, timeoutMs, maxRetries } = options;
  if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') {
    throw new EditError(`the endpoint must be an http(s) URL, not ${endpoint.protocol}`, { code: 'LOCAL' });
  }
  const taskEndpoint = options.taskEndpoint ?? defaultTaskEndpoint(endpoint);
  if (mode === 'async' && taskEndpoint.origin !== endpoint.origin) {
    throw new EditError(
      `the task endpoint ${taskEndpoint.origin} is not on the endpoint's origin; the API key is only sent to ${endpoint.origin}`,
      { code: 'LOCAL' }
    );
  }
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const pollDeadlineMs = options.pollDeadlineMs ?? DEFAULT_POLL_DEADLINE_MS;
  const baseMs = options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
  const maxMs = options.retryMaxMs ?? DEFAULT_RETRY_MAX_MS;
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  const agent = new Agent({
    connections: Math.max(1, options.concurrency),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs
  });

  /** Removes the API key from any text that leaves the client. */
  const redact = (text: string): string => (apiKey.length > 0 ? text.split(apiKey).join('***') : text);

  /** An error answer's text, the key removed before any of it is cut short for a message. */
  const readErrorBody = async (body: Dispatcher.ResponseData['body']): Promise<string> =>
    redact(await readText(body, MAX_ERROR_BODY_BYTES));

  const aborted = (attempts: number): EditError => new EditError('the edit was cancelled', { code: 'ABORTED', attempts });

  /** Runs `run` with a per-attempt time limit, retrying transient failures. */
  async function withRetries<T>(
    what: string,
    callbacks: EditCallbacks,
    run: (signal: AbortSignal) => Promise<T>
  ): Promise<{ value: T; attempts: number }> {
    const caller = callbacks.signal;
    for (let attempt = 1; ; attempt++) {
      if (caller?.aborted) throw aborted(Math.max(1, attempt - 1));
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(new AttemptTimeoutError(timeoutMs)), timeoutMs);
      const signal = caller ? AbortSignal.any([caller, timeout.signal]) : timeout.signal;
      try {
        return { value: await run(signal), attempts: attempt };
      } catch (err) {
        if (caller?.aborted) throw aborted(attempt);
        const failure = classify(err, timeout.signal.aborted, what);
        failure.error.attempts = attempt;
        if (!failure.retryable || attempt > maxRetries) throw failure.error;
        const delayMs = retryDelay(attempt, failure.headers, { baseMs, maxMs });
        callbacks.onRetry?.({ attempt, delayMs, reason: redact(failure.error.message) });
        try {
          await sleep(delayMs, undefined, { signal: caller });
        } catch {
          throw aborted(attempt);
        }
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /** Turns whatever an attempt threw into an EditError and a retry decision. */
  function classify(err: unknown, timedOut: boolean, what: string): AttemptFailure {
    if (err instanceof AttemptFailure) return err;
    if (timedOut) {
      return new AttemptFailure(
        new EditError(`${what} timed out: no complete answer within ${formatDuration(timeoutMs)} (the timeout per attempt)`, {
          code: 'TIMEOUT',
          cause: err
        }),
        true
      );
    }
    if (err instanceof EditError) return new AttemptFailure(err, false);
    const retryable = isRetryableError(err);
    const code = (err as { code?: unknown })?.code;
    const local = typeof code === 'string' && (code.startsWith('ERR_FILE') || ['ENOENT', 'EACCES', 'EISDIR', 'EMFILE'].includes(code));
    return new AttemptFailure(
      new EditError(`${what} failed: ${describe(err)}`, { code: local ? 'LOCAL' : 'NETWORK', cause: err }),
      retryable
    );
  }

  /** POSTs the body to the endpoint, following same-origin 307/308 redirects with a fresh body. */
  async function postEdit(body: MultipartBody, accept: string, signal: AbortSignal, streams: Readable[]): Promise<Dispatcher.ResponseData> {
    let target = endpoint;
    for (let hop = 0; ; hop++) {
      const stream = body.stream();
      streams.push(stream);
      const res = await request(target, {
        dispatcher: agent,
        method: 'POST',
        headers: {
          authorization: `Bearer ${apiKey}`,
          accept,
          'content-type': body.contentType,
          'content-length': String(body.contentLength),
          'user-agent': userAgent
        },
        body: stream,
        signal
      });
      const location = headerValue(res.headers, 'location');
      if (res.statusCode < 300 || res.statusCode > 399 || location === undefined) return res;
      await res.body.dump().catch(() => undefined);
      let next: URL;
      try {
        next = new URL(location, target);
      } catch {
        throw new EditError(`the endpoint answered HTTP ${res.statusCode} with an invalid redirect: ${snippet(location)}`, { status: res.statusCode, code: 'REDIRECT' });
      }
      if (next.origin !== endpoint.origin) {
        throw new EditError(
          `the endpoint redirected to another origin (${next.origin}); the API key is only sent to ${endpoint.origin}`,
          { status: res.statusCode, code: 'REDIRECT' }
        );
      }
      if (res.statusCode !== 307 && res.statusCode !== 308) {
        throw new EditError(
          `the endpoint answered HTTP ${res.statusCode} (a redirect to ${next.pathname}); only 307 and 308 redirects are followed for an edit`,
          { status: res.statusCode, code: 'REDIRECT' }
        );
      }
      if (hop >= MAX_REDIRECTS) {
        throw new EditError(`the endpoint redirected more than ${MAX_REDIRECTS} times`, { status: res.statusCode, code: 'REDIRECT' });
      }
      target = next;
    }
  }

  /** One attempt of the edit POST: the answer as JSON, or the images of an event stream. */
  async function submitOnce(body: MultipartBody, callbacks: EditCallbacks, signal: AbortSignal): Promise<Submitted> {
    const accept = mode === 'stream' ? 'text/event-stream' : 'application/json';
    const streams: Readable[] = [];
    try {
      const res = await postEdit(body, accept, signal, streams);
      if (res.statusCode < 200 || res.statusCode > 299) {
        const text = await readErrorBody(res.body);
        throw new AttemptFailure(httpError(res.statusCode, res.headers, text), isRetryableStatus(res.statusCode), res.headers);
      }
      const contentType = headerValue(res.headers, 'content-type') ?? '';
      if (mode === 'stream' && contentType.toLowerCase().includes('text/event-stream')) {
        const images = await readEvents(res, callbacks);
        return { kind: 'stream', images, requestId: requestIdOf(res.headers) };
      }
      const json = await readJsonAnswer(res, MAX_ANSWER_BYTES, "the endpoint's answer");
      return { kind: 'json', json, requestId: requestIdOf(res.headers, traceIdOf(json)) };
    } finally {
      for (const stream of streams) stream.destroy();
    }
  }

  /** Reads an event stream answer: partial frames go to `onPartial`, completed images are returned. */
  async function readEvents(res: Dispatcher.ResponseData, callbacks: EditCallbacks): Promise<RawImage[]> {
    const images: RawImage[] = [];
    let partials = 0;
    for await (const raw of parseEventStream(res.body)) {
      // The key is removed before any text is cut short for a message (a cut key would escape redaction).
      const event = { ...raw, data: redact(raw.data) };
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch {
        if (event.event === 'error') {
          throw new EditError(`the endpoint's event stream reported an error: ${snippet(event.data)}`, {
            status: res.statusCode,
            apiMessage: snippet(event.data, 1000),
            requestId: requestIdOf(res.headers),
            code: 'API_ERROR'
          });
        }
        continue; // keep-alive or other non-JSON events
      }
      const fields = isObject(data) ? data : {};
      const type = event.event !== 'message' ? event.event : typeof fields.type === 'string' ? fields.type : 'message';
      if (type === 'error' || fields.type === 'error' || (fields.error !== undefined && fields.error !== null)) {
        const info = apiErrorOf(data);
        const requestId = requestIdOf(res.headers, info.traceId);
        const message = info.apiMessage ?? snippet(event.data);
        throw new EditError(`the endpoint's event stream reported an error: ${message}${requestId ? ` (request id ${requestId})` : ''}`, {
          status: res.statusCode,
          apiMessage: info.apiMessage,
          requestId,
          code: 'API_ERROR'
        });
      }
      if (type.endsWith('partial_image')) {
        const b64 = typeof fields.b64_json === 'string' ? fields.b64_json : '';
        const index = typeof fields.partial_image_index === 'number' ? fields.partial_image_index : partials;
        partials++;
        callbacks.onPartial?.({ index, bytes: Buffer.byteLength(stripDataPrefix(b64), 'base64') });
      } else if (type.endsWith('.completed') || type === 'completed') {
        images.push(fields);
      }
    }
    if (images.length === 0) {
      throw new EditError("the endpoint's event stream ended without a completed image", {
        status: res.statusCode,
        requestId: requestIdOf(res.headers),
        code: 'BAD_ANSWER'
      });
    }
    return images;
  }

  /** The images of a JSON answer `{created, data:[{b64_json|url, revised_prompt}]}`: decoded or downloaded. */
  async function imagesOf(json: unknown, requestId: string | undefined, callbacks: EditCallbacks, status = 200): Promise<EditedImage[]> {
    if (isErrorAnswer(json)) {
      const info = apiErrorOf(json);
      const message = info.apiMessage ?? 'no message';
      throw new EditError(`the endpoint reported an error: ${message}${requestId ? ` (request id ${requestId})` : ''}`, {
        status,
        apiMessage: info.apiMessage,
        requestId,
        code: 'API_ERROR'
      });
    }
    const data = isObject(json) ? json.data : undefined;
    if (!Array.isArray(data) || data.length === 0) {
      throw new EditError(`the endpoint answered ${status} without an image${requestId ? ` (request id ${requestId})` : ''}`, {
        status,
        requestId,
        code: 'BAD_ANSWER'
      });
    }
    return imagesFrom(data as RawImage[], requestId, callbacks, status);
  }

  /** Decodes `b64_json` entries and downloads `url` entries, in order. */
  async function imagesFrom(items: RawImage[], requestId: string | undefined, callbacks: EditCallbacks, status = 200): Promise<EditedImage[]> {
    const images: EditedImage[] = [];
    for (const [index, item] of items.entries()) {
      const raw = isObject(item) ? item : {};
      let data: Buffer | undefined;
      if (raw.b64_json instanceof DecodedBase64 && raw.b64_json.textLength > 0) {
        data = raw.b64_json.bytes;
      } else if (typeof raw.b64_json === 'string' && raw.b64_json.length > 0) {
        data = Buffer.from(stripDataPrefix(raw.b64_json), 'base64');
      } else if (typeof raw.url === 'string' && raw.url.length > 0) {
        data = await download(raw.url, callbacks);
      }
      if (!data || data.length === 0) {
        throw new EditError(
          `the endpoint answered ${status} without an image (item ${index + 1} has neither b64_json nor url)${requestId ? ` (request id ${requestId})` : ''}`,
          { status, requestId, code: 'BAD_ANSWER' }
        );
      }
      const image: EditedImage = { data };
      if (typeof raw.revised_prompt === 'string' && raw.revised_prompt) image.revisedPrompt = raw.revised_prompt;
      images.push(image);
    }
    return images;
  }

  /** Downloads an image URL from an answer: GET, never with the API key, up to 5 redirects, retried like the edit. */
  async function download(url: string, callbacks: EditCallbacks): Promise<Buffer> {
    if (url.startsWith('data:')) return decodeDataUrl(url);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new EditError(`the endpoint answered with an image URL that is not valid: ${snippet(url, 100)}`, { code: 'BAD_ANSWER' });
    }
    const shown = shownUrl(parsed);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new EditError(`the endpoint answered with an image URL that is not http(s): ${shown}`, { code: 'BAD_ANSWER' });
    }
    const { value } = await withRetries(`downloading ${shown}`, callbacks, async signal => {
      let target = parsed;
      for (let hop = 0; ; hop++) {
        const res = await request(target, {
          dispatcher: agent,
          method: 'GET',
          headers: { accept: 'image/*, */*;q=0.5', 'user-agent': userAgent },
          signal
        });
        const location = headerValue(res.headers, 'location');
        if (res.statusCode >= 300 && res.statusCode <= 399 && location !== undefined) {
          await res.body.dump().catch(() => undefined);
          if (hop >= MAX_REDIRECTS) {
            throw new EditError(`downloading ${shown}: more than ${MAX_REDIRECTS} redirects`, { status: res.statusCode, code: 'DOWNLOAD' });
          }
          target = new URL(location, target);
          if (target.protocol !== 'https:' && target.protocol !== 'http:') {
            throw new EditError(`downloading ${shown}: redirected to a URL that is not http(s)`, { status: res.statusCode, code: 'DOWNLOAD' });
          }
          continue;
        }
        if (res.statusCode < 200 || res.statusCode > 299) {
          const text = await readErrorBody(res.body);
          const error = httpError(res.statusCode, res.headers, text, `downloading ${shown}: `);
          error.code = 'DOWNLOAD';
          throw new AttemptFailure(error, isRetryableStatus(res.statusCode), res.headers);
        }
        const type = (headerValue(res.headers, 'content-type') ?? '').toLowerCase();
        if (type.startsWith('text/') || type.includes('json')) {
          const text = await readErrorBody(res.body);
          throw new EditError(`downloading ${shown}: the answer is ${type.split(';')[0]}, not an image: ${snippet(text, 100)}`, {
            status: res.statusCode,
            code: 'DOWNLOAD'
          });
        }
        return readAll(res.body, MAX_ANSWER_BYTES, `the image at ${shown}`);
      }
    });
    return value;
  }

  /** One poll of an asynchronous task: `POST taskEndpoint {"action":"retrieve","id":…}`. */
  async function pollOnce(taskId: string, signal: AbortSignal): Promise<unknown> {
    const res = await request(taskEndpoint, {
      dispatcher: agent,
      method: 'POST',
      headers: {
        authorization: `Bearer ${apiKey}`,
        accept: 'application/json',
        'content-type': 'application/json',
        'user-agent': userAgent
      },
      body: JSON.stringify({ action: 'retrieve', id: taskId }),
      signal
    });
    if (res.statusCode < 200 || res.statusCode > 299) {
      const text = await readErrorBody(res.body);
      throw new AttemptFailure(httpError(res.statusCode, res.headers, text, `polling task ${taskId}: `), isRetryableStatus(res.statusCode), res.headers);
    }
    return readJsonAnswer(res, MAX_ANSWER_BYTES, `the task endpoint's answer for task ${taskId}`);
  }

  /** Polls a task until it has an answer, then returns its images. */
  async function waitForTask(taskId: string, callbacks: EditCallbacks): Promise<EditedImage[]> {
    const deadline = Date.now() + pollDeadlineMs;
    let interval = pollIntervalMs;
    for (;;) {
      const wait = Math.min(interval, deadline - Date.now());
      if (wait <= 0) throw taskDeadline(taskId);
      try {
        await sleep(wait, undefined, { signal: callbacks.signal });
      } catch {
        throw aborted(1);
      }
      const { value: answer } = await withRetries(`polling task ${taskId}`, callbacks, signal => pollOnce(taskId, signal));
      if (!isObject(answer)) throw new EditError(`the task endpoint's answer for task ${taskId} is not an object`, { code: 'BAD_ANSWER' });
      let response = answer.response;
      if (typeof response === 'string') response = parseJson(response, `the answer of task ${taskId}`);
      const finished = response !== undefined && response !== null ? true : Boolean(answer.finished_at);
      if (!finished && isErrorAnswer(answer)) {
        const info = apiErrorOf(answer);
        throw new EditError(`polling task ${taskId}: ${info.apiMessage ?? 'the task endpoint reported an error'}`, {
          apiMessage: info.apiMessage,
          requestId: info.traceId,
          code: 'TASK_FAILED'
        });
      }
      if (finished) {
        if (response === undefined || response === null) {
          throw new EditError(`task ${taskId} finished without an answer`, { code: 'TASK_FAILED' });
        }
        const traceId = traceIdOf(response);
        if (isErrorAnswer(response)) {
          const info = apiErrorOf(response);
          throw new EditError(`task ${taskId} failed: ${info.apiMessage ?? 'no message'}${traceId ? ` (request id ${traceId})` : ''}`, {
            apiMessage: info.apiMessage,
            requestId: traceId,
            code: 'TASK_FAILED'
          });
        }
        return imagesOf(response, traceId, callbacks);
      }
      interval = Math.min(Math.round(interval * 1.5), pollIntervalMs * 3);
    }
  }

  function taskDeadline(taskId: string): EditError {
    return new EditError(
      `task ${taskId} did not finish within ${formatDuration(pollDeadlineMs)}; it can be retrieved later with POST ${taskEndpoint.href} {"action":"retrieve","id":"${taskId}"}`,
      { code: 'TASK_DEADLINE' }
    );
  }

  async function edit(editRequest: EditRequest, callbacks: EditCallbacks = {}): Promise<EditOutcome> {
    if (callbacks.signal?.aborted) throw aborted(0);
    const body = await multipartBody(editParts(editRequest, mode));
    const { value: submitted, attempts } = await withRetries('the edit request', callbacks, signal => submitOnce(body, callbacks, signal));
    try {
      if (submitted.kind === 'stream') {
        return { kind: 'images', images: await imagesFrom(submitted.images, submitted.requestId, callbacks), attempts, requestId: submitted.requestId };
      }
      const { json, requestId } = submitted;
      if (mode === 'callback' || mode === 'async') {
        if (isErrorAnswer(json)) await imagesOf(json, requestId, callbacks); // throws the API's error
        const hasImages = isObject(json) && Array.isArray(json.data) && json.data.length > 0;
        const taskId = taskIdOf(json);
        if (mode === 'callback' || !hasImages) {
          if (!taskId) {
            throw new EditError(`the endpoint answered without a task id (${mode} mode): ${snippet(JSON.stringify(json))}`, {
              status: 200,
              requestId,
              code: 'BAD_ANSWER'
            });
          }
          if (mode === 'callback') return { kind: 'queued', taskIds: [taskId], attempts, requestId };
          callbacks.onTask?.(taskId);
          const images = await waitForTask(taskId, callbacks);
          return { kind: 'images', images, attempts, requestId };
        }
      }
      return { kind: 'images', images: await imagesOf(json, requestId, callbacks), attempts, requestId };
    } catch (err) {
      if (err instanceof EditError && err.code !== 'ABORTED') err.attempts = attempts;
      throw err;
    }
  }

  return {
    async edit(editRequest, callbacks) {
      try {
        return await edit(editRequest, callbacks);
      } catch (err) {
        throw finalError(err, redact);
      }
    },
    async close() {
      // undici ends each idle socket with a ClientDestroyedError whose stack Node reads; in the
      // bundle, formatting a stack loads and parses the 3 MB source map (about 100 ms). Nobody
      // ever sees these errors: make them without a stack.
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      try {
        await agent.close();
      } finally {
        Error.stackTraceLimit = limit;
      }
    }
  };
}

/** Any error leaving the client is an EditError with the API key removed. */
function finalError(err: unknown, redact: (text: string) => string): EditError {
  const error = err instanceof EditError ? err : new EditError(describe(err), { code: 'LOCAL', cause: err });
  error.message = redact(error.message);
  if (error.apiMessage !== undefined) error.apiMessage = redact(error.apiMessage);
  return error;
}

/** A short description of an error: its message and code (duck-typed: errors may come from another realm). */
function describe(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const { message, name, code, cause } = err as { message?: unknown; name?: unknown; code?: unknown; cause?: unknown };
  let text = typeof message === 'string' && message ? message : typeof name === 'string' ? name : 'unknown error';
  const causeMessage = typeof cause === 'object' && cause !== null ? (cause as { message?: unknown }).message : undefined;
  if (typeof causeMessage === 'string' && causeMessage && !text.includes(causeMessage)) text += ` (${causeMessage})`;
  return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
}

/**
 * Reads a JSON answer as it streams in, decoding every `b64_json` string value
 * straight into bytes on the way (see {@link JsonAnswerScanner}): a 2 MB image
 * never exists as a 2.7 MB string, its copies or a parse of it. In the parsed
 * value each such field holds a {@link DecodedBase64}. Over `limit` bytes, or
 * not JSON, is an error naming `what`.
 */
async function readJsonAnswer(res: Dispatcher.ResponseData, limit: number, what: string): Promise<unknown> {
  const { body } = res;
  const declared = Number(headerValue(res.headers, 'content-length'));
  const scanner = new JsonAnswerScanner(Number.isSafeInteger(declared) && declared > 0 && declared <= limit ? declared : 0);
  for await (const chunk of limited(body, limit, what)) scanner.write(chunk);
  const scanned = scanner.end();
  try {
    return parseScanned(scanned);
  } catch {
    throw new EditError(`${what} is not JSON: ${snippet(scanned.text) || '(empty)'}`, { status: 200, code: 'BAD_ANSWER' });
  }
}

/** Reads a body (an error answer) as text, up to `limit` bytes; the rest is dropped. */
async function readText(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    if (size + buffer.length > limit) {
      chunks.push(buffer.subarray(0, limit - size));
      body.destroy();
      break;
    }
    chunks.push(buffer);
    size += buffer.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a whole body; more than `limit` bytes is an error naming `what`. */
async function readAll(body: Dispatcher.ResponseData['body'], limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of limited(body, limit, what)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The chunks of a body; past `limit` bytes the body is dropped and that is an error naming `what`. */
async function* limited(body: Dispatcher.ResponseData['body'], limit: number, what: string): AsyncGenerator<Buffer> {
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) {
      body.destroy();
      throw new EditError(`${what} is larger than ${Math.round(limit / 1024 / 1024)} MB`, { code: 'BAD_ANSWER' });
    }
    yield buffer;
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new EditError(`${what} is not JSON: ${snippet(text) || '(empty)'}`, { status: 200, code: 'BAD_ANSWER' });
  }
}

/** A task id from `task_id`, `data.task_id` or `id`. */
function taskIdOf(json: unknown): string | undefined {
  if (!isObject(json)) return undefined;
  const data = isObject(json.data) ? json.data : {};
  for (const value of [json.task_id, data.task_id, json.id]) {
    if ((typeof value === 'string' && value) || typeof value === 'number') return String(value);
  }
  return undefined;
}

function traceIdOf(json: unknown): string | undefined {
  return isObject(json) && typeof json.trace_id === 'string' && json.trace_id ? json.trace_id : undefined;
}

function headerValue(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Some gateways put a `data:image/png;base64,` prefix in `b64_json`. */
function stripDataPrefix(b64: string): string {
  return b64.startsWith('data:') ? b64.slice(b64.indexOf(',') + 1) : b64;
}

function decodeDataUrl(url: string): Buffer {
  const comma = url.indexOf(',');
  if (comma === -1) throw new EditError('the endpoint answered with a data: URL without data', { code: 'BAD_ANSWER' });
  const meta = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  return meta.endsWith(';base64') ? Buffer.from(payload, 'base64') : Buffer.from(decodeURIComponent(payload), 'latin1');
}

/** A URL for messages: origin and path only (query strings of signed URLs stay out of logs). */
function shownUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

