import { describe, expect, it } from '@jest/globals';
import { Base64Decoder, DecodedBase64, JsonAnswerScanner, parseScanned, type ScannedAnswer } from '../src/json-answer.js';

/*
 * The contract checked here: for any JSON text, parseScanned(scanner.end()) equals
 * JSON.parse(text) except that each `b64_json` string value is a DecodedBase64
 * whose bytes equal Buffer.from(stripDataPrefix(value), 'base64'); text that is not
 * JSON makes parseScanned throw.
 */

type Scanned = ScannedAnswer;

/** A small seeded PRNG (mulberry32): the same seed gives the same numbers. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` pseudo-random bytes. */
function randomBytes(rand: () => number, n: number): Buffer {
  const bytes = Buffer.alloc(n + 3);
  for (let i = 0; i < n; i += 4) bytes.writeUInt32LE(Math.floor(rand() * 4294967296), i);
  return bytes.subarray(0, n);
}

/** PNG-looking bytes: the signature, then pseudo-random bytes. */
function fakePng(seed: number, n: number): Buffer {
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(mulberry32(seed), n)]);
}

/** Same as `stripDataPrefix` in src/edit-client.ts. */
function stripDataPrefix(b64: string): string {
  return b64.startsWith('data:') ? b64.slice(b64.indexOf(',') + 1) : b64;
}

/** Scans `input` cut at the given offsets (ascending). */
function scanAt(input: string | Buffer, cuts: number[], expectedLength = 0): Scanned {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const scanner = new JsonAnswerScanner(expectedLength);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    scanner.write(bytes.subarray(from, cut));
    from = cut;
  }
  return scanner.end();
}

/** Scans `input` in chunks whose sizes (at least 1) come from `nextSize`. */
function scanChunks(input: string | Buffer, nextSize: () => number, expectedLength = 0): Scanned {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const scanner = new JsonAnswerScanner(expectedLength);
  for (let i = 0; i < bytes.length; ) {
    const size = Math.max(1, nextSize());
    scanner.write(bytes.subarray(i, i + size));
    i += size;
  }
  return scanner.end();
}

/** Scans and parses `input` in one chunk. */
function read(input: string | Buffer, expectedLength = 0): unknown {
  return parseScanned(scanAt(input, [], expectedLength));
}

/** JSON.parse with every `b64_json` string value replaced by `{ $decoded: hex of its bytes }`. */
function reference(text: string): unknown {
  return JSON.parse(text, (key, value: unknown) =>
    key === 'b64_json' && typeof value === 'string'
      ? { $decoded: Buffer.from(stripDataPrefix(value), 'base64').toString('hex') }
      : value
  );
}

/** A parsed answer with every DecodedBase64 replaced by `{ $decoded: hex of its bytes }` (comparable to {@link reference}). */
function normalize(value: unknown): unknown {
  if (value instanceof DecodedBase64) {
    if (!Buffer.isBuffer(value.bytes)) throw new Error('DecodedBase64.bytes is not a Buffer');
    return { $decoded: value.bytes.toString('hex') };
  }
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = normalize(item);
    return out;
  }
  return value;
}

/** The decoded value at `path` (throws a readable error when it is not a DecodedBase64). */
function decodedAt(root: unknown, ...path: (string | number)[]): DecodedBase64 {
  let value: unknown = root;
  for (const step of path) value = (value as Record<string | number, unknown>)[step];
  if (!(value instanceof DecodedBase64)) throw new Error(`not a DecodedBase64 at ${path.join('.')}: ${String(value)}`);
  return value;
}

/** Expects `text` to be read exactly as the reference reads it, in one chunk and byte by byte. */
function expectLikeReference(text: string): void {
  const expected = reference(text);
  expect(normalize(read(text))).toStrictEqual(expected);
  expect(normalize(parseScanned(scanChunks(text, () => 1)))).toStrictEqual(expected);
}

