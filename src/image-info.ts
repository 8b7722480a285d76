/**
 * Image type by magic bytes, with dimensions: PNG (IHDR), JPEG (the SOFn frame
 * header, found by skipping segments) and WebP (VP8, VP8L, VP8X). Never decodes
 * pixels and never reads a whole file: PNG and WebP need their first 30 bytes,
 * JPEG is read segment by segment until its frame header.
 */
import * as fs from 'node:fs/promises';
import { MIME_TYPES, type ImageType } from './settings.js';

export interface ImageInfo {
  type: ImageType;
  mime: string;
  width: number;
  height: number;
  /** File size in bytes. */
  bytes: number;
}

/** What a parser found in the bytes it was given. */
type Parsed =
  | { kind: 'image'; type: ImageType; width: number; height: number }
  /** More bytes are needed, starting at this file offset. */
  | { kind: 'need'; offset: number }
  /** The bytes are not a valid image of the type the signature promised. */
  | { kind: 'bad'; reason: string }
  /** No known signature. */
  | { kind: 'unknown' };

/** Bytes read per step: enough for PNG/WebP headers and many small JPEG segments. */
const READ_SIZE = 4096;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];
const RIFF = [0x52, 0x49, 0x46, 0x46];
const WEBP = [0x57, 0x45, 0x42, 0x50];

/** The file extension of an image type (`png`, `jpeg`, `webp`). */
export function extensionFor(type: ImageType): string {
  return type;
}

/**
 * Type and size from the first bytes of a file (or a whole image in memory);
 * undefined when the bytes are not PNG/JPEG/WebP, are corrupt, or end before
 * the dimensions (a JPEG whose frame header lies beyond `head`).
 */
export function sniffImage(head: Uint8Array): { type: ImageType; width: number; height: number } | undefined {
  const parsed = parseHead(head);
  return parsed.kind === 'image' ? { type: parsed.type, width: parsed.width, height: parsed.height } : undefined;
}

/**
 * Reads just enough of `file` to know its type and dimensions (a JPEG is read
 * segment by segment through a file handle). Throws an Error naming the file
 * (as `displayName` when given) when it cannot be read, is not PNG/JPEG/WebP,
 * is corrupt, or is truncated.
 */
export async function readImageInfo(file: string, displayName: string = file): Promise<ImageInfo> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (error) {
    throw new Error(`Could not read ${displayName}: ${(error as Error).message}`, { cause: error });
  }
  try {
    let size: number;
    let head: Uint8Array;
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new Error('not a regular file');
      size = stat.size;
      head = await readAt(handle, 0, READ_SIZE);
    } catch (error) {
      throw new Error(`Could not read ${displayName}: ${(error as Error).message}`, { cause: error });
    }
    let parsed = parseHead(head);
    if (parsed.kind === 'need' && startsWith(head, JPEG_SIGNATURE)) {
      parsed = await scanJpegFile(handle, head, displayName);
    }
    switch (parsed.kind) {
      case 'image':
        return { type: parsed.type, mime: MIME_TYPES[parsed.type], width: parsed.width, height: parsed.height, bytes: size };
      case 'need':
        throw new Error(`${displayName} is truncated: it ends after ${size} bytes, before the image dimensions`);
      case 'bad':
        throw new Error(`${displayName} is not a valid image: ${parsed.reason}`);
      case 'unknown':
        throw new Error(
          size === 0
            ? `${displayName} is not a PNG, JPEG or WebP image: the file is empty`
            : `${displayName} is not a PNG, JPEG or WebP image (it starts with bytes ${hex(head.subarray(0, 8))})`
        );
    }
  } finally {
    await handle.close();
  }
}

/**
 * Follows a JPEG's segments through the file until the frame header, reading a
 * window of READ_SIZE bytes at the offset the scan needs next. A short read
 * means the window reaches the end of the file, so a further need is truncation.
 */
async function scanJpegFile(handle: fs.FileHandle, head: Uint8Array, name: string): Promise<Parsed> {
  let window = head;
  let windowStart = 0;
  let position = 2;
  for (;;) {
    const result = scanJpeg(window, windowStart, position);
    if (result.kind !== 'need' || window.length < READ_SIZE) return result;
    try {
      window = await readAt(handle, result.offset, READ_SIZE);
    } catch (error) {
      throw new Error(`Could not read ${name}: ${(error as Error).message}`, { cause: error });
    }
    windowStart = result.offset;
    position = result.offset;
  }
}

