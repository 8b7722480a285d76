/** Types of stand-in/png.mjs: a tiny PNG codec on node:zlib. */

/** 8-bit RGBA pixels, row after row, 4 bytes a pixel. */
export interface RgbaImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

export interface DecodedImage extends RgbaImage {
  rgba: Buffer;
}

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlace: number;
}

export const PNG_SIGNATURE: Buffer;
export const DEFAULT_MAX_PIXELS: number;

/** CRC-32 (the one PNG chunks use) of `bytes`, continuing from `previous`. */
export function crc32(bytes: Uint8Array, previous?: number): number;
/** One PNG chunk: length, type, data, CRC. */
export function encodeChunk(type: string, data: Uint8Array): Buffer;
/** Width, height, depth, colour type and interlace from the IHDR, without decoding. */
export function readPngHeader(bytes: Uint8Array): PngHeader;
/** True when `bytes` start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean;
/**
 * Decodes a non-interlaced PNG (colour types 0, 2, 3, 4, 6; depths 1-16) into
 * 8-bit RGBA. Throws an Error naming the problem for anything unsupported.
 */
export function decodePng(bytes: Uint8Array, options?: { maxPixels?: number }): DecodedImage;
/** Encodes 8-bit RGBA as PNG (colour type 6, or 2 when every pixel is opaque). */
export function encodePng(image: RgbaImage, options?: { level?: number; filter?: 'adaptive' | 0 | 1 | 2 | 3 | 4 }): Buffer;
/** Grows a PNG to at least `totalBytes` with a private `paDd` chunk of pseudo-random bytes. */
export function padPng(png: Buffer, totalBytes: number): Buffer;
