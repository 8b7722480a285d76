import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import * as http from 'node:http';
import * as zlib from 'node:zlib';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { startStandIn, type StandIn } from '../stand-in/edit-endpoint.mjs';
import { decodePng, encodePng, readPngHeader } from '../stand-in/png.mjs';
import { parseMultipart, MultipartError } from '../stand-in/multipart.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// ---------- helpers: hand-made PNGs (independent of the codec under test) ----------

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Filters raw rows with the given filter types (cycled), the way a PNG encoder would. */
function filterRows(rows: number[][], bpp: number, filters: number[]): Buffer {
  return Buffer.concat(
    rows.map((row, y) => {
      const prev = y > 0 ? rows[y - 1] : row.map(() => 0);
      const f = filters[y % filters.length];
      const out = Buffer.alloc(row.length + 1);
      out[0] = f;
      row.forEach((v, x) => {
        const a = x >= bpp ? row[x - bpp] : 0;
        const b = prev[x];
        const c = x >= bpp ? prev[x - bpp] : 0;
        const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][f];
        out[x + 1] = (v - pred) & 0xff;
      });
      return out;
    })
  );
}

function handPng(opts: {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  rows: number[][];
  bpp: number;
  filters?: number[];
  plte?: number[];
  trns?: number[];
  interlace?: number;
}): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(opts.width, 0);
  ihdr.writeUInt32BE(opts.height, 4);
  ihdr[8] = opts.depth;
  ihdr[9] = opts.colorType;
  ihdr[12] = opts.interlace ?? 0;
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (opts.plte) parts.push(chunk('PLTE', Buffer.from(opts.plte)));
  if (opts.trns) parts.push(chunk('tRNS', Buffer.from(opts.trns)));
  const data = zlib.deflateSync(filterRows(opts.rows, opts.bpp, opts.filters ?? [0, 1, 2, 3, 4]));
  // Two IDAT chunks, as real encoders often write.
  const half = data.length >> 1;
  parts.push(chunk('IDAT', data.subarray(0, half)), chunk('IDAT', data.subarray(half)), chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

/** A deterministic byte sequence. */
function noise(length: number, seed = 1): number[] {
  let s = seed;
  return Array.from({ length }, () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s >> 16 & 0xff;
  });
}

function expectRoundTrip(decoded: { width: number; height: number; rgba: Buffer }): void {
  const again = decodePng(encodePng(decoded));
  expect(again.width).toBe(decoded.width);
  expect(again.height).toBe(decoded.height);
  expect(Buffer.compare(again.rgba, decoded.rgba)).toBe(0);
}

function pixel(image: { width: number; rgba: Buffer }, x: number, y: number): number[] {
  const i = (y * image.width + x) * 4;
  return [...image.rgba.subarray(i, i + 4)];
}

// ---------- PNG codec ----------