describe('typical answers', () => {
  it('decodes the b64_json of a one-image answer and keeps the other fields', () => {
    const png = fakePng(1, 3000);
    const text = JSON.stringify({
      created: 1713833628,
      data: [{ b64_json: png.toString('base64'), revised_prompt: 'A cat in a hat' }],
      usage: { total_tokens: 42 }
    });
    const scanned = scanAt(text, []);
    expect(scanned.images).toHaveLength(1);
    expect(scanned.text.length).toBeLessThan(200);
    const answer = parseScanned(scanned) as { created: number; data: { revised_prompt: string }[]; usage: unknown };
    expect(answer.created).toBe(1713833628);
    expect(answer.usage).toEqual({ total_tokens: 42 });
    expect(answer.data[0].revised_prompt).toBe('A cat in a hat');
    const image = decodedAt(answer, 'data', 0, 'b64_json');
    expect(Buffer.isBuffer(image.bytes)).toBe(true);
    expect(image.bytes.equals(png)).toBe(true);
    expect(image.textLength).toBe(png.toString('base64').length);
    expect(Object.keys(answer.data[0]).sort()).toEqual(['b64_json', 'revised_prompt']);
  });

  it('decodes every image of a several-image answer, in order (all padding lengths)', () => {
    const pngs = [fakePng(2, 1000), fakePng(3, 1001), fakePng(4, 1002), fakePng(5, 0), fakePng(6, 50_000)];
    const text = JSON.stringify({
      created: 1,
      data: pngs.map((png, i) => ({ b64_json: png.toString('base64'), revised_prompt: `variant ${i}` }))
    });
    for (const expectedLength of [0, Buffer.byteLength(text)]) {
      const answer = read(text, expectedLength) as { data: { revised_prompt: string }[] };
      expect(answer.data).toHaveLength(pngs.length);
      pngs.forEach((png, i) => {
        expect(decodedAt(answer, 'data', i, 'b64_json').bytes.equals(png)).toBe(true);
        expect(answer.data[i].revised_prompt).toBe(`variant ${i}`);
      });
    }
    expectLikeReference(text);
  });

  it('leaves an answer with url only exactly as JSON.parse gives it', () => {
    const text = JSON.stringify({
      created: 1713833628,
      data: [{ url: 'https://cdn.example.com/a.png?sig=x%2Fy', revised_prompt: 'x' }, { url: 'https://cdn.example.com/b.png' }]
    });
    const scanned = scanAt(text, []);
    expect(scanned.images).toEqual([]);
    expect(scanned.text).toBe(text);
    expect(parseScanned(scanned)).toStrictEqual(JSON.parse(text));
  });

  it('leaves an error answer exactly as JSON.parse gives it', () => {
    const text = '{\n  "error": {\n    "message": "Invalid \\"size\\": 12x12 (b64_json)",\n    "type": "invalid_request_error",\n    "param": "size",\n    "code": null\n  }\n}';
    expect(read(text)).toStrictEqual(JSON.parse(text));
    expect((read(text) as { error: { message: string } }).error.message).toBe('Invalid "size": 12x12 (b64_json)');
  });

  it('does not decode "b64_json" as a value, inside other strings or as part of other keys', () => {
    const text = JSON.stringify({
      note: 'b64_json',
      list: ['b64_json', 'x b64_json y', 'b64_json:', '"b64_json":"QUJD"'],
      b64_jsonx: 'QUJD',
      xb64_json: 'QUJD',
      B64_JSON: 'QUJD',
      'b64_json ': 'QUJD',
      b64: 'QUJD',
      nested: { 'a"b64_json': 'QUJD', 'b64_json\\': 'QUJD' }
    });
    const scanned = scanAt(text, []);
    expect(scanned.images).toEqual([]);
    expect(parseScanned(scanned)).toStrictEqual(JSON.parse(text));
  });

  it('decodes the real key next to a "b64_json" value, an escaped quote and a trailing backslash', () => {
    const text = String.raw`{"note":"b64_json","quote":"he said \"b64_json\"","path":"C:\\","b64_json":"QUJD","after":"b64_json"}`;
    const answer = read(text) as Record<string, unknown>;
    expect(decodedAt(answer, 'b64_json').bytes.toString()).toBe('ABC');
    expect(answer.note).toBe('b64_json');
    expect(answer.quote).toBe('he said "b64_json"');
    expect(answer.path).toBe('C:\\');
    expect(answer.after).toBe('b64_json');
    expectLikeReference(text);
  });

  it('allows whitespace and newlines around the colon', () => {
    const text = '{ "b64_json" \n\t: \r\n "QUJD" , "b64_json2"\n:\n"QUJD" }';
    const answer = read(text) as Record<string, unknown>;
    expect(decodedAt(answer, 'b64_json').bytes.toString()).toBe('ABC');
    expect(answer.b64_json2).toBe('QUJD');
  });

  it('decodes b64_json values at any depth, including inside a b64_json object', () => {
    const text = JSON.stringify({
      data: [{ b64_json: { b64_json: 'QUJD', x: 1 } }],
      meta: { deep: [[{ b64_json: 'AAEC' }]] },
      b64_json: 'RA=='
    });
    const answer = read(text) as { data: { b64_json: { x: number } }[] };
    expect(decodedAt(answer, 'data', 0, 'b64_json', 'b64_json').bytes.toString()).toBe('ABC');
    expect(answer.data[0].b64_json.x).toBe(1);
    expect(decodedAt(answer, 'meta', 'deep', 0, 0, 'b64_json').bytes).toEqual(Buffer.from([0, 1, 2]));
    expect(decodedAt(answer, 'b64_json').bytes.toString()).toBe('D');
    expectLikeReference(text);
  });

  it('leaves a b64_json that is not a string as parsed', () => {
    const text =
      '{"a":{"b64_json":123},"b":{"b64_json":null},"c":{"b64_json":{"k":"QUJD"}},"d":{"b64_json":["QUJD"]},' +
      '"e":{"b64_json":true},"f":{"b64_json":false},"g":{"b64_json":-1.5e3}}';
    const scanned = scanAt(text, []);
    expect(scanned.images).toEqual([]);
    expect(parseScanned(scanned)).toStrictEqual(JSON.parse(text));
  });

  it('keeps the last of duplicate b64_json keys, as JSON.parse does', () => {
    const text = '{"b64_json":"QUJD","b64_json":"REVG"}';
    expect(decodedAt(read(text), 'b64_json').bytes.toString()).toBe('DEF');
    const text2 = '{"b64_json":"QUJD","b64_json":7}';
    expect(read(text2)).toStrictEqual({ b64_json: 7 });
  });

  it('reads top-level values other than objects', () => {
    for (const text of ['"b64_json"', '[]', '[1,"b64_json",{"b64_json":"QUJD"}]', '42', 'null', ' "x" ']) {
      expect(normalize(read(text))).toStrictEqual(reference(text));
    }
  });

  it('tolerates empty chunks anywhere', () => {
    const text = '{"b64_json":"QUJD","x":"y"}';
    const bytes = Buffer.from(text);
    const scanner = new JsonAnswerScanner();
    scanner.write(Buffer.alloc(0));
    for (let i = 0; i < bytes.length; i++) {
      scanner.write(bytes.subarray(i, i + 1));
      scanner.write(Buffer.alloc(0));
    }
    expect(normalize(parseScanned(scanner.end()))).toStrictEqual(reference(text));
  });
});

