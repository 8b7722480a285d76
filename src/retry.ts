/**
 * Where a retry is decided: which HTTP statuses and which errors are worth
 * another attempt, and how long to wait before it. No I/O here.
 */

/** A `Retry-After` (or `retry-after-ms`) longer than this is cut down to it. */
export const RETRY_AFTER_CAP_MS = 10 * 60 * 1000;

/** Error codes of transient network failures (Node system errors and undici errors). */
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'ATTEMPT_TIMEOUT'
]);

/** Thrown (by the edit client) when one attempt ran past its time limit; always retryable. */
export class AttemptTimeoutError extends Error {
  readonly code = 'ATTEMPT_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`no complete answer within ${formatDuration(timeoutMs)} (the timeout per attempt)`);
    this.name = 'AttemptTimeoutError';
  }
}

/**
 * Whether an HTTP status is worth retrying: 408 (request timeout), 409 (conflict),
 * 429 (rate limited) and every 5xx. Any other 4xx is the request's own fault.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * Whether an error thrown while making a request is a transient network failure
 * (connection reset or refused, broken pipe, socket and timeout errors of undici,
 * the per-attempt timeout). The caller's own abort (`AbortError`) is never retryable.
 * Looks through `cause` chains.
 */
export function isRetryableError(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const { code, name } = current as { code?: unknown; name?: unknown };
    if (name === 'AbortError' || code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED' || code === 'ABORTED') return false;
    if (typeof code === 'string' && RETRYABLE_CODES.has(code)) return true;
    if (name === 'TimeoutError') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Delay in milliseconds before retry number `attempt` (1-based: retry 1 follows
 * attempt 1). A `retry-after-ms` header wins, then `Retry-After` (seconds or an
 * HTTP date), both capped at {@link RETRY_AFTER_CAP_MS}; without either, an
 * exponential backoff `baseMs * 2^(attempt-1)` capped at `maxMs`, with full
 * jitter (a uniform pick between 0 and that). `now` and `random` are injectable
 * for tests.
 */
export function retryDelay(
  attempt: number,
  headers: Record<string, string | string[] | undefined> | undefined,
  options: { baseMs: number; maxMs: number; now?: number; random?: () => number }
): number {
  const fromHeaders = serverDelay(headers, options.now ?? Date.now());
  if (fromHeaders !== undefined) return Math.min(fromHeaders, RETRY_AFTER_CAP_MS);
  const exponent = Math.max(0, attempt - 1);
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(exponent, 52));
  const random = options.random ?? Math.random;
  const pick = Math.min(Math.max(random(), 0), 1);
  return Math.round(pick * ceiling);
}

/** The delay the server asked for, if it asked in a form we understand. */
function serverDelay(headers: Record<string, string | string[] | undefined> | undefined, now: number): number | undefined {
  if (!headers) return undefined;
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Math.ceil(Number(ms));
  const after = header(headers, 'retry-after');
  if (after === undefined) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(after)) return Math.ceil(Number(after) * 1000);
  const date = Date.parse(after);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** A header's value by lower-case name (the first one when repeated). */
function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  let value = headers[name];
  if (value === undefined) {
    const key = Object.keys(headers).find(k => k.toLowerCase() === name);
    value = key === undefined ? undefined : headers[key];
  }
  if (Array.isArray(value)) value = value[0];
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** `300 ms`, `2 s`, `1.5 s`, `30 min`: a duration for messages. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Number((ms / 1000).toFixed(1))} s`;
}