describe('png codec', () => {
  it('decodes colour type 0 (grey, 8-bit) with every filter type, and round-trips', () => {
    const rows = [0, 1, 2, 3, 4].map(y => noise(6, y + 10));
    const decoded = decodePng(handPng({ width: 6, height: 5, depth: 8, colorType: 0, rows, bpp: 1 }));
    expect(decoded.width).toBe(6);
    expect(decoded.height).toBe(5);
    rows.forEach((row, y) => row.forEach((v, x) => expect(pixel(decoded, x, y)).toEqual([v, v, v, 255])));
    expectRoundTrip(decoded);
  });

  it('decodes colour type 0 at 1 bit with a tRNS key', () => {
    // 10 pixels a row: 1010101010 / 1100110011 (packed, padded to 2 bytes)
    const bits = [
      [1, 0, 1, 0, 1, 0, 1, 0, 1, 0],
      [1, 1, 0, 0, 1, 1, 0, 0, 1, 1]
    ];
    const rows = bits.map(row => [0, 1].map(b => row.slice(b * 8, b * 8 + 8).reduce((acc, bit, k) => acc | (bit << (7 - k)), 0)));
    const decoded = decodePng(handPng({ width: 10, height: 2, depth: 1, colorType: 0, rows, bpp: 1, trns: [0, 0] }));
    bits.forEach((row, y) => row.forEach((bit, x) => expect(pixel(decoded, x, y)).toEqual(bit ? [255, 255, 255, 255] : [0, 0, 0, 0])));
    expectRoundTrip(decoded);
  });

  it('decodes colour type 2 (RGB, 8-bit) with every filter type and a tRNS colour key', () => {
    const rows = [0, 1, 2, 3, 4].map(y => noise(4 * 3, y + 20));
    rows[2].splice(3, 3, 10, 20, 30); // pixel (1, 2) is the key colour
    const decoded = decodePng(handPng({ width: 4, height: 5, depth: 8, colorType: 2, rows, bpp: 3, trns: [0, 10, 0, 20, 0, 30] }));
    rows.forEach((row, y) => {
      for (let x = 0; x < 4; x++) {
        const alpha = y === 2 && x === 1 ? 0 : 255;
        expect(pixel(decoded, x, y)).toEqual([row[x * 3], row[x * 3 + 1], row[x * 3 + 2], alpha]);
      }
    });
    expectRoundTrip(decoded);
  });

  it('decodes colour type 2 at 16 bits by keeping the high byte', () => {
    const rows = [[0x12, 0x34, 0xab, 0xcd, 0xff, 0x00, 0x00, 0xff, 0x80, 0x01, 0x7f, 0xfe]];
    const decoded = decodePng(handPng({ width: 2, height: 1, depth: 16, colorType: 2, rows, bpp: 6, filters: [4] }));
    expect(pixel(decoded, 0, 0)).toEqual([0x12, 0xab, 0xff, 255]);
    expect(pixel(decoded, 1, 0)).toEqual([0x00, 0x80, 0x7f, 255]);
  });

  it('decodes colour type 3 (palette, 8-bit) with tRNS alpha, and round-trips', () => {
    const plte = [255, 0, 0, 0, 255, 0, 0, 0, 255, 250, 250, 250];
    const trns = [0, 128];
    const rows = [0, 1, 2, 3, 4].map(y => [0, 1, 2, 3, (y + 1) % 4]);
    const decoded = decodePng(handPng({ width: 5, height: 5, depth: 8, colorType: 3, rows, bpp: 1, plte, trns }));
    rows.forEach((row, y) =>
      row.forEach((index, x) => expect(pixel(decoded, x, y)).toEqual([...plte.slice(index * 3, index * 3 + 3), trns[index] ?? 255]))
    );
    expectRoundTrip(decoded);
  });

  it('decodes colour type 3 at 4 bits (two pixels a byte, odd width)', () => {
    const plte = [0, 0, 0, 10, 20, 30, 40, 50, 60];
    const rows = [
      [0x01, 0x20, 0x10],
      [0x22, 0x10, 0x00]
    ];
    const decoded = decodePng(handPng({ width: 5, height: 2, depth: 4, colorType: 3, rows, bpp: 1, plte }));
    const indexes = [
      [0, 1, 2, 0, 1],
      [2, 2, 1, 0, 0]
    ];
    indexes.forEach((row, y) => row.forEach((index, x) => expect(pixel(decoded, x, y)).toEqual([...plte.slice(index * 3, index * 3 + 3), 255])));
  });

  it('decodes colour type 4 (grey + alpha, 8-bit) with every filter type, and round-trips', () => {
    const rows = [0, 1, 2, 3, 4].map(y => noise(3 * 2, y + 30));
    const decoded = decodePng(handPng({ width: 3, height: 5, depth: 8, colorType: 4, rows, bpp: 2 }));
    rows.forEach((row, y) => {
      for (let x = 0; x < 3; x++) expect(pixel(decoded, x, y)).toEqual([row[x * 2], row[x * 2], row[x * 2], row[x * 2 + 1]]);
    });
    expectRoundTrip(decoded);
  });

  it('decodes colour type 6 (RGBA, 8-bit) with every filter type, and round-trips', () => {
    const rows = [0, 1, 2, 3, 4].map(y => noise(3 * 4, y + 40));
    const decoded = decodePng(handPng({ width: 3, height: 5, depth: 8, colorType: 6, rows, bpp: 4 }));
    rows.forEach((row, y) => {
      for (let x = 0; x < 3; x++) expect(pixel(decoded, x, y)).toEqual(row.slice(x * 4, x * 4 + 4));
    });
    expectRoundTrip(decoded);
  });

  it('encodes RGBA (with alpha) and opaque RGB and decodes them back unchanged, with every filter choice', () => {
    const width = 37;
    const height = 23;
    const translucent = Buffer.from(noise(width * height * 4, 7));
    const opaque = Buffer.from(translucent);
    for (let i = 3; i < opaque.length; i += 4) opaque[i] = 255;
    for (const rgba of [translucent, opaque]) {
      for (const filter of ['adaptive', 0, 1, 2, 3, 4] as const) {
        const png = encodePng({ width, height, rgba }, { filter });
        const decoded = decodePng(png);
        expect(Buffer.compare(decoded.rgba, rgba)).toBe(0);
        expect(readPngHeader(png).colorType).toBe(rgba === opaque ? 2 : 6);
      }
    }
  });

  it('throws clear errors for what it does not support', () => {
    expect(() => decodePng(Buffer.from('GIF89a not a png'))).toThrow(/not a PNG/);
    const interlaced = handPng({ width: 1, height: 1, depth: 8, colorType: 0, rows: [[1]], bpp: 1, interlace: 1 });
    expect(() => decodePng(interlaced)).toThrow(/interlaced/);
    const damaged = Buffer.from(handPng({ width: 1, height: 1, depth: 8, colorType: 0, rows: [[1]], bpp: 1 }));
    damaged[20] ^= 0xff;
    expect(() => decodePng(damaged)).toThrow(/bad CRC/);
    const badFilter = handPng({ width: 1, height: 1, depth: 8, colorType: 0, rows: [[1]], bpp: 1, filters: [0] });
    const raw = zlib.deflateSync(Buffer.from([5, 1]));
    const withFilter5 = Buffer.concat([badFilter.subarray(0, 33), chunk('IDAT', raw), chunk('IEND', Buffer.alloc(0))]);
    expect(() => decodePng(withFilter5)).toThrow(/filter type 5/);
    expect(() => encodePng({ width: 2, height: 2, rgba: new Uint8Array(3) })).toThrow(/rgba must hold/);
  });
});