/** A small answer with most of what is tricky: a data: prefix, escapes, newlines, unicode, two images. */
const SMALL = String.raw`{"created":1,"data":[{"b64_json":"data:image\/png;base64,+\/8A\u002bQ\nUJD==","revised_prompt":"caf\u00e9 🎨 \"b64_json\" é"},{"b64_json":"QQ","url":null}],"b64_json":"b64_json"}`;

describe('chunk boundaries', () => {
  it('gives the same result for SMALL cut at every offset', () => {
    const bytes = Buffer.from(SMALL, 'utf8');
    const expected = reference(SMALL);
    // Sanity: the reference decodes what the test means.
    expect((expected as { data: { b64_json: unknown }[] }).data[1].b64_json).toEqual({ $decoded: '41' });
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(normalize(parseScanned(scanAt(bytes, [cut])))).toStrictEqual(expected);
    }
  });

  it('gives the same result for SMALL cut at every pair of offsets', () => {
    const bytes = Buffer.from(SMALL, 'utf8');
    const expected = JSON.stringify(reference(SMALL));
    let runs = 0;
    for (let a = 1; a < bytes.length; a++) {
      for (let b = a; b < bytes.length; b++) {
        const got = JSON.stringify(normalize(parseScanned(scanAt(bytes, [a, b]))));
        if (got !== expected) throw new Error(`cuts at ${a} and ${b}: ${got}`);
        runs++;
      }
    }
    expect(runs).toBeGreaterThan(5000);
  });

  it('gives the same result for SMALL fed byte by byte, with each expected length', () => {
    const length = Buffer.byteLength(SMALL);
    for (const expectedLength of [0, 1, 20, length - 1, length, length + 1, length * 10]) {
      expect(normalize(parseScanned(scanChunks(SMALL, () => 1, expectedLength)))).toStrictEqual(reference(SMALL));
    }
  });

  it('gives the same result in random chunk sizes (seeded)', () => {
    const images = [fakePng(10, 5000), fakePng(11, 7), fakePng(12, 9001)];
    const mime = images[2].toString('base64').replace(/.{76}/g, '$&\n');
    const text =
      '{"created":1713833628,"data":[' +
      `{"b64_json":"${images[0].toString('base64').replace(/\//g, '\\/')}","revised_prompt":"\\u00e9t\\u00e9 ☀️"},` +
      `{"b64_json":"data:image/png;base64,${images[1].toString('base64').replace(/=+$/, '')}"},` +
      `{"b64_json":${JSON.stringify(mime)}}]}`;
    const bytes = Buffer.from(text, 'utf8');
    const expected = reference(text);
    const rand = mulberry32(20240501);
    for (let run = 0; run < 60; run++) {
      const max = [2, 7, 64, 1000, 4096, 20_000][run % 6];
      const expectedLength = [0, bytes.length, bytes.length - 5000, bytes.length * 3, 1][run % 5];
      const answer = parseScanned(scanChunks(bytes, () => 1 + Math.floor(rand() * max), expectedLength));
      images.forEach((image, i) => expect(decodedAt(answer, 'data', i, 'b64_json').bytes.equals(image)).toBe(true));
      expect(normalize(answer)).toStrictEqual(expected);
    }
  });
});

