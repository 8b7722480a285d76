#!/usr/bin/env node
/**
 * A stand-in of the AceData Cloud / OpenAI `images/edits` endpoint on
 * 127.0.0.1, for the demo, the end-to-end tests, the benchmark and CI. Plain
 * Node (built-ins only). See stand-in/README.md for what it does and does not do.
 *
 *   POST /openai/images/edits   (also /v1/images/edits)  multipart/form-data
 *   POST /openai/tasks          {"action":"retrieve","id":…} | {"action":"retrieve_batch","ids":[…]}
 *   GET  /files/<id>.png        images answered as `url` (no auth)
 *
 * CLI: node stand-in/edit-endpoint.mjs [--port N] [--latency MS] [--require-key KEY]
 *        [--task-delay MS] [--answer-bytes N]
 */
import * as http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { decodePng, encodePng, isPng, padPng, readPngHeader } from './png.mjs';
import { editImage, frameColor, patternImage } from './effect.mjs';
import { MultipartError, multipartBoundary, parseMultipart } from './multipart.mjs';

/** Bytes of the first image kept for the visible edit; larger images get the pattern. */
const MAX_KEPT_IMAGE_BYTES = 32 * 1024 * 1024;
/** Bytes of a mask kept. */
const MAX_KEPT_MASK_BYTES = 8 * 1024 * 1024;
/** Pixels of the first image decoded for the visible edit; larger images get the pattern. */
const MAX_EDIT_PIXELS = 4096 * 4096;
/** Images served at /files/ that are kept (oldest dropped first). */
const MAX_STORED_FILES = 256;
/** Tasks kept (oldest dropped first). */
const MAX_STORED_TASKS = 1000;
/** Longest field value kept in a request summary. */
const MAX_RECORDED_FIELD = 64 * 1024;
/** MIME types a file part may carry, as OpenAI accepts them. */
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'];
/** Marks where the cached base64 of a benchmark answer is spliced in. */
const SPLICE = '@@stand-in-splice@@';
const QUOTE = Buffer.from('"');
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * @typedef {object} RequestSummary
 * @property {number} at epoch milliseconds when the request arrived
 * @property {string} method
 * @property {string} path
 * @property {'edit' | 'task' | 'file' | 'other'} kind
 * @property {string} requestId the `x-request-id` answered
 * @property {number} [status] the HTTP status answered
 * @property {boolean} hasAuthorization whether an Authorization header came
 * @property {boolean} [authorized] with `requireKey`: whether it matched
 * @property {string} [contentType]
 * @property {Record<string, string>} fields text fields (edit) or JSON body keys (task), values cut at 64 KB
 * @property {Array<{name: string, filename: string, type: string, size: number}>} files
 * @property {'sync' | 'stream' | 'async' | 'callback'} [mode]
 * @property {string} [taskId]
 * @property {string} [error] the error code answered, if any
 */

/**
 * Starts the stand-in on 127.0.0.1; resolves when listening.
 * @param {{port?: number, latencyMs?: number, answerBytes?: number, responseFormat?: 'url' | 'b64_json',
 *   requireKey?: string, record?: boolean, taskDelayMs?: number,
 *   intercept?: (summary: RequestSummary) => undefined | {status: number, body?: unknown, headers?: Record<string, string>}
 * }} [options]
 */