// ---------- multipart parser ----------

describe('multipart parser', () => {
  async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }

  it('parses a FormData body fed in tiny chunks, keeping only what it is asked to keep', async () => {
    const file = Buffer.from(noise(5000, 3));
    const form = new FormData();
    form.append('prompt', 'make it "warm"\r\n--not a boundary');
    form.append('image[]', new Blob([new Uint8Array(file)], { type: 'image/png' }), 'a b.png');
    form.append('image[]', new Blob([new Uint8Array(10)], { type: 'image/webp' }), 'c.webp');
    const request = new Request('http://x/', { method: 'POST', body: form });
    const body = new Uint8Array(await request.arrayBuffer());
    const boundary = /boundary=(.*)$/.exec(request.headers.get('content-type') ?? '')![1];
    const delimiter = boundary.length + 4; // CRLF--boundary
    // Sizes around the delimiter's length put delimiters across chunk edges in every way.
    for (const size of [1, 7, delimiter - 2, delimiter - 1, delimiter, delimiter + 1, delimiter + 5, 997, 65536]) {
      const parsed = await parseMultipart(pieces(body, size), request.headers.get('content-type') ?? undefined, {
        keepFile: part => (part.index === 0 ? 1 << 20 : 0)
      });
      expect(parsed.fields).toEqual([{ name: 'prompt', value: 'make it "warm"\r\n--not a boundary', truncated: false }]);
      expect(parsed.files.map(f => [f.name, f.filename, f.type, f.size])).toEqual([
        ['image[]', 'a b.png', 'image/png', 5000],
        ['image[]', 'c.webp', 'image/webp', 10]
      ]);
      expect(Buffer.compare(parsed.files[0].bytes ?? Buffer.alloc(0), file)).toBe(0);
      expect(parsed.files[1].bytes).toBeUndefined();
    }
  });

  it('rejects a body without its closing boundary', async () => {
    const body = Buffer.from('--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue');
    await expect(parseMultipart(pieces(body, 4), 'multipart/form-data; boundary=xyz')).rejects.toThrow(MultipartError);
  });
});