/** Reads up to `length` bytes at `position`; fewer at the end of the file. */
async function readAt(handle: fs.FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/** Identifies the type by its signature and parses the header. */
function parseHead(head: Uint8Array): Parsed {
  if (startsWith(head, PNG_SIGNATURE)) return parsePng(head);
  if (startsWith(head, JPEG_SIGNATURE)) return scanJpeg(head, 0, 2);
  if (startsWith(head, RIFF) && head.length >= 12 && startsWith(head.subarray(8), WEBP)) return parseWebp(head);
  // A file shorter than a signature it begins with is a truncated image, not a stranger.
  if (head.length > 0 && [PNG_SIGNATURE, JPEG_SIGNATURE].some(sig => isPrefixOf(head, sig))) {
    return { kind: 'need', offset: head.length };
  }
  if (head.length > 0 && head.length < 12 && isPrefixOf(head.subarray(0, 4), RIFF)) {
    const tail = head.subarray(8);
    if (tail.length === 0 || isPrefixOf(tail, WEBP)) return { kind: 'need', offset: head.length };
  }
  return { kind: 'unknown' };
}

/** PNG: the signature, then the IHDR chunk with width and height (big-endian). */
function parsePng(head: Uint8Array): Parsed {
  if (head.length < 24) return { kind: 'need', offset: head.length };
  if (ascii(head, 12, 4) !== 'IHDR') return { kind: 'bad', reason: 'a PNG whose first chunk is not IHDR' };
  const width = u32be(head, 16);
  const height = u32be(head, 20);
  return sized('png', width, height, 'PNG');
}

/**
 * WebP: `RIFF` size `WEBP`, then the first chunk: `VP8 ` (lossy: 14-bit sides
 * after the key frame start code), `VP8L` (lossless: 14-bit sides minus one
 * after the 0x2F signature) or `VP8X` (extended: 24-bit canvas sides minus one).
 */
function parseWebp(head: Uint8Array): Parsed {
  if (head.length < 16) return { kind: 'need', offset: head.length };
  const chunk = ascii(head, 12, 4);
  if (chunk === 'VP8 ') {
    if (head.length < 30) return { kind: 'need', offset: head.length };
    if ((head[20] & 1) !== 0) return { kind: 'bad', reason: 'a lossy WebP whose first frame is not a key frame' };
    if (head[23] !== 0x9d || head[24] !== 0x01 || head[25] !== 0x2a) {
      return { kind: 'bad', reason: 'a lossy WebP without the VP8 start code' };
    }
    return sized('webp', u16le(head, 26) & 0x3fff, u16le(head, 28) & 0x3fff, 'WebP');
  }
  if (chunk === 'VP8L') {
    if (head.length < 25) return { kind: 'need', offset: head.length };
    if (head[20] !== 0x2f) return { kind: 'bad', reason: 'a lossless WebP without the VP8L signature byte' };
    const bits = u32le(head, 21);
    return sized('webp', (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1, 'WebP');
  }
  if (chunk === 'VP8X') {
    if (head.length < 30) return { kind: 'need', offset: head.length };
    return sized('webp', u24le(head, 24) + 1, u24le(head, 27) + 1, 'WebP');
  }
  return { kind: 'bad', reason: `a WebP whose first chunk is ${JSON.stringify(chunk)}, not VP8, VP8L or VP8X` };
}

/**
 * JPEG: from `position` (a file offset inside or just after `window`, which
 * starts at file offset `windowStart`), follows markers until a frame header
 * SOF0..SOF15 (except DHT C4, JPG C8, DAC CC). Fill bytes (0xFF) before a
 * marker are skipped; segments are skipped by their length; standalone markers
 * (TEM, RST0..7) have no length.
 */
function scanJpeg(window: Uint8Array, windowStart: number, position: number): Parsed {
  const end = windowStart + window.length;
  const at = (offset: number) => window[offset - windowStart];
  let pos = position;
  for (;;) {
    if (pos >= end) return { kind: 'need', offset: pos };
    if (at(pos) !== 0xff) {
      return { kind: 'bad', reason: `a JPEG with no marker at byte ${pos} (found 0x${hexByte(at(pos))})` };
    }
    // Skip fill bytes: the marker code is the first byte after the 0xFF run.
    let markerAt = pos + 1;
    while (markerAt < end && at(markerAt) === 0xff) markerAt++;
    if (markerAt >= end) return { kind: 'need', offset: markerAt - 1 };
    const marker = at(markerAt);
    if (marker === 0x00) return { kind: 'bad', reason: `a JPEG with a stray 0xFF00 at byte ${pos}` };
    if (marker === 0xd9) return { kind: 'bad', reason: 'a JPEG that ends (EOI) before its frame header' };
    if (marker === 0xda) return { kind: 'bad', reason: 'a JPEG whose scan (SOS) comes before its frame header' };
    if (marker === 0x01 || marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos = markerAt + 1;
      continue;
    }
    // A segment: two length bytes (counting themselves), then its data.
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    const needed = isFrame ? 8 : 3; // length(2) precision(1) height(2) width(2), after the marker byte
    if (markerAt + needed >= end) return { kind: 'need', offset: markerAt - 1 };
    const length = (at(markerAt + 1) << 8) | at(markerAt + 2);
    if (length < 2) return { kind: 'bad', reason: `a JPEG segment 0xFF${hexByte(marker)} with length ${length} at byte ${pos}` };
    if (isFrame) {
      if (length < 8) return { kind: 'bad', reason: `a JPEG frame header with length ${length} at byte ${pos}` };
      const height = (at(markerAt + 4) << 8) | at(markerAt + 5);
      const width = (at(markerAt + 6) << 8) | at(markerAt + 7);
      return sized('jpeg', width, height, 'JPEG');
    }
    pos = markerAt + 1 + length;
  }
}

/** An image result, unless a side is zero (or, for PNG, beyond 2^31 - 1). */
function sized(type: ImageType, width: number, height: number, label: string): Parsed {
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
    return { kind: 'bad', reason: `a ${label} with impossible dimensions ${width}x${height}` };
  }
  return { kind: 'image', type, width, height };
}

function startsWith(bytes: Uint8Array, signature: number[]): boolean {
  return bytes.length >= signature.length && signature.every((b, i) => bytes[i] === b);
}

/** True when all of `bytes` (shorter than `signature`) is the start of `signature`. */
function isPrefixOf(bytes: Uint8Array, signature: number[]): boolean {
  return bytes.length < signature.length && bytes.every((b, i) => signature[i] === b);
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + length));
}

function u16le(bytes: Uint8Array, offset: number): number {
  return bytes[offset] | (bytes[offset + 1] << 8);
}

function u24le(bytes: Uint8Array, offset: number): number {
  return bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16);
}

function u32le(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

function u32be(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

function hexByte(byte: number): string {
  return byte.toString(16).padStart(2, '0').toUpperCase();
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map(b => b.toString(16).padStart(2, '0')).join(' ');
}
