/**
 * A tiny PNG codec on node:zlib alone, for the stand-in endpoint and the
 * example images. Decodes non-interlaced PNG of every colour type (0 grey,
 * 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA) and bit depth (1, 2, 4, 8, 16; 16-bit
 * samples keep their high byte), with all five filter types and `tRNS`
 * transparency, into 8-bit RGBA. Encodes 8-bit RGBA to PNG (RGB when every pixel
 * is opaque) with a per-row filter choice. Anything else throws a clear Error.
 */
import * as zlib from 'node:zlib';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Pixels above this are refused by `decodePng` unless `maxPixels` says otherwise (100 M pixels = 400 MB of RGBA). */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** Channels per pixel of each colour type. @type {Record<number, number>} */
const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Bit depths each colour type allows (PNG spec, table 11.1). @type {Record<number, number[]>} */
const DEPTHS = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 (the one PNG chunks use) of `bytes`, continuing from `previous`.
 * @param {Uint8Array} bytes
 * @param {number} [previous]
 * @returns {number}
 */
export function crc32(bytes, previous = 0) {
  if (typeof zlib.crc32 === 'function') return zlib.crc32(bytes, previous);
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * One PNG chunk: length, type, data, CRC.
 * @param {string} type four ASCII letters, e.g. `IDAT`
 * @param {Uint8Array} data
 * @returns {Buffer}
 */
export function encodeChunk(type, data) {
  if (!/^[A-Za-z]{4}$/.test(type)) throw new Error(`PNG chunk type must be four ASCII letters, got "${type}"`);
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  chunk.set(data, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

/**
 * Reads width, height, bit depth, colour type and interlace method from a PNG's
 * IHDR without decoding the pixels.
 * @param {Uint8Array} bytes
 * @returns {{width: number, height: number, bitDepth: number, colorType: number, interlace: number}}
 */
export function readPngHeader(bytes) {
  const buf = asBuffer(bytes);
  if (!isPng(buf)) throw new Error('not a PNG file: the first 8 bytes are not the PNG signature');
  if (buf.length < 33 || buf.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error('PNG has no IHDR chunk right after the signature');
  }
  return parseHeader(buf.subarray(16, 16 + buf.readUInt32BE(8)));
}

/**
 * True when `bytes` start with the PNG signature.
 * @param {Uint8Array} bytes
 * @returns {boolean}
 */
export function isPng(bytes) {
  return bytes.length >= 8 && PNG_SIGNATURE.equals(asBuffer(bytes).subarray(0, 8));
}

/**
 * Decodes a PNG into 8-bit RGBA, row after row, 4 bytes a pixel.
 * @param {Uint8Array} bytes the whole PNG file
 * @param {{maxPixels?: number}} [options] refuse images with more pixels than this
 * @returns {{width: number, height: number, rgba: Buffer}}
 */
export function decodePng(bytes, options = {}) {
  const buf = asBuffer(bytes);
  if (!isPng(buf)) throw new Error('not a PNG file: the first 8 bytes are not the PNG signature');
  /** @type {ReturnType<typeof parseHeader> | undefined} */
  let header;
  /** @type {Buffer | undefined} */
  let palette;
  /** @type {Buffer | undefined} */
  let transparency;
  /** @type {Buffer[]} */
  const idat = [];
  let pos = 8;
  let ended = false;
  while (pos < buf.length && !ended) {
    if (pos + 12 > buf.length) throw new Error(`PNG is truncated: the chunk at byte ${pos} runs past the end of the file`);
    const length = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    if (pos + 12 + length > buf.length) throw new Error(`PNG is truncated: chunk ${type} at byte ${pos} runs past the end of the file`);
    const data = buf.subarray(pos + 8, pos + 8 + length);
    if (crc32(buf.subarray(pos + 4, pos + 8 + length)) !== buf.readUInt32BE(pos + 8 + length)) {
      throw new Error(`PNG chunk ${type} at byte ${pos} has a bad CRC (the file is damaged)`);
    }
    if (pos === 8 && type !== 'IHDR') throw new Error(`PNG must start with an IHDR chunk, found ${type}`);
    if (type === 'IHDR') header = parseHeader(data);
    else if (type === 'PLTE') palette = data;
    else if (type === 'tRNS') transparency = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') ended = true;
    pos += 12 + length;
  }
  if (!header) throw new Error('PNG has no IHDR chunk');
  if (idat.length === 0) throw new Error('PNG has no IDAT chunk (no pixel data)');
  const { width, height, bitDepth, colorType, interlace } = header;
  if (interlace !== 0) throw new Error('interlaced (Adam7) PNG is not supported by this codec');
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (width * height > maxPixels) {
    throw new Error(`PNG is ${width}x${height}, more than the ${maxPixels} pixels this decoder accepts`);
  }
  if (colorType === 3 && !palette) throw new Error('palette PNG (colour type 3) has no PLTE chunk');

  const bitsPerPixel = CHANNELS[colorType] * bitDepth;
  const rowBytes = Math.ceil((width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const expected = height * (rowBytes + 1);
  /** @type {Buffer} */
  let raw;
  try {
    raw = zlib.inflateSync(Buffer.concat(idat), { maxOutputLength: Math.max(expected, 1) });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`PNG pixel data does not inflate (${reason}); expected ${expected} bytes for ${width}x${height}`);
  }
  if (raw.length < expected) {
    throw new Error(`PNG pixel data is short: ${raw.length} bytes where ${width}x${height} needs ${expected}`);
  }
  const pixels = unfilter(raw, height, rowBytes, bpp);
  const rgba = toRgba(pixels, { width, height, bitDepth, colorType, rowBytes, palette, transparency });
  return { width, height, rgba };
}

/**
 * Encodes 8-bit RGBA (4 bytes a pixel, row after row) as a PNG: colour type 6,
 * or 2 when every pixel is opaque.
 * @param {{width: number, height: number, rgba: Uint8Array}} image
 * @param {{level?: number, filter?: 'adaptive' | 0 | 1 | 2 | 3 | 4}} [options]
 *   zlib level (default 6); row filter (default: per row, the one with the smallest sum of absolute values)
 * @returns {Buffer}
 */
export function encodePng(image, options = {}) {
  const { width, height, rgba } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new Error(`encodePng: width and height must be positive integers, got ${width}x${height}`);
  }
  if (!rgba || rgba.length !== width * height * 4) {
    throw new Error(`encodePng: rgba must hold width*height*4 = ${width * height * 4} bytes, got ${rgba ? rgba.length : 'none'}`);
  }
  const filterChoice = options.filter ?? 'adaptive';
  if (filterChoice !== 'adaptive' && ![0, 1, 2, 3, 4].includes(filterChoice)) {
    throw new Error(`encodePng: filter must be 'adaptive' or 0-4, got ${filterChoice}`);
  }
  let opaque = true;
  for (let i = 3; i < rgba.length; i += 4) {
    if (rgba[i] !== 255) {
      opaque = false;
      break;
    }
  }
  const channels = opaque ? 3 : 4;
  const rowBytes = width * channels;
  const raw = Buffer.alloc(height * (rowBytes + 1));
  let line = new Uint8Array(rowBytes);
  let previous = new Uint8Array(rowBytes);
  /** @type {Uint8Array[]} */
  const candidates = [0, 1, 2, 3, 4].map(() => new Uint8Array(rowBytes));
  for (let y = 0; y < height; y++) {
    const rowStart = y * width * 4;
    if (opaque) {
      for (let x = 0, o = 0, i = rowStart; x < width; x++, i += 4) {
        line[o++] = rgba[i];
        line[o++] = rgba[i + 1];
        line[o++] = rgba[i + 2];
      }
    } else {
      line.set(rgba.subarray(rowStart, rowStart + rowBytes));
    }
    let best = 0;
    if (filterChoice === 'adaptive') {
      let bestScore = Infinity;
      for (let f = 0; f < 5; f++) {
        const score = filterRow(f, line, previous, channels, candidates[f]);
        if (score < bestScore) {
          bestScore = score;
          best = f;
        }
      }
    } else {
      best = filterChoice;
      filterRow(best, line, previous, channels, candidates[best]);
    }
    const out = y * (rowBytes + 1);
    raw[out] = best;
    raw.set(candidates[best], out + 1);
    [line, previous] = [previous, line];
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = opaque ? 2 : 6;
  const idat = zlib.deflateSync(raw, { level: options.level ?? 6 });
  return Buffer.concat([PNG_SIGNATURE, encodeChunk('IHDR', ihdr), encodeChunk('IDAT', idat), encodeChunk('IEND', Buffer.alloc(0))]);
}

/**
 * Grows a PNG to at least `totalBytes` by inserting a private ancillary chunk
 * (`paDd`, ignored by every decoder) of pseudo-random bytes before IEND. The
 * bytes are random so that zip/gzip on the way (artifacts) cannot shrink them.
 * @param {Buffer} png a PNG ending with its IEND chunk
 * @param {number} totalBytes
 * @returns {Buffer}
 */
export function padPng(png, totalBytes) {
  const iendAt = png.length - 12;
  if (!isPng(png) || png.toString('latin1', iendAt + 4, iendAt + 8) !== 'IEND') {
    throw new Error('padPng: the input is not a PNG that ends with IEND');
  }
  const missing = totalBytes - png.length - 12;
  if (missing <= 0) return png;
  const filler = Buffer.alloc(missing);
  let state = 0x9e3779b9;
  for (let i = 0; i + 4 <= missing; i += 4) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    filler.writeUInt32LE(state >>> 0, i);
  }
  return Buffer.concat([png.subarray(0, iendAt), encodeChunk('paDd', filler), png.subarray(iendAt)]);
}

/**
 * @param {Uint8Array} bytes
 * @returns {Buffer}
 */
function asBuffer(bytes) {
  if (Buffer.isBuffer(bytes)) return bytes;
  if (bytes instanceof Uint8Array) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new Error('PNG bytes must be a Buffer or Uint8Array');
}

/**
 * @param {Buffer} data the IHDR chunk's data
 */
function parseHeader(data) {
  if (data.length !== 13) throw new Error(`PNG IHDR chunk must be 13 bytes, got ${data.length}`);
  const width = data.readUInt32BE(0);
  const height = data.readUInt32BE(4);
  const bitDepth = data[8];
  const colorType = data[9];
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new Error(`PNG has invalid dimensions ${width}x${height}`);
  }
  if (!(colorType in DEPTHS)) throw new Error(`PNG colour type ${colorType} is not one of 0, 2, 3, 4, 6`);
  if (!DEPTHS[colorType].includes(bitDepth)) {
    throw new Error(`PNG bit depth ${bitDepth} is not valid for colour type ${colorType}`);
  }
  if (data[10] !== 0) throw new Error(`PNG compression method ${data[10]} is not supported (only 0, deflate)`);
  if (data[11] !== 0) throw new Error(`PNG filter method ${data[11]} is not supported (only 0)`);
  if (data[12] > 1) throw new Error(`PNG interlace method ${data[12]} is not valid`);
  return { width, height, bitDepth, colorType, interlace: data[12] };
}

/**
 * Undoes the per-row filters. Returns `height * rowBytes` bytes without filter bytes.
 * @param {Buffer} raw
 * @param {number} height
 * @param {number} rowBytes
 * @param {number} bpp bytes per complete pixel (at least 1)
 */
function unfilter(raw, height, rowBytes, bpp) {
  const out = Buffer.alloc(height * rowBytes);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (rowBytes + 1)];
    const src = y * (rowBytes + 1) + 1;
    const row = y * rowBytes;
    const up = row - rowBytes;
    switch (filter) {
      case 0:
        raw.copy(out, row, src, src + rowBytes);
        break;
      case 1:
        for (let x = 0; x < rowBytes; x++) out[row + x] = (raw[src + x] + (x >= bpp ? out[row + x - bpp] : 0)) & 0xff;
        break;
      case 2:
        for (let x = 0; x < rowBytes; x++) out[row + x] = (raw[src + x] + (y > 0 ? out[up + x] : 0)) & 0xff;
        break;
      case 3:
        for (let x = 0; x < rowBytes; x++) {
          const left = x >= bpp ? out[row + x - bpp] : 0;
          const above = y > 0 ? out[up + x] : 0;
          out[row + x] = (raw[src + x] + ((left + above) >> 1)) & 0xff;
        }
        break;
      case 4:
        for (let x = 0; x < rowBytes; x++) {
          const left = x >= bpp ? out[row + x - bpp] : 0;
          const above = y > 0 ? out[up + x] : 0;
          const upperLeft = x >= bpp && y > 0 ? out[up + x - bpp] : 0;
          out[row + x] = (raw[src + x] + paeth(left, above, upperLeft)) & 0xff;
        }
        break;
      default:
        throw new Error(`PNG row ${y} has unknown filter type ${filter} (valid: 0-4)`);
    }
  }
  return out;
}