// ---------- the stand-in server ----------

const SEPIA_RED = [100, 89, 69, 255];
const RED = [255, 0, 0, 255];
const ORANGE = [255, 140, 0, 255];
const MAGENTA = [220, 40, 160, 255];

function solid(width: number, height: number, color: number[]): { width: number; height: number; rgba: Buffer } {
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0; i < rgba.length; i += 4) rgba.set(color, i);
  return { width, height, rgba };
}

const redPng = encodePng(solid(32, 32, RED));
/** Left half transparent (edited), right half opaque (kept). */
const maskPng = (() => {
  const mask = solid(32, 32, [0, 0, 0, 255]);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 16; x++) mask.rgba[(y * 32 + x) * 4 + 3] = 0;
  return encodePng(mask);
})();

function blob(bytes: Uint8Array, type: string): Blob {
  return new Blob([new Uint8Array(bytes)], { type });
}

function editForm(fields: Record<string, string>, image: Uint8Array = redPng, type = 'image/png'): FormData {
  const form = new FormData();
  form.append('image', blob(image, type), 'red.png');
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return form;
}

async function post(url: string, form: FormData, key?: string): Promise<Response> {
  return fetch(url, { method: 'POST', body: form, headers: key ? { authorization: `Bearer ${key}` } : {} });
}

async function retrieve(standIn: StandIn, id: string, key?: string): Promise<any> {
  const response = await fetch(standIn.tasksUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ action: 'retrieve', id })
  });
  return { status: response.status, body: await response.json() };
}

