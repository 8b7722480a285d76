import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { extensionFor, readImageInfo, sniffImage } from '../src/image-info.js';

const FIXTURES = path.resolve(import.meta.dirname, 'fixtures');

const CASES = [
  { file: 'photo.jpg', type: 'jpeg', mime: 'image/jpeg', width: 40, height: 30 },
  { file: 'photo-progressive.jpg', type: 'jpeg', mime: 'image/jpeg', width: 40, height: 30 },
  { file: 'square.png', type: 'png', mime: 'image/png', width: 64, height: 64 },
  { file: 'wide.png', type: 'png', mime: 'image/png', width: 96, height: 48 },
  { file: 'mask.png', type: 'png', mime: 'image/png', width: 64, height: 64 },
  { file: 'lossy.webp', type: 'webp', mime: 'image/webp', width: 48, height: 32 },
  { file: 'lossless.webp', type: 'webp', mime: 'image/webp', width: 33, height: 21 },
  { file: 'alpha.webp', type: 'webp', mime: 'image/webp', width: 70, height: 50 }
] as const;

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'image-info-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function write(name: string, bytes: Uint8Array): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, bytes);
  return file;
}

/** A JPEG segment: marker, big-endian length (counting itself), data. */
function segment(marker: number, data: Uint8Array): Buffer {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(data.length + 2, 2);
  return Buffer.concat([head, data]);
}

/** SOFn data: precision 8, height, width, one component. */
function frame(width: number, height: number): Buffer {
  const data = Buffer.from([8, 0, 0, 0, 0, 1, 1, 0x11, 0]);
  data.writeUInt16BE(height, 1);
  data.writeUInt16BE(width, 3);
  return data;
}

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);