describe('b64_json values', () => {
  it('undoes \\/ and \\u escapes (servers escaping + and /)', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xbf, 0xfb, 0xef, 0xbe, 0x00, 0x10, 0x83]);
    const b64 = bytes.toString('base64');
    expect(b64).toMatch(/[+/]/);
    const escaped = b64.replace(/\//g, '\\/').replace(/\+/g, '\\u002b');
    const text = `{"b64_json":"${escaped}"}`;
    const image = decodedAt(read(text), 'b64_json');
    expect(image.bytes.equals(bytes)).toBe(true);
    expect(image.textLength).toBe(b64.length);
    const upper = `{"b64_json":"${b64.replace(/\//g, '\\u002F').replace(/\+/g, '\\u002B')}"}`;
    expect(decodedAt(read(upper), 'b64_json').bytes.equals(bytes)).toBe(true);
    expectLikeReference(text);
  });

  it('ignores MIME-style line breaks (\\n and \\r\\n escapes every 76 characters)', () => {
    const png = fakePng(20, 2000);
    const b64 = png.toString('base64');
    for (const breakText of ['\\n', '\\r\\n', ' ', '\\t']) {
      const text = `{"data":[{"b64_json":"${b64.replace(/.{76}/g, `$&${breakText}`)}"}]}`;
      expect(decodedAt(read(text), 'data', 0, 'b64_json').bytes.equals(png)).toBe(true);
      expect(normalize(parseScanned(scanChunks(text, () => 3)))).toStrictEqual(reference(text));
    }
  });

  it('decodes values without = padding', () => {
    for (const n of [1, 2, 4, 5, 301, 302]) {
      const bytes = fakePng(30 + n, n);
      const b64 = bytes.toString('base64').replace(/=+$/, '');
      const text = `{"b64_json":"${b64}"}`;
      expect(decodedAt(read(text), 'b64_json').bytes.equals(bytes)).toBe(true);
      expectLikeReference(text);
    }
  });

  it('removes a data:image/png;base64, prefix (also with an escaped slash) and counts it in textLength', () => {
    const png = fakePng(40, 500);
    const value = `data:image/png;base64,${png.toString('base64')}`;
    for (const text of [JSON.stringify({ b64_json: value }), `{"b64_json":"${value.replace(/\//g, '\\/')}"}`]) {
      const image = decodedAt(read(text), 'b64_json');
      expect(image.bytes.equals(png)).toBe(true);
      expect(image.textLength).toBe(value.length);
      expectLikeReference(text);
    }
  });

  it('treats data: values the way stripDataPrefix does (no comma, short, almost data:)', () => {
    for (const value of ['data:', 'data:QUJD', 'dat', 'data', 'datQ', 'data:,', 'data:,QUJD', 'data:a,b,QUJD', 'QUJDdata:,QUJD']) {
      const text = JSON.stringify({ b64_json: value });
      const expected = Buffer.from(stripDataPrefix(value), 'base64');
      expect(decodedAt(read(text), 'b64_json').bytes.equals(expected)).toBe(true);
      expect(normalize(parseScanned(scanChunks(text, () => 1)))).toStrictEqual(reference(text));
    }
  });

  it('decodes an empty value to no bytes', () => {
    const image = decodedAt(read('{"b64_json":""}'), 'b64_json');
    expect(image.bytes.length).toBe(0);
    expect(image.textLength).toBe(0);
    expect(decodedAt(read('{"b64_json":""}', 15), 'b64_json').bytes.length).toBe(0);
  });

  it('decodes leniently like Buffer.from (odd characters, = in the middle, URL-safe letters)', () => {
    for (const value of ['QUJD*QUJD', 'QQ==QUJD', 'QUJDQQ==QUJD', 'QU.JD', '-_-_', 'Q', 'QUJDR', '====', 'QUJD\u00e9QUJD']) {
      expectLikeReference(JSON.stringify({ b64_json: value }));
    }
  });

  it('keeps unicode elsewhere in the answer (raw emoji, \\u00e9, surrogate pair escapes)', () => {
    const text = String.raw`{"data":[{"b64_json":"QUJD","revised_prompt":"🎨 caf\u00e9 \ud83c\udfa8 日本 \u2028 \n"}],"ünï":"çødé"}`;
    const answer = read(text) as { data: { revised_prompt: string }[]; ünï: string };
    expect(answer.data[0].revised_prompt).toBe('🎨 café 🎨 日本 \u2028 \n');
    expect(answer.ünï).toBe('çødé');
    expectLikeReference(text);
  });
});