export async function startStandIn(options = {}) {
  const settings = {
    port: options.port ?? 0,
    latencyMs: Math.max(0, options.latencyMs ?? 0),
    answerBytes: options.answerBytes,
    responseFormat: options.responseFormat ?? 'url',
    requireKey: typeof options.requireKey === 'string' ? options.requireKey : undefined,
    record: options.record ?? true,
    taskDelayMs: Math.max(0, options.taskDelayMs ?? 0),
    intercept: options.intercept
  };
  /** @type {RequestSummary[]} */
  const requests = [];
  /** @type {Array<{taskId: string, url: string, status?: number, error?: string, skipped?: string}>} */
  const callbacks = [];
  const stats = { inFlight: 0, maxInFlight: 0, edits: 0 };
  /** @type {Map<string, Buffer>} */
  const files = new Map();
  /** @type {Map<string, {id: string, doneAt: number, response: {created: number, data: object[]}, finishedAt?: number}>} */
  const tasks = new Map();
  /** @type {Set<NodeJS.Timeout>} */
  const timers = new Set();
  /** @type {{png: Buffer, b64: string, b64Bytes: Buffer} | undefined} */
  let paddedAnswer;
  let closed = false;
  let origin = '';

  /** Waits `ms`, or less when the stand-in closes. */
  const delay = (/** @type {number} */ ms) =>
    new Promise(resolve => {
      if (ms <= 0 || closed) return resolve(undefined);
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve(undefined);
      }, ms);
      timers.add(timer);
    });

  const server = http.createServer((req, res) => {
    handle(req, res).catch(error => {
      if (!res.headersSent) {
        sendJson(res, 500, { error: { message: `stand-in failure: ${error instanceof Error ? error.message : String(error)}`, type: 'server_error', param: null, code: null } }, undefined);
      } else {
        res.destroy();
      }
    });
  });
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;

  /**
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   */
  async function handle(req, res) {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    /** @type {RequestSummary} */
    const summary = {
      at: Date.now(),
      method: req.method ?? '',
      path: url.pathname,
      kind: 'other',
      requestId: `req_${randomBytes(12).toString('hex')}`,
      hasAuthorization: req.headers.authorization !== undefined,
      contentType: req.headers['content-type'],
      fields: {},
      files: []
    };
    if (settings.record) requests.push(summary);
    const method = req.method ?? '';
    if (method === 'POST' && (url.pathname === '/openai/images/edits' || url.pathname === '/v1/images/edits')) {
      summary.kind = 'edit';
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      try {
        await handleEdit(req, res, summary);
      } finally {
        stats.inFlight--;
      }
    } else if (method === 'POST' && url.pathname === '/openai/tasks') {
      summary.kind = 'task';
      await handleTasks(req, res, summary);
    } else if ((method === 'GET' || method === 'HEAD') && url.pathname.startsWith('/files/')) {
      summary.kind = 'file';
      await drain(req);
      const id = url.pathname.slice('/files/'.length).replace(/\.png$/, '');
      const png = files.get(id);
      if (!png) {
        answerOpenAiError(res, summary, 404, `No file ${url.pathname} on this stand-in (it keeps the last ${MAX_STORED_FILES}).`, null, 'not_found', 'invalid_request_error');
        return;
      }
      summary.status = 200;
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length, 'x-request-id': summary.requestId });
      res.end(method === 'HEAD' ? undefined : png);
    } else {
      await drain(req);
      answerOpenAiError(res, summary, 404, `Unknown request URL: ${method} ${url.pathname}.`, null, 'unknown_url', 'invalid_request_error');
    }
  }

  /**
   * Checks the bearer token when `requireKey` is set; answers 401 (AceData shape) when wrong.
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   * @param {RequestSummary} summary
   * @returns {Promise<boolean>} true when the request may go on
   */
  async function authorize(req, res, summary) {
    if (settings.requireKey === undefined) return true;
    summary.authorized = req.headers.authorization === `Bearer ${settings.requireKey}`;
    if (summary.authorized) return true;
    await drain(req);
    summary.status = 401;
    summary.error = 'invalid_token';
    sendJson(
      res,
      401,
      {
        error: {
          code: 'invalid_token',
          message: summary.hasAuthorization ? 'The token is invalid or has expired.' : 'The Authorization header is missing: send "Bearer <token>".'
        },
        trace_id: randomUUID()
      },
      summary.requestId
    );
    return false;
  }

  /**
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   * @param {RequestSummary} summary
   */
  async function handleEdit(req, res, summary) {
    if (!(await authorize(req, res, summary))) return;
    if (!multipartBoundary(req.headers['content-type'])) {
      await drain(req);
      return answerOpenAiError(
        res,
        summary,
        400,
        `Invalid Content-Type header (${req.headers['content-type'] ?? 'none'}), expected multipart/form-data with a boundary.`,
        null,
        'invalid_content_type'
      );
    }
    let keptImage = false;
    /** @type {Awaited<ReturnType<typeof parseMultipart>>} */
    let form;
    try {
      form = await parseMultipart(req, req.headers['content-type'], {
        keepFile: part => {
          if ((part.name === 'image' || part.name === 'image[]') && !keptImage) {
            keptImage = true;
            return settings.answerBytes ? 0 : MAX_KEPT_IMAGE_BYTES;
          }
          return part.name === 'mask' && !settings.answerBytes ? MAX_KEPT_MASK_BYTES : 0;
        }
      });
    } catch (error) {
      if (!(error instanceof MultipartError)) throw error;
      await drain(req);
      return answerOpenAiError(res, summary, 400, `Could not parse the multipart body: ${error.message}`, null, 'invalid_multipart');
    }
    /** @type {Record<string, string>} */
    const fields = {};
    for (const field of form.fields) fields[field.name] = field.value;
    for (const [name, value] of Object.entries(fields)) summary.fields[name] = value.length > MAX_RECORDED_FIELD ? value.slice(0, MAX_RECORDED_FIELD) : value;
    summary.files = form.files.map(file => ({ name: file.name, filename: file.filename, type: file.type, size: file.size }));
    summary.mode = fields.callback_url ? 'callback' : fields.async === 'true' ? 'async' : fields.stream === 'true' ? 'stream' : 'sync';

    const intercepted = settings.intercept?.(summary);
    if (intercepted) {
      summary.status = intercepted.status;
      const body = intercepted.body === undefined ? '' : typeof intercepted.body === 'string' ? intercepted.body : JSON.stringify(intercepted.body);
      res.writeHead(intercepted.status, {
        'content-type': typeof intercepted.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-request-id': summary.requestId,
        ...intercepted.headers
      });
      res.end(body);
      return;
    }

    const problem = validateEdit(fields, form);
    if (problem) return answerOpenAiError(res, summary, 400, problem.message, problem.param, problem.code);

    const model = fields.model ?? 'dall-e-3';
    const dalle = model.split(':')[0].startsWith('dall-e');
    const n = fields.n === undefined ? 1 : Number(fields.n);
    const format = dalle ? (fields.response_format ?? settings.responseFormat) : 'b64_json';
    const prompt = fields.prompt;
    const revisedPrompt = `${prompt.length > 200 ? `${prompt.slice(0, 200)}…` : prompt} (stand-in edit: sepia tone and a coloured frame)`;
    const images = form.files.filter(file => file.name === 'image' || file.name === 'image[]');
    const mask = form.files.find(file => file.name === 'mask');

    /** @type {{width: number, height: number, rgba: Buffer} | undefined} */
    let source;
    /** @type {{width: number, height: number, rgba: Buffer} | undefined} */
    let maskImage;
    if (!settings.answerBytes) {
      source = decodeOrUndefined(images[0].bytes);
      maskImage = decodeOrUndefined(mask?.bytes);
      if (mask && mask.bytes && !maskImage) {
        return answerOpenAiError(res, summary, 400, "Invalid mask image format - the mask must be a PNG with an alpha channel.", 'mask', 'invalid_image_format');
      }
      if (source && maskImage && (source.width !== maskImage.width || source.height !== maskImage.height)) {
        return answerOpenAiError(
          res,
          summary,
          400,
          `Invalid mask image format - mask size (${maskImage.width}x${maskImage.height}) does not match image size (${source.width}x${source.height}).`,
          'mask',
          'invalid_image_format'
        );
      }
      if (!source) maskImage = undefined;
    }
    stats.edits++;

    /** PNG bytes of variant `index` at `progress` (1 = final). */
    const render = (/** @type {number} */ index, progress = 1) => {
      if (settings.answerBytes) return padded().png;
      if (source) return encodePng(editImage(source, { mask: maskImage, variant: index, progress }));
      return patternPng(index);
    };
    const b64Of = (/** @type {Buffer} */ png) => (settings.answerBytes ? padded().b64 : png.toString('base64'));
    const item = (/** @type {Buffer} */ png) => {
      if (format === 'url') {
        const id = randomUUID();
        files.set(id, png);
        while (files.size > MAX_STORED_FILES) files.delete(/** @type {string} */ (files.keys().next().value));
        return { url: `${origin}/files/${id}.png`, revised_prompt: revisedPrompt };
      }
      return { b64_json: b64Of(png), revised_prompt: revisedPrompt };
    };
    const answer = () => ({
      created: Math.floor(Date.now() / 1000),
      data: Array.from({ length: n }, (_, index) => item(render(index))),
      ...(dalle ? {} : { output_format: 'png', usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 } })
    });

    if (summary.mode === 'callback' || summary.mode === 'async') {
      const id = randomUUID();
      const traceId = randomUUID();
      summary.taskId = id;
      const task = { id, doneAt: Date.now() + settings.taskDelayMs, response: answer() };
      tasks.set(id, task);
      while (tasks.size > MAX_STORED_TASKS) tasks.delete(/** @type {string} */ (tasks.keys().next().value));
      if (summary.mode === 'callback') scheduleCallback(fields.callback_url, id, traceId, task);
      summary.status = 200;
      sendJson(res, 200, { task_id: id, trace_id: traceId }, summary.requestId);
      return;
    }

    if (summary.mode === 'stream') {
      const partials = fields.partial_images === undefined ? 0 : Number(fields.partial_images);
      const steps = n * (partials + 1);
      summary.status = 200;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': summary.requestId });
      for (let index = 0; index < n; index++) {
        for (let p = 0; p < partials; p++) {
          await delay(settings.latencyMs / steps);
          writeEvent(res, 'image_edit.partial_image', {
            type: 'image_edit.partial_image',
            b64_json: b64Of(render(index, (p + 1) / (partials + 1))),
            partial_image_index: p,
            created_at: Math.floor(Date.now() / 1000),
            output_format: 'png'
          });
        }
        await delay(settings.latencyMs / steps);
        writeEvent(res, 'image_edit.completed', {
          type: 'image_edit.completed',
          b64_json: b64Of(render(index)),
          created_at: Math.floor(Date.now() / 1000),
          output_format: 'png',
          revised_prompt: revisedPrompt,
          usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 }
        });
      }
      res.end();
      return;
    }

    await delay(settings.latencyMs);
    summary.status = 200;
    if (settings.answerBytes && format !== 'url') {
      // Benchmark answers: the same image every time. Its base64 is spliced in as bytes made
      // once, so the stand-in's own CPU (it shares the machine) does not weigh on the figures.
      const text = JSON.stringify({ ...answer(), data: Array.from({ length: n }, () => ({ b64_json: SPLICE, revised_prompt: revisedPrompt })) });
      const pieces = text.split(`"${SPLICE}"`);
      const b64 = padded().b64Bytes;
      const chunks = pieces.flatMap((piece, i) => (i === 0 ? [Buffer.from(piece)] : [QUOTE, b64, QUOTE, Buffer.from(piece)]));
      const length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': length, 'x-request-id': summary.requestId });
      for (const chunk of chunks) res.write(chunk);
      res.end();
      return;
    }
    sendJson(res, 200, answer(), summary.requestId);
  }

  /**
   * OpenAI-style checks of an edit request; the first problem found, or undefined.
   * @param {Record<string, string>} fields
   * @param {Awaited<ReturnType<typeof parseMultipart>>} form
   * @returns {{message: string, param: string | null, code: string} | undefined}
   */
  function validateEdit(fields, form) {
    const images = form.files.filter(file => file.name === 'image' || file.name === 'image[]');
    if (images.length === 0) {
      if (fields.image !== undefined || fields['image[]'] !== undefined) {
        return { message: "Invalid type for 'image': expected a file, but got a string instead.", param: 'image', code: 'invalid_type' };
      }
      return { message: "Missing required parameter: 'image'.", param: 'image', code: 'missing_required_parameter' };
    }
    if (form.files.filter(file => file.name === 'image').length > 1) {
      return {
        message:
          "Duplicate parameter: 'image'. You provided multiple values for this parameter, whereas only one is allowed. If you are trying to provide a list of values, use the array syntax instead e.g. 'image[]=<value>'.",
        param: 'image',
        code: 'duplicate_parameter'
      };
    }
    if (images.length > 16) return { message: `Too many images: ${images.length}; at most 16 are allowed.`, param: 'image', code: 'invalid_value' };
    for (const file of form.files) {
      const type = file.type.split(';')[0].trim().toLowerCase();
      if (!IMAGE_TYPES.includes(type)) {
        return {
          message: `Invalid file '${file.name}': unsupported mimetype ('${file.type || 'none'}'). Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'.`,
          param: file.name,
          code: 'unsupported_file_mimetype'
        };
      }
    }
    if (fields.prompt === undefined || fields.prompt === '') {
      return { message: "Missing required parameter: 'prompt'.", param: 'prompt', code: 'missing_required_parameter' };
    }
    const model = fields.model ?? 'dall-e-3';
    const dalle = model.split(':')[0].startsWith('dall-e');
    if (fields.response_format !== undefined) {
      if (!dalle) return { message: "Unknown parameter: 'response_format'.", param: 'response_format', code: 'unknown_parameter' };
      if (!['url', 'b64_json'].includes(fields.response_format)) {
        return invalidValue('response_format', fields.response_format, "'url', 'b64_json'");
      }
    }
    if (fields.n !== undefined && !/^(10|[1-9])$/.test(fields.n)) return invalidValue('n', fields.n, 'an integer from 1 to 10');
    if (fields.partial_images !== undefined && !/^[0-3]$/.test(fields.partial_images)) {
      return invalidValue('partial_images', fields.partial_images, 'an integer from 0 to 3');
    }
    if (fields.output_format !== undefined && !['png', 'jpeg', 'webp'].includes(fields.output_format)) {
      return invalidValue('output_format', fields.output_format, "'png', 'jpeg', 'webp'");
    }
    if (fields.output_compression !== undefined && !/^(100|[1-9]?[0-9])$/.test(fields.output_compression)) {
      return invalidValue('output_compression', fields.output_compression, 'an integer from 0 to 100');
    }
    if (model.split(':')[0] === 'dall-e-2' && fields.prompt.length > 1000) {
      return { message: `Invalid 'prompt': string too long. Expected a string with maximum length 1000, but got a string with length ${fields.prompt.length} instead.`, param: 'prompt', code: 'string_above_max_length' };
    }
    if (fields.prompt.length > 32000) {
      return { message: `Invalid 'prompt': string too long. Expected a string with maximum length 32000, but got a string with length ${fields.prompt.length} instead.`, param: 'prompt', code: 'string_above_max_length' };
    }
    return undefined;
  }

  /**
   * @param {http.IncomingMessage} req
   * @param {http.ServerResponse} res
   * @param {RequestSummary} summary
   */
  async function handleTasks(req, res, summary) {
    if (!(await authorize(req, res, summary))) return;
    const traceId = randomUUID();
    const aceError = (/** @type {number} */ status, /** @type {string} */ code, /** @type {string} */ message) => {
      summary.status = status;
      summary.error = code;
      sendJson(res, status, { error: { code, message }, trace_id: traceId }, summary.requestId);
    };
    /** @type {any} */
    let body;
    try {
      const text = await readText(req, 1024 * 1024);
      body = JSON.parse(text);
    } catch (error) {
      return aceError(400, 'bad_request', `The body must be JSON such as {"action":"retrieve","id":"…"}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!body || typeof body !== 'object') return aceError(400, 'bad_request', 'The body must be a JSON object.');
    for (const [key, value] of Object.entries(body)) summary.fields[key] = typeof value === 'string' ? value : JSON.stringify(value);
    const view = (/** @type {string} */ id) => {
      const task = tasks.get(id);
      if (!task) return undefined;
      if (Date.now() < task.doneAt) return { id };
      task.finishedAt ??= Math.floor(Math.max(task.doneAt, Date.now()) / 1000);
      return { id, response: task.response, finished_at: task.finishedAt };
    };
    if (body.action === 'retrieve') {
      if (typeof body.id !== 'string' || body.id === '') return aceError(400, 'bad_request', 'retrieve needs "id" (a string).');
      const answer = view(body.id);
      if (!answer) return aceError(404, 'not_found', `No task with id ${body.id}.`);
      summary.status = 200;
      summary.taskId = body.id;
      return sendJson(res, 200, answer, summary.requestId);
    }
    if (body.action === 'retrieve_batch') {
      if (!Array.isArray(body.ids)) return aceError(400, 'bad_request', 'retrieve_batch needs "ids" (an array of strings).');
      const items = body.ids.map((/** @type {unknown} */ id) => (typeof id === 'string' ? view(id) : undefined)).filter(Boolean);
      summary.status = 200;
      return sendJson(res, 200, { items, count: items.length }, summary.requestId);
    }
    return aceError(400, 'bad_request', `Unknown action ${JSON.stringify(body.action)}; use "retrieve" or "retrieve_batch".`);
  }

  /**
   * POSTs a finished task to a loopback callback URL after the task delay; other URLs are skipped.
   * @param {string} callbackUrl
   * @param {string} taskId
   * @param {string} traceId
   * @param {{response: {created: number, data: object[]}}} task
   */
  function scheduleCallback(callbackUrl, taskId, traceId, task) {
    /** @type {URL | undefined} */
    let target;
    try {
      target = new URL(callbackUrl);
    } catch {
      target = undefined;
    }
    const record = { taskId, url: callbackUrl };
    callbacks.push(record);
    if (!target || target.protocol !== 'http:' || !LOOPBACK_HOSTS.has(target.hostname)) {
      Object.assign(record, { skipped: 'only plain http:// loopback callback URLs are called by the stand-in' });
      return;
    }
    const url = target;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (closed) return;
      const payload = JSON.stringify({ task_id: taskId, trace_id: traceId, success: true, response: task.response });
      const request = http.request(
        url,
        { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
        response => {
          Object.assign(record, { status: response.statusCode });
          response.resume();
        }
      );
      request.on('error', error => Object.assign(record, { error: error.message }));
      request.end(payload);
    }, settings.taskDelayMs);
    timers.add(timer);
  }

  /** The padded answer for `answerBytes`, made once. */
  function padded() {
    if (!paddedAnswer) {
      const png = padPng(patternPng(0), /** @type {number} */ (settings.answerBytes));
      const b64 = png.toString('base64');
      paddedAnswer = { png, b64, b64Bytes: Buffer.from(b64, 'latin1') };
    }
    return paddedAnswer;
  }

  /**
   * @param {http.ServerResponse} res
   * @param {RequestSummary} summary
   * @param {number} status
   * @param {string} message
   * @param {string | null} param
   * @param {string | null} code
   * @param {string} [type]
   */
  function answerOpenAiError(res, summary, status, message, param, code, type = 'invalid_request_error') {
    summary.status = status;
    summary.error = code ?? type;
    sendJson(res, status, { error: { message, type, param, code } }, summary.requestId);
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(undefined);
    });
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the stand-in server has no TCP address');
  origin = `http://127.0.0.1:${address.port}`;

  return {
    url: `${origin}/openai/images/edits`,
    origin,
    tasksUrl: `${origin}/openai/tasks`,
    port: address.port,
    requests,
    callbacks,
    stats,
    /** Marks every pending task as done now. */
    finishTasks() {
      const now = Date.now();
      for (const task of tasks.values()) task.doneAt = Math.min(task.doneAt, now);
    },
    /** Stops listening, drops open connections and pending timers. */
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await new Promise(resolve => {
        server.close(() => resolve(undefined));
        server.closeAllConnections();
      });
    }
  };
}

/** Cached pattern PNG per variant. */
const patternCache = new Map();

/**
 * The generated 256x256 pattern PNG of a variant, encoded once.
 * @param {number} variant
 * @returns {Buffer}
 */
function patternPng(variant) {
  const key = frameColor(variant).join(',');
  let png = patternCache.get(key);
  if (!png) {
    png = encodePng(patternImage(variant));
    patternCache.set(key, png);
  }
  return png;
}

/**
 * Decodes PNG bytes the visible edit can use; undefined for anything else
 * (JPEG, WebP, interlaced or too large PNG, damaged data).
 * @param {Buffer | undefined} bytes
 */
function decodeOrUndefined(bytes) {
  if (!bytes || !isPng(bytes)) return undefined;
  try {
    const header = readPngHeader(bytes);
    if (header.width * header.height > MAX_EDIT_PIXELS) return undefined;
    return decodePng(bytes, { maxPixels: MAX_EDIT_PIXELS });
  } catch {
    return undefined;
  }
}

/**
 * @param {http.ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 * @param {string | undefined} requestId
 */
function sendJson(res, status, body, requestId) {
  const text = JSON.stringify(body);
  /** @type {Record<string, string | number>} */
  const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
  if (requestId) headers['x-request-id'] = requestId;
  res.writeHead(status, headers);
  res.end(text);
}

/**
 * @param {http.ServerResponse} res
 * @param {string} event
 * @param {object} data
 */
function writeEvent(res, event, data) {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * Reads and discards the rest of a request body.
 * @param {http.IncomingMessage} req
 */
async function drain(req) {
  if (req.readableEnded) return;
  for await (const _chunk of req) {
    // discard
  }
}

/**
 * Reads a request body as UTF-8 text, refusing more than `limit` bytes.
 * @param {http.IncomingMessage} req
 * @param {number} limit
 */
async function readText(req, limit) {
  /** @type {Buffer[]} */
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  if (size > limit) throw new Error(`body larger than ${limit} bytes`);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * @param {string} name
 * @param {string} value
 * @param {string} expected
 */
function invalidValue(name, value, expected) {
  return {
    message: `Invalid value for '${name}': ${JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value)}. Expected ${expected}.`,
    param: name,
    code: 'invalid_value'
  };
}

/**
 * Runs the stand-in from the command line until SIGINT/SIGTERM.
 * @param {string[]} argv the arguments after the script name
 */
async function main(argv) {
  /** @type {Parameters<typeof startStandIn>[0]} */
  const options = {};
  const number = (/** @type {string} */ flag, /** @type {string | undefined} */ value) => {
    const parsed = Number(value);
    if (value === undefined || !Number.isFinite(parsed) || parsed < 0) {
      throw new Error(`${flag} needs a non-negative number, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
    }
    return parsed;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--port':
        options.port = number(flag, value());
        break;
      case '--latency':
        options.latencyMs = number(flag, value());
        break;
      case '--task-delay':
        options.taskDelayMs = number(flag, value());
        break;
      case '--answer-bytes':
        options.answerBytes = number(flag, value());
        break;
      case '--require-key': {
        const key = value();
        if (!key) throw new Error('--require-key needs a value');
        options.requireKey = key;
        break;
      }
      case '-h':
      case '--help':
        console.log(
          'usage: node stand-in/edit-endpoint.mjs [--port N] [--latency MS] [--require-key KEY] [--task-delay MS] [--answer-bytes N]'
        );
        return;
      default:
        throw new Error(`unknown argument ${JSON.stringify(argv[i])} (try --help)`);
    }
  }
  // Nobody reads the history of a separate process: keep none.
  options.record = false;
  const standIn = await startStandIn(options);
  console.log(`listening on ${standIn.url}`);
  const stop = () => {
    standIn.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch(error => {
    console.error(`stand-in: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  });
}