/**
 * @param {number} a left
 * @param {number} b above
 * @param {number} c upper left
 */
function paeth(a, b, c) {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  if (pb <= pc) return b;
  return c;
}

/**
 * Filters one row with filter `f` into `out`; returns the sum of absolute
 * values (bytes read as signed) used to pick a filter.
 * @param {number} f
 * @param {Uint8Array} line
 * @param {Uint8Array} previous the previous row, unfiltered (zeros for the first)
 * @param {number} bpp
 * @param {Uint8Array} out
 */
function filterRow(f, line, previous, bpp, out) {
  let score = 0;
  for (let x = 0; x < line.length; x++) {
    const left = x >= bpp ? line[x - bpp] : 0;
    const above = previous[x];
    const upperLeft = x >= bpp ? previous[x - bpp] : 0;
    let value;
    if (f === 0) value = line[x];
    else if (f === 1) value = line[x] - left;
    else if (f === 2) value = line[x] - above;
    else if (f === 3) value = line[x] - ((left + above) >> 1);
    else value = line[x] - paeth(left, above, upperLeft);
    value &= 0xff;
    out[x] = value;
    score += value < 128 ? value : 256 - value;
  }
  return score;
}

/**
 * Converts unfiltered samples to 8-bit RGBA.
 * @param {Buffer} pixels
 * @param {{width: number, height: number, bitDepth: number, colorType: number, rowBytes: number,
 *   palette?: Buffer, transparency?: Buffer}} info
 */