describe('expected length', () => {
  const images = [fakePng(50, 30_000), fakePng(51, 10), fakePng(52, 30_001)];
  const text = JSON.stringify({ created: 1, data: images.map((png) => ({ b64_json: png.toString('base64'), revised_prompt: 'é' })) });
  const length = Buffer.byteLength(text);

  it.each([
    ['right', length],
    ['0 (unknown)', 0],
    ['too small by one', length - 1],
    ['too small by a lot', length - 30_000],
    ['tiny', 1],
    ['too large', length + 1],
    ['far too large', length * 20],
    ['larger than the preallocation cap', 1e9]
  ])('gives the same bytes when it is %s', (_name, expectedLength) => {
    for (const chunk of [length, 4096, 1000]) {
      const answer = parseScanned(scanChunks(text, () => chunk, expectedLength));
      images.forEach((png, i) => expect(decodedAt(answer, 'data', i, 'b64_json').bytes.equals(png)).toBe(true));
    }
  });

  it('does not hand out a decoded image with far more room than it needs', () => {
    const answer = parseScanned(scanChunks(text, () => 4096, length * 20));
    for (let i = 0; i < images.length; i++) {
      const { bytes } = decodedAt(answer, 'data', i, 'b64_json');
      // A small copy may sit in Buffer's shared pool; the room made up front (about 20 × the answer) must be gone.
      expect(bytes.buffer.byteLength).toBeLessThanOrEqual(Math.max(2 * bytes.length, Buffer.poolSize));
    }
  });
});

describe('Base64Decoder', () => {
  /** Decodes `text` pushed in pieces of `size` characters with the given maxTextLength. */
  function decode(text: string, size: number, maxTextLength: number): DecodedBase64 {
    const decoder = new Base64Decoder(maxTextLength);
    for (let i = 0; i < text.length; i += size) decoder.push(text.slice(i, i + size));
    return decoder.end();
  }

  it('gives Buffer.from(stripDataPrefix(text)) for any piece size and maxTextLength', () => {
    const png = fakePng(60, 3001).toString('base64');
    const texts = [
      png,
      png.replace(/=+$/, ''),
      `data:image/png;base64,${png}`,
      png.replace(/.{76}/g, '$&\n'),
      `${png.slice(0, 100)}==${png.slice(100)}`,
      '',
      'QQ',
      'data:',
      'da'
    ];
    for (const text of texts) {
      const expected = Buffer.from(stripDataPrefix(text), 'base64');
      for (const size of [1, 2, 3, 4, 5, 7, 76, 1000, 100_000]) {
        for (const max of [0, text.length, text.length - 1, Math.floor(text.length / 2), text.length + 1, text.length * 4, 1]) {
          const decoded = decode(text, size, max);
          if (!decoded.bytes.equals(expected)) throw new Error(`${JSON.stringify(text.slice(0, 30))} in pieces of ${size}, max ${max}`);
          expect(decoded.textLength).toBe(text.length);
        }
      }
    }
  });

  it('treats the data: prefix when it comes one character at a time', () => {
    const decoder = new Base64Decoder();
    for (const piece of ['d', 'a', 't', 'a', ':', 'image/png;base64', ',', 'QU', 'JD']) decoder.push(piece);
    const decoded = decoder.end();
    expect(decoded.bytes.toString()).toBe('ABC');
    expect(decoded.textLength).toBe('data:image/png;base64,QUJD'.length);
  });
});

/** Builds random JSON texts; with `escapes`, strings and whitespace use every JSON spelling. */
class JsonGenerator {
  b64Count = 0;

  constructor(
    private readonly rand: () => number,
    private readonly escapes: boolean
  ) {}

  private int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  private ws(): string {
    return this.escapes ? this.pick(['', '', '', ' ', '\n', '\t', '\r\n', '  ']) : this.pick(['', '', ' ']);
  }

