import { describe, expect, it } from '@jest/globals';
import { AttemptTimeoutError, formatDuration, isRetryableError, isRetryableStatus, RETRY_AFTER_CAP_MS, retryDelay } from '../src/retry.js';

describe('isRetryableStatus', () => {
  it('retries 408, 409, 429 and every 5xx', () => {
    for (const status of [408, 409, 429, 500, 502, 503, 504, 599]) expect(isRetryableStatus(status)).toBe(true);
  });

  it('does not retry other statuses', () => {
    for (const status of [200, 301, 307, 400, 401, 403, 404, 413, 415, 422, 600]) expect(isRetryableStatus(status)).toBe(false);
  });
});

describe('isRetryableError', () => {
  const withCode = (code: string, name = 'Error'): Error => Object.assign(new Error('x'), { code, name });

  it('retries transient network errors', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']) {
      expect(isRetryableError(withCode(code))).toBe(true);
    }
  });

  it('retries the per-attempt timeout and a TimeoutError', () => {
    expect(isRetryableError(new AttemptTimeoutError(300))).toBe(true);
    expect(isRetryableError(new DOMException('timed out', 'TimeoutError'))).toBe(true);
  });

  it('looks through the cause chain', () => {
    expect(isRetryableError(new Error('fetch failed', { cause: withCode('ECONNRESET') }))).toBe(true);
  });

  it("never retries the caller's abort", () => {
    expect(isRetryableError(new DOMException('aborted', 'AbortError'))).toBe(false);
    expect(isRetryableError(withCode('UND_ERR_ABORTED', 'AbortError'))).toBe(false);
    expect(isRetryableError(withCode('ABORT_ERR', 'AbortError'))).toBe(false);
  });

  it('does not retry other errors', () => {
    expect(isRetryableError(withCode('ENOENT'))).toBe(false);
    expect(isRetryableError(withCode('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH'))).toBe(false);
    expect(isRetryableError(new Error('plain'))).toBe(false);
    expect(isRetryableError('string')).toBe(false);
    expect(isRetryableError(undefined)).toBe(false);
  });
});

describe('retryDelay', () => {
  const options = { baseMs: 1000, maxMs: 30_000, now: Date.parse('2025-01-01T00:00:00Z') };

  it('honours Retry-After in seconds', () => {
    expect(retryDelay(1, { 'retry-after': '1' }, options)).toBe(1000);
    expect(retryDelay(3, { 'retry-after': '7' }, options)).toBe(7000);
    expect(retryDelay(1, { 'retry-after': '0' }, options)).toBe(0);
  });

  it('honours Retry-After as an HTTP date', () => {
    expect(retryDelay(1, { 'retry-after': 'Wed, 01 Jan 2025 00:00:05 GMT' }, options)).toBe(5000);
    expect(retryDelay(1, { 'retry-after': 'Tue, 31 Dec 2024 23:59:00 GMT' }, options)).toBe(0);
  });

  it('prefers retry-after-ms', () => {
    expect(retryDelay(1, { 'retry-after-ms': '250', 'retry-after': '9' }, options)).toBe(250);
  });

  it('reads header names in any case and repeated values', () => {
    expect(retryDelay(1, { 'Retry-After': '2' }, options)).toBe(2000);
    expect(retryDelay(1, { 'retry-after': ['3', '4'] }, options)).toBe(3000);
  });

  it('caps what the server asks for', () => {
    expect(retryDelay(1, { 'retry-after': '86400' }, options)).toBe(RETRY_AFTER_CAP_MS);
  });

  it('falls back to backoff when Retry-After is unreadable', () => {
    expect(retryDelay(2, { 'retry-after': 'soon' }, { ...options, random: () => 1 })).toBe(2000);
  });

  it('backs off exponentially with full jitter', () => {
    expect(retryDelay(1, undefined, { ...options, random: () => 1 })).toBe(1000);
    expect(retryDelay(2, undefined, { ...options, random: () => 1 })).toBe(2000);
    expect(retryDelay(4, undefined, { ...options, random: () => 1 })).toBe(8000);
    expect(retryDelay(4, undefined, { ...options, random: () => 0.5 })).toBe(4000);
    expect(retryDelay(4, undefined, { ...options, random: () => 0 })).toBe(0);
  });

  it('stays within [0, base*2^(attempt-1)] with the real random', () => {
    for (let i = 0; i < 200; i++) {
      const delay = retryDelay(3, {}, options);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(4000);
    }
  });

  it('caps the backoff at maxMs', () => {
    expect(retryDelay(10, undefined, { ...options, random: () => 1 })).toBe(30_000);
    expect(retryDelay(2000, undefined, { ...options, random: () => 1 })).toBe(30_000);
  });
});

describe('formatDuration', () => {
  it('reads naturally', () => {
    expect(formatDuration(300)).toBe('300 ms');
    expect(formatDuration(1500)).toBe('1.5 s');
    expect(formatDuration(600_000)).toBe('10 min');
  });
});
