import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { escapeQuoted, multipartBody } from '../src/multipart.js';
import { tinyPng } from './helpers/edit-server.js';

let dir: string;
let png: Buffer;
let big: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'multipart-test-'));
  png = tinyPng(3, 2, 1);
  big = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  await writeFile(path.join(dir, 'a.png'), png);
  await writeFile(path.join(dir, 'big.webp'), big);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Parses a body the way a server would. */
async function parse(contentType: string, body: Buffer): Promise<FormData> {
  return new Request('http://127.0.0.1/', { method: 'POST', headers: { 'content-type': contentType }, body }).formData();
}

describe('multipartBody', () => {
  it('streams text fields and files that a standard parser reads back exactly', async () => {
    const body = await multipartBody([
      { name: 'prompt', value: 'Make it blue — ünïcödé\r\nline two' },
      { name: 'n', value: '2' },
      { name: 'image[]', file: path.join(dir, 'a.png'), filename: 'a.png', contentType: 'image/png' },
      { name: 'image[]', file: path.join(dir, 'big.webp'), filename: 'big.webp', contentType: 'image/webp' }
    ]);
    expect(body.contentType).toMatch(/^multipart\/form-data; boundary=----image-edit-[0-9a-f]{32}$/);
    const bytes = await buffer(body.stream());
    expect(bytes.length).toBe(body.contentLength);
    const form = await parse(body.contentType, bytes);
    expect(form.get('prompt')).toBe('Make it blue — ünïcödé\r\nline two');
    expect(form.get('n')).toBe('2');
    const files = form.getAll('image[]') as File[];
    expect(files.map(f => [f.name, f.type])).toEqual([
      ['a.png', 'image/png'],
      ['big.webp', 'image/webp']
    ]);
    expect(Buffer.from(await files[0].arrayBuffer()).equals(png)).toBe(true);
    expect(Buffer.from(await files[1].arrayBuffer()).equals(big)).toBe(true);
  });

  it('sends bytes read ahead as they are, without reading the file again', async () => {
    const missing = path.join(dir, 'not-there.png');
    const body = await multipartBody([
      { name: 'prompt', value: 'p' },
      { name: 'image', file: missing, filename: 'read-ahead.png', contentType: 'image/png', bytes: big },
      { name: 'mask', file: missing, filename: 'mask.png', contentType: 'image/png', bytes: png }
    ]);
    const bytes = await buffer(body.stream());
    expect(bytes.length).toBe(body.contentLength);
    const form = await parse(body.contentType, bytes);
    expect(Buffer.from(await (form.get('image') as File).arrayBuffer()).equals(big)).toBe(true);
    expect(Buffer.from(await (form.get('mask') as File).arrayBuffer()).equals(png)).toBe(true);
    expect((form.get('image') as File).name).toBe('read-ahead.png');
  });

  it('gives a fresh, identical stream at each call', async () => {
    const body = await multipartBody([{ name: 'image', file: path.join(dir, 'a.png'), filename: 'a.png', contentType: 'image/png' }]);
    const first = await buffer(body.stream());
    const second = await buffer(body.stream());
    expect(second.equals(first)).toBe(true);
    expect(first.length).toBe(body.contentLength);
  });

  it('uses a different boundary for each body', async () => {
    const one = await multipartBody([{ name: 'a', value: '1' }]);
    const two = await multipartBody([{ name: 'a', value: '1' }]);
    expect(one.contentType).not.toBe(two.contentType);
  });

  it('reads files in chunks rather than whole', async () => {
    const body = await multipartBody([{ name: 'image', file: path.join(dir, 'big.webp'), filename: 'big.webp', contentType: 'image/webp' }]);
    let largest = 0;
    let count = 0;
    for await (const chunk of body.stream()) {
      largest = Math.max(largest, (chunk as Buffer).length);
      count++;
    }
    // 3 MB in pieces of at most 512 KiB (plus the part's small header joined to the first piece).
    expect(count).toBeGreaterThanOrEqual(Math.ceil(big.length / (512 * 1024)));
    expect(largest).toBeLessThanOrEqual(512 * 1024 + 1024);
  });

  it('escapes quotes, line breaks and backslashes in names and filenames', async () => {
    expect(escapeQuoted('a"b\r\nc\\d.png')).toBe('a%22b%0D%0Ac%5Cd.png');
    const body = await multipartBody([
      { name: 'image', file: path.join(dir, 'a.png'), filename: 'evil".png\r\nX-Injected: 1', contentType: 'image/png' }
    ]);
    const bytes = await buffer(body.stream());
    const text = bytes.toString('latin1');
    expect(text).toContain('filename="evil%22.png%0D%0AX-Injected: 1"');
    expect(text).not.toContain('\r\nX-Injected');
    // A standard (WHATWG) parser turns %22, %0D and %0A back into the original characters.
    const form = await parse(body.contentType, bytes);
    expect([...form.keys()]).toEqual(['image']);
    const file = form.get('image') as File;
    expect(file.name).toBe('evil".png\r\nX-Injected: 1');
    expect(file.type).toBe('image/png');
    expect(Buffer.from(await file.arrayBuffer()).equals(png)).toBe(true);
  });

  it('never ends a quoted filename with a bare backslash', async () => {
    const body = await multipartBody([{ name: 'image', file: path.join(dir, 'a.png'), filename: 'dir\\', contentType: 'image/png' }]);
    const bytes = await buffer(body.stream());
    expect(bytes.toString('latin1')).toContain('filename="dir%5C"');
    expect(((await parse(body.contentType, bytes)).get('image') as File).name).toBe('dir%5C');
  });

  it('names a missing file', async () => {
    const missing = path.join(dir, 'missing.png');
    await expect(multipartBody([{ name: 'image', file: missing, filename: 'missing.png', contentType: 'image/png' }])).rejects.toThrow(
      `cannot read the file ${missing} (ENOENT)`
    );
  });

  it('refuses a directory and a bad content type', async () => {
    await expect(multipartBody([{ name: 'image', file: dir, filename: 'x.png', contentType: 'image/png' }])).rejects.toThrow('is not a regular file');
    await expect(
      multipartBody([{ name: 'image', file: path.join(dir, 'a.png'), filename: 'a.png', contentType: 'image/png\r\nX: y' }])
    ).rejects.toThrow('invalid content type');
  });

  it('fails the stream when a file changed size after the body was built', async () => {
    const file = path.join(dir, 'shrinks.png');
    await writeFile(file, png);
    const body = await multipartBody([{ name: 'image', file, filename: 'shrinks.png', contentType: 'image/png' }]);
    await truncate(file, 5);
    await expect(buffer(body.stream())).rejects.toThrow(`the file ${file} changed while it was being sent (${png.length} bytes expected, 5 found)`);
  });
});