describe('readImageInfo', () => {
  it.each(CASES)('reads $file as $type $width x $height', async ({ file, type, mime, width, height }) => {
    const full = path.join(FIXTURES, file);
    const info = await readImageInfo(full);
    const { size } = await fs.stat(full);
    expect(info).toEqual({ type, mime, width, height, bytes: size });
  });

  it('names the file (display name) when it is text, showing its first bytes', async () => {
    const promise = readImageInfo(path.join(FIXTURES, 'not-an-image.png'), 'art/not-an-image.png');
    await expect(promise).rejects.toThrow(/^art\/not-an-image\.png is not a PNG, JPEG or WebP image \(it starts with bytes 54 68 69 73/);
  });

  it('calls an empty file empty', async () => {
    const file = await write('empty.png', new Uint8Array(0));
    await expect(readImageInfo(file, 'empty.png')).rejects.toThrow('empty.png is not a PNG, JPEG or WebP image: the file is empty');
  });

  it('reports a missing file with its name', async () => {
    await expect(readImageInfo(path.join(dir, 'nope.png'), 'nope.png')).rejects.toThrow(/^Could not read nope\.png: ENOENT/);
  });

  it.each(['square.png', 'lossy.webp', 'lossless.webp', 'alpha.webp', 'photo.jpg', 'photo-progressive.jpg'])(
    'says %s cut before its dimensions is truncated',
    async name => {
      const bytes = await fs.readFile(path.join(FIXTURES, name));
      // PNG/WebP dimensions end by byte 30; the JPEG frame header comes after the JFIF and table segments.
      const cut = name.endsWith('.jpg') ? bytes.indexOf(Buffer.from([0xff, name.includes('progressive') ? 0xc2 : 0xc0])) + 5 : 22;
      const file = await write(`cut-${name}`, bytes.subarray(0, cut));
      await expect(readImageInfo(file, `cut-${name}`)).rejects.toThrow(`cut-${name} is truncated: it ends after ${cut} bytes`);
    }
  );

  it('says a file shorter than a signature is truncated', async () => {
    const file = await write('two.jpg', Buffer.from([0xff, 0xd8]));
    await expect(readImageInfo(file, 'two.jpg')).rejects.toThrow('two.jpg is truncated');
  });

  it('finds a JPEG frame header after a big APP1 segment, across several reads', async () => {
    const app1 = Buffer.alloc(60000, 0x45); // 'E' bytes, like a large Exif block
    const bytes = Buffer.concat([
      SOI,
      segment(0xe0, Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0', 'latin1')),
      segment(0xe1, app1),
      segment(0xe2, Buffer.alloc(5000, 1)),
      segment(0xdb, Buffer.alloc(65, 0)),
      Buffer.from([0xff, 0xff, 0xff]), // fill bytes before the next marker
      segment(0xc2, frame(1234, 567)),
      segment(0xda, Buffer.from([1, 1, 0, 0, 63, 0])),
      EOI
    ]);
    const file = await write('big-app1.jpg', bytes);
    const info = await readImageInfo(file);
    expect(info).toEqual({ type: 'jpeg', mime: 'image/jpeg', width: 1234, height: 567, bytes: bytes.length });
    // The head alone (first 4 KB) does not reach the frame header.
    expect(sniffImage(bytes.subarray(0, 4096))).toBeUndefined();
    expect(sniffImage(bytes)).toEqual({ type: 'jpeg', width: 1234, height: 567 });
  });

  it('skips DHT (C4), JPG (C8) and DAC (CC) segments, which are not frame headers', async () => {
    const bytes = Buffer.concat([
      SOI,
      segment(0xc4, Buffer.alloc(20, 0)),
      segment(0xc8, Buffer.alloc(7, 0)),
      segment(0xcc, Buffer.alloc(2, 0)),
      Buffer.from([0xff, 0xd0]), // a standalone marker (RST0) has no length
      segment(0xcf, frame(8, 9)),
      EOI
    ]);
    const file = await write('tables.jpg', bytes);
    expect(await readImageInfo(file)).toMatchObject({ type: 'jpeg', width: 8, height: 9 });
  });

  it('rejects a JPEG whose scan comes before any frame header', async () => {
    const bytes = Buffer.concat([SOI, segment(0xda, Buffer.alloc(10, 0)), EOI]);
    const file = await write('no-frame.jpg', bytes);
    await expect(readImageInfo(file, 'no-frame.jpg')).rejects.toThrow(/no-frame\.jpg is not a valid image: .*SOS/);
  });

  it('rejects a JPEG segment that claims a length below 2', async () => {
    const bytes = Buffer.concat([SOI, Buffer.from([0xff, 0xe0, 0x00, 0x01]), Buffer.alloc(20, 0)]);
    const file = await write('bad-length.jpg', bytes);
    await expect(readImageInfo(file, 'bad-length.jpg')).rejects.toThrow(/bad-length\.jpg is not a valid image: .*length 1/);
  });

  it('rejects a JPEG segment that runs past the end of the file as truncated', async () => {
    const bytes = Buffer.concat([SOI, segment(0xe1, Buffer.alloc(9000, 0)).subarray(0, 7000)]);
    const file = await write('cut-segment.jpg', bytes);
    await expect(readImageInfo(file, 'cut-segment.jpg')).rejects.toThrow('cut-segment.jpg is truncated: it ends after 7002 bytes');
  });

  it('rejects a PNG whose first chunk is not IHDR', async () => {
    const bytes = Buffer.from(await fs.readFile(path.join(FIXTURES, 'wide.png')));
    bytes.write('IDAT', 12, 'latin1');
    const file = await write('no-ihdr.png', bytes);
    await expect(readImageInfo(file, 'no-ihdr.png')).rejects.toThrow('no-ihdr.png is not a valid image: a PNG whose first chunk is not IHDR');
  });

  it('rejects a RIFF that is not VP8, VP8L or VP8X', async () => {
    const bytes = Buffer.from(await fs.readFile(path.join(FIXTURES, 'lossy.webp')));
    bytes.write('ANIM', 12, 'latin1');
    const file = await write('anim.webp', bytes);
    await expect(readImageInfo(file, 'anim.webp')).rejects.toThrow(/anim\.webp is not a valid image: .*"ANIM"/);
  });
});

describe('sniffImage', () => {
  it.each(CASES)('knows $file from its bytes (PNG and WebP: the first 64)', async ({ file, type, width, height }) => {
    const bytes = await fs.readFile(path.join(FIXTURES, file));
    const head = file.endsWith('.jpg') ? bytes : bytes.subarray(0, 64);
    expect(sniffImage(head)).toEqual({ type, width, height });
  });

  it('returns undefined for text, GIF, and too few bytes', async () => {
    expect(sniffImage(await fs.readFile(path.join(FIXTURES, 'not-an-image.png')))).toBeUndefined();
    expect(sniffImage(Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'))).toBeUndefined();
    expect(sniffImage((await fs.readFile(path.join(FIXTURES, 'square.png'))).subarray(0, 20))).toBeUndefined();
    expect(sniffImage(new Uint8Array(0))).toBeUndefined();
  });

  it('reads the 14-bit VP8 sides, ignoring the scale bits', () => {
    const bytes = Buffer.alloc(30);
    bytes.write('RIFF', 0, 'latin1');
    bytes.write('WEBPVP8 ', 8, 'latin1');
    bytes.set([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a], 20); // key frame tag, start code
    bytes.writeUInt16LE(0xc000 | 5000, 26); // scale bits set on the width
    bytes.writeUInt16LE(16383, 28);
    expect(sniffImage(bytes)).toEqual({ type: 'webp', width: 5000, height: 16383 });
  });

  it('reads the 24-bit VP8X canvas sides plus one', () => {
    const bytes = Buffer.alloc(30);
    bytes.write('RIFF', 0, 'latin1');
    bytes.write('WEBPVP8X', 8, 'latin1');
    bytes.writeUIntLE(16777215, 24, 3);
    bytes.writeUIntLE(99, 27, 3);
    expect(sniffImage(bytes)).toEqual({ type: 'webp', width: 16777216, height: 100 });
  });
});

describe('extensionFor', () => {
  it('gives png, jpeg, webp', () => {
    expect(['png', 'jpeg', 'webp'].map(t => extensionFor(t as 'png' | 'jpeg' | 'webp'))).toEqual(['png', 'jpeg', 'webp']);
  });
});