function toRgba(pixels, info) {
  const { width, height, bitDepth, colorType, rowBytes, palette, transparency } = info;
  const channels = CHANNELS[colorType];
  const rgba = Buffer.alloc(width * height * 4);
  const maxSample = (1 << bitDepth) - 1;
  /** Reads sample `index` (counted in samples from the row start) at full depth. */
  const sample =
    bitDepth === 8
      ? (/** @type {number} */ row, /** @type {number} */ index) => pixels[row + index]
      : bitDepth === 16
        ? (/** @type {number} */ row, /** @type {number} */ index) => pixels.readUInt16BE(row + index * 2)
        : (/** @type {number} */ row, /** @type {number} */ index) => {
            const bit = index * bitDepth;
            return (pixels[row + (bit >> 3)] >> (8 - bitDepth - (bit & 7))) & maxSample;
          };
  /** Scales a full-depth sample to 8 bits. */
  const scale = (/** @type {number} */ v) => (bitDepth === 8 ? v : bitDepth === 16 ? v >> 8 : Math.round((v * 255) / maxSample));

  /** @type {number[] | undefined} colour key of tRNS for types 0 and 2, at full depth */
  let key;
  if (transparency && colorType === 0 && transparency.length >= 2) key = [transparency.readUInt16BE(0)];
  if (transparency && colorType === 2 && transparency.length >= 6) {
    key = [transparency.readUInt16BE(0), transparency.readUInt16BE(2), transparency.readUInt16BE(4)];
  }
  const paletteSize = palette ? Math.floor(palette.length / 3) : 0;

  for (let y = 0; y < height; y++) {
    const row = y * rowBytes;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const s = x * channels;
      switch (colorType) {
        case 0: {
          const v = sample(row, s);
          rgba[o] = rgba[o + 1] = rgba[o + 2] = scale(v);
          rgba[o + 3] = key && v === key[0] ? 0 : 255;
          break;
        }
        case 2: {
          const r = sample(row, s);
          const g = sample(row, s + 1);
          const b = sample(row, s + 2);
          rgba[o] = scale(r);
          rgba[o + 1] = scale(g);
          rgba[o + 2] = scale(b);
          rgba[o + 3] = key && r === key[0] && g === key[1] && b === key[2] ? 0 : 255;
          break;
        }
        case 3: {
          const index = sample(row, s);
          if (index >= paletteSize) {
            throw new Error(`PNG pixel (${x}, ${y}) uses palette index ${index}, but the palette has ${paletteSize} entries`);
          }
          const p = /** @type {Buffer} */ (palette);
          rgba[o] = p[index * 3];
          rgba[o + 1] = p[index * 3 + 1];
          rgba[o + 2] = p[index * 3 + 2];
          rgba[o + 3] = transparency && index < transparency.length ? transparency[index] : 255;
          break;
        }
        case 4: {
          rgba[o] = rgba[o + 1] = rgba[o + 2] = scale(sample(row, s));
          rgba[o + 3] = scale(sample(row, s + 1));
          break;
        }
        default: {
          rgba[o] = scale(sample(row, s));
          rgba[o + 1] = scale(sample(row, s + 1));
          rgba[o + 2] = scale(sample(row, s + 2));
          rgba[o + 3] = scale(sample(row, s + 3));
        }
      }
    }
  }
  return rgba;
}