  /** A JSON string literal for `s`, with random (valid) escapes when `escapes`. */
  quote(s: string): string {
    const SHORT: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r', '\b': '\\b', '\f': '\\f' };
    const u = (code: number): string => {
      const hex = code.toString(16).padStart(4, '0');
      return `\\u${this.rand() < 0.5 ? hex : hex.toUpperCase()}`;
    };
    let out = '"';
    for (const ch of s) {
      const code = ch.codePointAt(0) as number;
      const fancy = this.escapes && this.rand() < 0.2;
      if (ch === '"') out += fancy ? u(code) : '\\"';
      else if (ch === '\\') out += fancy ? u(code) : '\\\\';
      else if (code < 0x20) out += SHORT[ch] !== undefined && this.rand() < 0.5 ? SHORT[ch] : u(code);
      else if (ch === '/' && fancy) out += '\\/';
      else if (fancy && code > 0xffff) out += u(ch.charCodeAt(0)) + u(ch.charCodeAt(1));
      else if (fancy) out += u(code);
      else out += ch;
    }
    return `${out}"`;
  }

  /** A random string. Non-ASCII pieces have low bytes that base64 ignores (see the known Latin-1 deviation). */
  private text(): string {
    const pieces = ['a', 'Z', '0', ' ', 'b64_json', 'QUJD', '=', '+', ':', ',', '{', '}', '[', 'data:', 'é', '日本', '🎨', '\u2028'];
    const special = ['"', '\\', '/', '\n', '\t', '\u0000', '\u001f'];
    let s = '';
    for (let n = this.int(7); n > 0; n--) s += this.escapes && this.rand() < 0.3 ? this.pick(special) : this.pick(pieces);
    return s;
  }

  /** A random base64 value of random bytes, in one of the spellings servers use. */
  private b64(): string {
    this.b64Count++;
    let b64 = randomBytes(this.rand, this.int(40)).toString('base64');
    if (this.rand() < 0.2) b64 = b64.replace(/=+$/, '');
    if (this.rand() < 0.2) b64 = b64.replace(/\+/g, '-').replace(/\//g, '_');
    if (this.rand() < 0.2) {
      const width = 4 + this.int(20);
      b64 = b64.replace(new RegExp(`.{${width}}`, 'g'), `$&${this.pick(this.escapes ? ['\n', '\r\n', ' '] : [' '])}`);
    }
    if (this.rand() < 0.2) b64 = `data:image/${this.pick(['png', 'jpeg', 'webp'])};base64,${b64}`;
    if (this.rand() < 0.05) b64 = `${b64.slice(0, 4)}*${b64.slice(4)}`;
    return this.quote(b64);
  }

  private key(): string {
    const key = this.pick(['created', 'data', 'b64_json', 'b64_json', 'b64_json', 'revised_prompt', 'url', 'note', 'b64_jsonx', 'xb64_json', 'b64', '']);
    const name = key === '' ? this.text() : key;
    // An escaped spelling of the key b64_json is a known deviation (see below): always write it plainly.
    return name === 'b64_json' ? '"b64_json"' : this.quote(name);
  }

  value(depth: number): string {
    const roll = this.rand();
    if (depth > 0 && roll < 0.3) return this.object(depth - 1);
    if (depth > 0 && roll < 0.45) return this.array(depth - 1);
    if (roll < 0.7) return this.quote(this.text());
    if (roll < 0.85) return this.number();
    return this.pick(['true', 'false', 'null']);
  }

  private number(): string {
    return this.pick([
      String(this.int(1_000_000)),
      String(-this.int(1000)),
      (this.rand() * 100 - 50).toFixed(this.int(6)),
      `${this.int(10)}e${this.int(20)}`,
      `-${this.int(10)}.${this.int(100)}E-${this.int(5)}`,
      '0'
    ]);
  }

  object(depth: number): string {
    const members: string[] = [];
    for (let n = this.int(5); n > 0; n--) {
      const key = this.key();
      const value = key === '"b64_json"' && this.rand() < 0.75 ? this.b64() : this.value(depth);
      members.push(`${this.ws()}${key}${this.ws()}:${this.ws()}${value}${this.ws()}`);
    }
    return `{${members.join(',')}${members.length ? '' : this.ws()}}`;
  }

  private array(depth: number): string {
    const items: string[] = [];
    for (let n = this.int(4); n > 0; n--) items.push(`${this.ws()}${this.rand() < 0.4 ? this.object(depth) : this.value(depth)}${this.ws()}`);
    return `[${items.join(',')}]`;
  }

  /** A whole document: mostly an object, sometimes anything. */
  document(): string {
    return `${this.ws()}${this.rand() < 0.85 ? this.object(3) : this.value(3)}${this.ws()}`;
  }
}

describe('property: random documents in random chunks', () => {
  it('matches JSON.parse + Buffer.from for 500 seeded documents', () => {
    const rand = mulberry32(0xc0ffee);
    const generator = new JsonGenerator(rand, true);
    let withImages = 0;
    for (let n = 0; n < 500; n++) {
      const text = generator.document();
      const bytes = Buffer.from(text, 'utf8');
      const expected = reference(text);
      const max = 1 + Math.floor(rand() * Math.max(1, bytes.length / 2));
      const expectedLength = [0, bytes.length, Math.floor(bytes.length / 2), bytes.length * 2][Math.floor(rand() * 4)];
      const scanned = scanChunks(bytes, () => 1 + Math.floor(rand() * max), expectedLength);
      if (scanned.images.length > 0) withImages++;
      let actual: unknown;
      try {
        actual = normalize(parseScanned(scanned));
      } catch (err) {
        throw new Error(`document ${n} failed to parse: ${(err as Error).message}\n${text}`);
      }
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        // Show the document with the difference.
        expect({ n, text, actual }).toStrictEqual({ n, text, actual: expected });
      }
    }
    expect(generator.b64Count).toBeGreaterThan(300);
    expect(withImages).toBeGreaterThan(150);
  });

  it('throws exactly when JSON.parse throws for 300 mutated documents', () => {
    const rand = mulberry32(424242);
    const generator = new JsonGenerator(rand, false);
    const inserts = ['{', '}', '[', ']', ',', ':', '"', ' ', 'x', '1'];
    let invalid = 0;
    for (let n = 0; n < 300; n++) {
      let text = generator.document();
      const at = Math.floor(rand() * (text.length + 1));
      const mutation = Math.floor(rand() * 3);
      if (mutation === 0) text = text.slice(0, at);
      else if (mutation === 1) text = text.slice(0, at) + text.slice(at + 1);
      else text = text.slice(0, at) + inserts[Math.floor(rand() * inserts.length)] + text.slice(at);
      let expected: unknown;
      let referenceError: unknown;
      try {
        expected = reference(text);
      } catch (err) {
        referenceError = err;
      }
      const scanned = scanChunks(text, () => 1 + Math.floor(rand() * 16));
      if (referenceError) {
        invalid++;
        expect(() => parseScanned(scanned)).toThrow(SyntaxError);
      } else {
        expect(normalize(parseScanned(scanned))).toStrictEqual(expected);
      }
    }
    expect(invalid).toBeGreaterThan(100);
  });
});