describe('stand-in endpoint', () => {
  let standIn: StandIn;
  beforeAll(async () => {
    standIn = await startStandIn();
  });
  afterAll(async () => {
    await standIn.close();
  });

  it('answers gpt-image-1 with b64_json images edited inside the mask: sepia plus a frame per variant', async () => {
    const form = editForm({ prompt: 'warm it up', model: 'gpt-image-1', n: '2' });
    form.append('mask', blob(maskPng, 'image/png'), 'red.mask.png');
    const response = await post(standIn.url, form);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    const body: any = await response.json();
    expect(typeof body.created).toBe('number');
    expect(body.data).toHaveLength(2);
    for (const item of body.data) {
      expect(item.url).toBeUndefined();
      expect(item.revised_prompt).toContain('warm it up');
    }
    const first = decodePng(Buffer.from(body.data[0].b64_json, 'base64'));
    expect([first.width, first.height]).toEqual([32, 32]);
    expect(pixel(first, 10, 16)).toEqual(SEPIA_RED); // editable, inside the frame
    expect(pixel(first, 1, 16)).toEqual(ORANGE); // editable frame, variant 0
    expect(pixel(first, 22, 16)).toEqual(RED); // masked: unchanged
    expect(pixel(first, 30, 16)).toEqual(RED); // masked: no frame either
    const second = decodePng(Buffer.from(body.data[1].b64_json, 'base64'));
    expect(pixel(second, 1, 16)).toEqual(MAGENTA); // variant 1 has its own frame colour
    expect(pixel(second, 10, 16)).toEqual(SEPIA_RED);

    const summary = standIn.requests.at(-1)!;
    expect(summary).toMatchObject({ kind: 'edit', status: 200, mode: 'sync', fields: { prompt: 'warm it up', model: 'gpt-image-1', n: '2' } });
    expect(summary.files).toEqual([
      { name: 'image', filename: 'red.png', type: 'image/png', size: redPng.length },
      { name: 'mask', filename: 'red.mask.png', type: 'image/png', size: maskPng.length }
    ]);
    expect(JSON.stringify(standIn.requests)).not.toContain(redPng.toString('base64').slice(0, 40));
  });

  it('edits the whole image when there is no mask', async () => {
    const body: any = await (await post(standIn.url, editForm({ prompt: 'p', model: 'gpt-image-1.5' }))).json();
    const image = decodePng(Buffer.from(body.data[0].b64_json, 'base64'));
    expect(pixel(image, 16, 16)).toEqual(SEPIA_RED);
    expect(pixel(image, 31, 31)).toEqual(ORANGE);
    expect(pixel(image, 27, 16)).toEqual(SEPIA_RED); // just inside the frame
    expect(pixel(image, 28, 16)).toEqual(ORANGE);
  });

  it('answers dall-e-2 with a url served by the stand-in without auth, or b64_json when asked', async () => {
    const withKey = await startStandIn({ requireKey: 'secret' });
    try {
      const response = await post(withKey.url, editForm({ prompt: 'p', model: 'dall-e-2' }), 'secret');
      expect(response.status).toBe(200);
      const body: any = await response.json();
      expect(body.data[0].b64_json).toBeUndefined();
      expect(body.data[0].url.startsWith(`${withKey.origin}/files/`)).toBe(true);
      const file = await fetch(body.data[0].url);
      expect(file.status).toBe(200);
      expect(file.headers.get('content-type')).toBe('image/png');
      const image = decodePng(Buffer.from(await file.arrayBuffer()));
      expect(pixel(image, 16, 16)).toEqual(SEPIA_RED);
      expect(withKey.requests.at(-1)).toMatchObject({ kind: 'file', hasAuthorization: false, status: 200 });

      const b64: any = await (await post(withKey.url, editForm({ prompt: 'p', model: 'dall-e-2', response_format: 'b64_json' }), 'secret')).json();
      expect(b64.data[0].url).toBeUndefined();
      expect(decodePng(Buffer.from(b64.data[0].b64_json, 'base64')).width).toBe(32);
    } finally {
      await withKey.close();
    }
  });

  it('rejects a repeated "image" part with duplicate_parameter, but takes repeated "image[]"', async () => {
    const form = editForm({ prompt: 'p', model: 'gpt-image-1' });
    form.append('image', blob(redPng, 'image/png'), 'again.png');
    const response = await post(standIn.url, form);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { message: expect.stringContaining("Duplicate parameter: 'image'"), type: 'invalid_request_error', param: 'image', code: 'duplicate_parameter' }
    });

    const list = new FormData();
    list.append('image[]', blob(redPng, 'image/png'), 'one.png');
    list.append('image[]', blob(Buffer.from([0xff, 0xd8, 0xff, 0xe0]), 'image/jpeg'), 'two.jpg');
    list.append('prompt', 'p');
    list.append('model', 'gpt-image-1');
    const ok = await post(standIn.url, list);
    expect(ok.status).toBe(200);
    const image = decodePng(Buffer.from(((await ok.json()) as any).data[0].b64_json, 'base64'));
    expect(pixel(image, 16, 16)).toEqual(SEPIA_RED); // the first image is the one edited
    expect(standIn.requests.at(-1)!.files.map(f => f.filename)).toEqual(['one.png', 'two.jpg']);
  });

  it('rejects response_format for GPT image models with unknown_parameter', async () => {
    const response = await post(standIn.url, editForm({ prompt: 'p', model: 'gpt-image-1', response_format: 'url' }));
    expect(response.status).toBe(400);
    const body: any = await response.json();
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'response_format', code: 'unknown_parameter' });
    expect(response.headers.get('x-request-id')).toBeTruthy();
  });

  it('reports missing fields and unsupported MIME types the way OpenAI does', async () => {
    const noPrompt: any = await (await post(standIn.url, editForm({ model: 'gpt-image-1' }))).json();
    expect(noPrompt.error).toMatchObject({ param: 'prompt', code: 'missing_required_parameter', type: 'invalid_request_error' });

    const noImage = new FormData();
    noImage.append('prompt', 'p');
    const missing = await post(standIn.url, noImage);
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as any).error).toMatchObject({ param: 'image', code: 'missing_required_parameter' });

    const octet: any = await (await post(standIn.url, editForm({ prompt: 'p' }, redPng, 'application/octet-stream'))).json();
    expect(octet.error).toMatchObject({ param: 'image', code: 'unsupported_file_mimetype' });

    const badN: any = await (await post(standIn.url, editForm({ prompt: 'p', model: 'gpt-image-1', n: '11' }))).json();
    expect(badN.error).toMatchObject({ param: 'n', code: 'invalid_value' });

    const json = await fetch(standIn.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(400);
  });

  it('answers 401 in the AceData shape when requireKey is set and the key is missing or wrong', async () => {
    const withKey = await startStandIn({ requireKey: 'right-key' });
    try {
      for (const key of [undefined, 'wrong-key']) {
        const response = await post(withKey.url, editForm({ prompt: 'p', model: 'gpt-image-1' }), key);
        expect(response.status).toBe(401);
        const text = await response.text();
        expect(JSON.parse(text)).toEqual({ error: { code: 'invalid_token', message: expect.any(String) }, trace_id: expect.any(String) });
        expect(text).not.toContain('right-key');
        expect(text).not.toContain('wrong-key');
      }
      expect(withKey.requests.map(r => r.authorized)).toEqual([false, false]);
      const ok = await post(withKey.url, editForm({ prompt: 'p', model: 'gpt-image-1' }), 'right-key');
      expect(ok.status).toBe(200);
      const task = await retrieve(withKey, 'nope');
      expect(task.status).toBe(401);
    } finally {
      await withKey.close();
    }
  });

  it('streams partial images, then the completed image, as server-sent events', async () => {
    const response = await post(standIn.url, editForm({ prompt: 'p', model: 'gpt-image-1', stream: 'true', partial_images: '2' }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await response.text())
      .split('\n\n')
      .filter(block => block.trim() !== '')
      .map(block => {
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null');
        return { event, data };
      });
    expect(events.map(e => e.event)).toEqual(['image_edit.partial_image', 'image_edit.partial_image', 'image_edit.completed']);
    expect(events.map(e => e.data.type)).toEqual(events.map(e => e.event));
    expect(events.slice(0, 2).map(e => e.data.partial_image_index)).toEqual([0, 1]);
    const partial = decodePng(Buffer.from(events[0].data.b64_json, 'base64'));
    expect(pixel(partial, 16, 6)).toEqual(SEPIA_RED); // top third edited
    expect(pixel(partial, 16, 25)).toEqual(RED); // the rest not yet
    const done = decodePng(Buffer.from(events[2].data.b64_json, 'base64'));
    expect(pixel(done, 16, 25)).toEqual(SEPIA_RED);
  });

  it('runs the async task flow: task id, then {id} until done, then the response', async () => {
    const slow = await startStandIn({ taskDelayMs: 3_600_000 });
    try {
      const submitted: any = await (await post(slow.url, editForm({ prompt: 'p', model: 'gpt-image-1', async: 'true' }))).json();
      expect(typeof submitted.task_id).toBe('string');
      expect(submitted.data).toBeUndefined();
      const pending = await retrieve(slow, submitted.task_id);
      expect(pending).toEqual({ status: 200, body: { id: submitted.task_id } });
      slow.finishTasks();
      const done = await retrieve(slow, submitted.task_id);
      expect(done.status).toBe(200);
      expect(done.body.id).toBe(submitted.task_id);
      expect(typeof done.body.finished_at).toBe('number');
      const image = decodePng(Buffer.from(done.body.response.data[0].b64_json, 'base64'));
      expect(pixel(image, 16, 16)).toEqual(SEPIA_RED);
      const unknown = await retrieve(slow, 'no-such-task');
      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual({ error: { code: 'not_found', message: expect.any(String) }, trace_id: expect.any(String) });
    } finally {
      await slow.close();
    }
    // With no delay, the first retrieve already has the answer.
    const submitted: any = await (await post(standIn.url, editForm({ prompt: 'p', model: 'gpt-image-1', async: 'true' }))).json();
    const done = await retrieve(standIn, submitted.task_id);
    expect(done.body.response.data).toHaveLength(1);
  });

  it('answers callback_url with a task id and POSTs the result to a loopback callback', async () => {
    let deliver: (value: { method?: string; body: any }) => void = () => undefined;
    const received = new Promise<{ method?: string; body: any }>(resolve => {
      deliver = resolve;
    });
    const hook = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', c => chunks.push(c));
      req.on('end', () => {
        res.end('ok');
        deliver({ method: req.method, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      });
    });
    hook.listen(0, '127.0.0.1');
    await once(hook, 'listening');
    const callbackUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`;
    try {
    const response = await post(standIn.url, editForm({ prompt: 'p', model: 'gpt-image-1', callback_url: callbackUrl }));
    const body: any = await response.json();
    expect(body).toEqual({ task_id: expect.any(String), trace_id: expect.any(String) });
    const callback = await received;
    expect(callback.method).toBe('POST');
    expect(callback.body).toMatchObject({ task_id: body.task_id, trace_id: body.trace_id, success: true });
    expect(callback.body.response.data[0].b64_json).toBeTruthy();

    } finally {
      hook.close();
    }

    await post(standIn.url, editForm({ prompt: 'p', model: 'gpt-image-1', callback_url: 'https://example.invalid/hook' }));
    expect(standIn.callbacks.at(-1)).toMatchObject({ url: 'https://example.invalid/hook', skipped: expect.any(String) });
  });

  it('answers a JPEG input with the generated 256x256 pattern', async () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0]);
    const body: any = await (await post(standIn.url, editForm({ prompt: 'p', model: 'gpt-image-1' }, jpeg, 'image/jpeg'))).json();
    const image = decodePng(Buffer.from(body.data[0].b64_json, 'base64'));
    expect([image.width, image.height]).toEqual([256, 256]);
    expect(pixel(image, 0, 0)).toEqual(ORANGE);
    expect(pixel(image, 128, 128)).toEqual([250, 250, 245, 255]);
  });

  it('answers with one cached PNG of about answerBytes, and takes large uploads', async () => {
    const big = await startStandIn({ answerBytes: 300_000 });
    try {
      const upload = Buffer.from(noise(3_000_000, 9));
      const form = new FormData();
      form.append('image[]', blob(upload, 'image/png'), 'big.png');
      form.append('image[]', blob(redPng, 'image/png'), 'small.png');
      form.append('prompt', 'p');
      form.append('model', 'gpt-image-1');
      const first: any = await (await post(big.url, form)).json();
      const second: any = await (await post(big.url, editForm({ prompt: 'p', model: 'gpt-image-1' }))).json();
      const png = Buffer.from(first.data[0].b64_json, 'base64');
      expect(png.length).toBeGreaterThanOrEqual(300_000);
      expect(png.length).toBeLessThan(301_000);
      expect(second.data[0].b64_json).toBe(first.data[0].b64_json);
      expect(decodePng(png).width).toBe(256);
      expect(big.requests[0].files.map(f => f.size)).toEqual([3_000_000, redPng.length]);
    } finally {
      await big.close();
    }
  });

  it('lets a test replace an answer through intercept', async () => {
    let calls = 0;
    const flaky = await startStandIn({
      intercept: () => (++calls === 1 ? { status: 429, headers: { 'retry-after': '1' }, body: { error: { message: 'slow down', type: 'rate_limit' } } } : undefined)
    });
    try {
      const limited = await post(flaky.url, editForm({ prompt: 'p', model: 'gpt-image-1' }));
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(((await limited.json()) as any).error.message).toBe('slow down');
      expect((await post(flaky.url, editForm({ prompt: 'p', model: 'gpt-image-1' }))).status).toBe(200);
    } finally {
      await flaky.close();
    }
  });

  it('runs from the command line, prints its URL, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [path.join(root, 'stand-in/edit-endpoint.mjs'), '--port', '0', '--require-key', 'cli-key'], {
      stdio: ['ignore', 'pipe', 'inherit']
    });
    try {
      const line: string = await new Promise((resolve, reject) => {
        let text = '';
        child.stdout.on('data', data => {
          text += data;
          if (text.includes('\n')) resolve(text.split('\n')[0]);
        });
        child.once('exit', code => reject(new Error(`stand-in exited early with ${code}`)));
      });
      const match = /^listening on (http:\/\/127\.0\.0\.1:\d+\/openai\/images\/edits)$/.exec(line);
      expect(match).not.toBeNull();
      const response = await post(match![1], editForm({ prompt: 'p', model: 'gpt-image-1' }), 'cli-key');
      expect(response.status).toBe(200);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
