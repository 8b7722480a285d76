/** Types of stand-in/effect.mjs: the stand-in's visible edit. */
import type { DecodedImage, RgbaImage } from './png.mjs';

export const FRAME_WIDTH: number;
export const FRAME_COLORS: readonly (readonly [number, number, number])[];

/** The frame colour of a variant (0-based). */
export function frameColor(variant: number): readonly [number, number, number];
/** The sepia tone of one colour. */
export function sepia(r: number, g: number, b: number): [number, number, number];
/**
 * Sepia inside the editable area (mask alpha 0, or everywhere without a mask)
 * plus a 4-px frame in the variant's colour; `progress` edits only that
 * fraction of rows from the top.
 */
export function editImage(image: RgbaImage, options?: { mask?: RgbaImage; variant?: number; progress?: number }): DecodedImage;
/** The 256x256 picture answered for inputs that cannot be decoded (JPEG, WebP). */
export function patternImage(variant?: number): DecodedImage;