describe('malformed answers', () => {
  it('throws for every truncation of a typical answer', () => {
    const text = JSON.stringify({ created: 1, data: [{ b64_json: 'data:image/png;base64,QUJDREVG', revised_prompt: 'é\n"' }] });
    const bytes = Buffer.from(text);
    for (let end = 0; end < bytes.length; end++) {
      const truncated = bytes.subarray(0, end);
      expect(() => JSON.parse(truncated.toString('utf8'))).toThrow();
      expect(() => parseScanned(scanAt(truncated, []))).toThrow(SyntaxError);
      expect(() => parseScanned(scanChunks(truncated, () => 1))).toThrow(SyntaxError);
    }
  });

  it.each([
    ['a truncated base64 value', '{"data":[{"b64_json":"QUJD'],
    ['a value truncated after a backslash', '{"data":[{"b64_json":"QU\\'],
    ['a value truncated in a \\u escape', '{"data":[{"b64_json":"QU\\u00'],
    ['an empty answer', ''],
    ['whitespace only', ' \n '],
    ['HTML', '<html><body>502 Bad Gateway</body></html>'],
    ['plain text', 'not json'],
    ['trailing garbage after a decoded value', '{"b64_json":"QUJD"} trailing'],
    ['garbage right after a decoded value', '{"b64_json":"QUJD"x}'],
    ['a trailing comma', '{"b64_json":"QUJD",}'],
    ['a missing colon', '{"b64_json" "QUJD"}'],
    ['two strings', '{"b64_json":"QUJD""x"}'],
    ['a key-value pair in an array', '["b64_json":"QUJD"]'],
    ['a decoded value as a key', '{"b64_json":"QUJD":1}'],
    ['a bare key-value pair', '"b64_json":"QUJD"'],
    ['a single quote string', "{'b64_json':'QUJD'}"],
    ['an unterminated ordinary string', '{"a":"b'],
    ['two documents', '{"b64_json":"QUJD"}{"b64_json":"QUJD"}']
  ])('throws for %s', (_name, text) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(() => read(text)).toThrow(SyntaxError);
    expect(() => parseScanned(scanChunks(text, () => 1))).toThrow(SyntaxError);
  });

  it('throws for seeded random garbage bytes', () => {
    const rand = mulberry32(7);
    for (let n = 0; n < 200; n++) {
      const garbage = randomBytes(rand, 1 + Math.floor(rand() * 60));
      const text = garbage.toString('utf8');
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      if (valid) continue;
      expect(() => parseScanned(scanChunks(garbage, () => 1 + Math.floor(rand() * 8)))).toThrow(SyntaxError);
    }
  });
});

