/**
 * Errors of the edit endpoint: reading the API's error bodies (OpenAI and
 * AceData shapes) and the one error type the edit client throws.
 */
import { STATUS_CODES } from 'node:http';

/** What kind of failure an {@link EditError} is. */
export type EditErrorCode =
  /** The endpoint answered with an HTTP error status (see `status`). */
  | 'HTTP'
  /** The API reported an error inside a 200 answer or an event stream. */
  | 'API_ERROR'
  /** The connection failed (reset, refused, …) on every attempt. */
  | 'NETWORK'
  /** No complete answer within the per-attempt timeout, on every attempt. */
  | 'TIMEOUT'
  /** The caller's abort signal fired. */
  | 'ABORTED'
  /** The answer could not be understood (not JSON, no image, no task id). */
  | 'BAD_ANSWER'
  /** A redirect that is not followed (another origin, or not 307/308). */
  | 'REDIRECT'
  /** An image URL from the answer could not be downloaded. */
  | 'DOWNLOAD'
  /** An asynchronous task finished with an error. */
  | 'TASK_FAILED'
  /** An asynchronous task did not finish before the polling deadline. */
  | 'TASK_DEADLINE'
  /** A local file could not be read, or the client was misconfigured. */
  | 'LOCAL';

/** The one error the edit client throws. `message` is a single line and never holds the API key. */
export class EditError extends Error {
  /** HTTP status of the failing answer, when there was one. */
  status?: number;
  /** The API's own `error.message`, when it sent one. */
  apiMessage?: string;
  /** `x-request-id` header, else the body's `trace_id`. */
  requestId?: string;
  /** Attempts made (1 when not retried). */
  attempts: number;
  code?: EditErrorCode;

  constructor(
    message: string,
    fields: { status?: number; apiMessage?: string; requestId?: string; attempts?: number; code?: EditErrorCode; cause?: unknown } = {}
  ) {
    super(oneLine(message), fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'EditError';
    this.status = fields.status;
    this.apiMessage = fields.apiMessage;
    this.requestId = fields.requestId;
    this.attempts = fields.attempts ?? 1;
    this.code = fields.code;
  }
}

/** What an error body says, in either shape. */
export interface ApiErrorInfo {
  /** `error.message` (or a plain `error` string, `detail`, `message`). */
  apiMessage?: string;
  /** `error.type` (OpenAI). */
  type?: string;
  /** `error.param` (OpenAI). */
  param?: string;
  /** `error.code` (both shapes), as a string. */
  code?: string;
  /** `trace_id` (AceData). */
  traceId?: string;
}

/**
 * Reads an API error from a parsed JSON value: OpenAI `{error:{message,type,param,code}}`,
 * AceData `{error:{code,message},trace_id}`, and the common `{error:"…"}`,
 * `{detail:"…"}`, `{message:"…"}`. Returns an empty object for anything else.
 */
export function apiErrorOf(json: unknown): ApiErrorInfo {
  if (!isObject(json)) return {};
  const info: ApiErrorInfo = {};
  if (typeof json.trace_id === 'string' && json.trace_id) info.traceId = json.trace_id;
  const error = json.error;
  if (isObject(error)) {
    if (typeof error.message === 'string' && error.message.trim()) info.apiMessage = clean(error.message);
    if (typeof error.type === 'string') info.type = error.type;
    if (typeof error.param === 'string') info.param = error.param;
    if (typeof error.code === 'string' || typeof error.code === 'number') info.code = String(error.code);
    if (!info.apiMessage && info.code) info.apiMessage = info.code;
  } else if (typeof error === 'string' && error.trim()) {
    info.apiMessage = clean(error);
  }
  if (!info.apiMessage && typeof json.detail === 'string' && json.detail.trim()) info.apiMessage = clean(json.detail);
  if (!info.apiMessage && typeof json.message === 'string' && json.message.trim()) info.apiMessage = clean(json.message);
  return info;
}

/** Like {@link apiErrorOf}, from the raw text of an answer (which may not be JSON). */
export function parseApiError(bodyText: string): ApiErrorInfo {
  try {
    return apiErrorOf(JSON.parse(bodyText));
  } catch {
    return {};
  }
}

/** Whether a parsed 200 answer is really an error (`error` set, or `success: false`). */
export function isErrorAnswer(json: unknown): boolean {
  return isObject(json) && (json.error !== undefined && json.error !== null && json.error !== false || json.success === false);
}

/**
 * The one-line message of an HTTP error: `HTTP 400: <api message> (request id <id>)`.
 * Without an API message, the start of the body (or the status text) stands in.
 */
export function httpErrorMessage(status: number, apiMessage: string | undefined, requestId: string | undefined, bodyText = ''): string {
  // An empty body, or an empty JSON value (`{}`), says nothing: the status's own name does.
  const said = /^\s*(?:\{\s*\}|\[\s*\]|null|"")?\s*$/.test(bodyText) ? '' : snippet(bodyText);
  const text = apiMessage ?? (said || STATUS_CODES[status] || 'no message');
  return `HTTP ${status}: ${text}${requestId ? ` (request id ${requestId})` : ''}`;
}

/**
 * Builds the {@link EditError} for an HTTP error answer from its status, headers and
 * body text. `prefix` says what was being done when it is not the edit request itself.
 */
export function httpError(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  bodyText: string,
  prefix = ''
): EditError {
  const info = parseApiError(bodyText);
  const requestId = requestIdOf(headers, info.traceId);
  return new EditError(prefix + httpErrorMessage(status, info.apiMessage, requestId, bodyText), {
    status,
    apiMessage: info.apiMessage,
    requestId,
    code: 'HTTP'
  });
}

/** The request id: the `x-request-id` header, else the body's `trace_id`. */
export function requestIdOf(headers: Record<string, string | string[] | undefined>, traceId?: string): string | undefined {
  const header = headers['x-request-id'];
  const value = Array.isArray(header) ? header[0] : header;
  return value && value.trim() ? value.trim() : traceId;
}

/** The first 200 characters of a text, on one line. */
export function snippet(text: string, max = 200): string {
  const line = oneLine(text);
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

function clean(text: string): string {
  return snippet(text, 1000);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