describe('DecodedBase64', () => {
  it('keeps JSON.stringify of an answer short', () => {
    const png = fakePng(70, 300_000);
    const b64 = png.toString('base64');
    const answer = read(JSON.stringify({ created: 1, data: [{ b64_json: b64, revised_prompt: 'p' }] }));
    const shown = JSON.stringify(answer);
    expect(shown.length).toBeLessThan(200);
    expect(shown).toBe(`{"created":1,"data":[{"b64_json":"(${b64.length} characters of base64)","revised_prompt":"p"}]}`);
  });

  it('shows its text length, not its bytes', () => {
    const decoded = new DecodedBase64(Buffer.from('hello'), 8);
    expect(decoded.toJSON()).toBe('(8 characters of base64)');
    expect(JSON.stringify(decoded)).toBe('"(8 characters of base64)"');
    expect(decoded.bytes.toString()).toBe('hello');
  });
});

/*
 * Known deviations from the contract (reported, not fixed here: src/ is not this file's to change).
 * `it.failing` passes while the bug is there; once it is fixed, turn it into a plain `it`.
 */
describe('answers JSON.parse would reject inside a b64_json value, and the documented deviations', () => {
  it('throws for an invalid escape inside a b64_json value', () => {
    expect(() => read(String.raw`{"b64_json":"QU\qJD"}`)).toThrow(SyntaxError);
  });

  it('throws for an invalid \\u escape inside a b64_json value', () => {
    expect(() => read(String.raw`{"b64_json":"QU\u12G4JD"}`)).toThrow(SyntaxError);
  });

  it('throws for a raw newline (control character) inside a b64_json value', () => {
    expect(() => read('{"b64_json":"QUJD\nQUJD"}')).toThrow(SyntaxError);
  });

  it('throws for a raw control character wherever the value is cut (start, middle, the last partial group)', () => {
    for (const text of ['{"b64_json":"\u0001QUJDQUJD"}', '{"b64_json":"QUJD\tQUJD"}', '{"b64_json":"QUJDQU\u0002"}', '{"b64_json":"data:\u0003,QUJD"}']) {
      const bytes = Buffer.from(text, 'utf8');
      for (let cut = 0; cut <= bytes.length; cut++) {
        expect(() => parseScanned(scanAt(bytes, [cut]))).toThrow(/raw control character/);
        expect(() => parseScanned(scanChunks(bytes, () => 1))).toThrow(/raw control character/);
      }
    }
  });

  it('takes escaped control characters for what they are, wherever the value is cut', () => {
    for (const text of [String.raw`{"b64_json":"\tQUJD"}`, String.raw`{"b64_json":"QU\nJD\r\n"}`, String.raw`{"b64_json":"da\u0001ta:QUJD"}`]) {
      const bytes = Buffer.from(text, 'utf8');
      const expected = JSON.stringify(reference(text));
      for (let cut = 0; cut <= bytes.length; cut++) {
        expect(JSON.stringify(normalize(parseScanned(scanAt(bytes, [cut]))))).toBe(expected);
      }
      expect(JSON.stringify(normalize(parseScanned(scanChunks(bytes, () => 1))))).toBe(expected);
    }
  });

  it('leaves a b64_json key spelled with an escape as a plain string (the client decodes it the ordinary way)', () => {
    const answer = read(String.raw`{"data":[{"b64\u005fjson":"QUJD"}]}`) as { data: Array<{ b64_json: unknown }> };
    expect(answer.data[0].b64_json).toBe('QUJD');
  });

  it('a string of the answer that looks like a placeholder is never swapped for an image', () => {
    const answer = read(String.raw`{"data":[{"b64_json":"QUJD"},{"b64\u005fjson":"\u0000b64:0"}]}`) as {
      data: Array<{ b64_json: unknown }>;
    };
    expect((answer.data[0].b64_json as DecodedBase64).bytes.toString()).toBe('ABC');
    expect(answer.data[1].b64_json).toBe('\u0000b64:0');
  });

  it('skips non-ASCII characters inside a b64_json value, as invalid base64 letters', () => {
    // Buffer.from('QUJŁ', 'base64') would keep the low byte of U+0141; the scanner skips what is not base64.
    const answer = read('{"b64_json":"QUJŁ"}') as { b64_json: DecodedBase64 };
    expect(answer.b64_json.bytes.toString('hex')).toBe('4142');
  });
});
