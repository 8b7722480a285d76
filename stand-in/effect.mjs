/**
 * The stand-in's visible "edit", so a person (and a test) can see that an edit
 * happened: inside the editable area (where the mask's alpha is 0, or
 * everywhere without a mask) every pixel gets a sepia tone, and a 4-px frame in
 * the variant's colour is drawn along the image border. Alpha is kept.
 * Inputs it cannot decode get a generated 256x256 pattern instead.
 */

/** Frame width in pixels. */
export const FRAME_WIDTH = 4;

/** Frame colour of variant 0, 1, 2, … (repeats after the last). */
export const FRAME_COLORS = /** @type {const} */ ([
  [255, 140, 0],
  [220, 40, 160],
  [0, 160, 170],
  [90, 70, 230],
  [60, 170, 60],
  [230, 50, 50],
  [240, 200, 0],
  [40, 120, 240],
  [150, 90, 40],
  [120, 120, 120]
]);

/**
 * The frame colour of a variant (0-based).
 * @param {number} variant
 * @returns {readonly [number, number, number]}
 */
export function frameColor(variant) {
  return FRAME_COLORS[((variant % FRAME_COLORS.length) + FRAME_COLORS.length) % FRAME_COLORS.length];
}

/**
 * The sepia tone of one colour (the usual sepia matrix, clamped and rounded).
 * @param {number} r
 * @param {number} g
 * @param {number} b
 * @returns {[number, number, number]}
 */
export function sepia(r, g, b) {
  return [
    Math.min(255, Math.round(0.393 * r + 0.769 * g + 0.189 * b)),
    Math.min(255, Math.round(0.349 * r + 0.686 * g + 0.168 * b)),
    Math.min(255, Math.round(0.272 * r + 0.534 * g + 0.131 * b))
  ];
}

/**
 * Applies the edit to a copy of `image`.
 * @param {{width: number, height: number, rgba: Uint8Array}} image
 * @param {{mask?: {width: number, height: number, rgba: Uint8Array}, variant?: number, progress?: number}} [options]
 *   `mask`: same size as the image; only pixels whose mask alpha is 0 change.
 *   `variant`: picks the frame colour. `progress` (0-1): only that fraction of
 *   rows, from the top, is edited (for partial frames of a stream).
 * @returns {{width: number, height: number, rgba: Buffer}}
 */
export function editImage(image, options = {}) {
  const { width, height } = image;
  const { mask, variant = 0, progress = 1 } = options;
  if (mask && (mask.width !== width || mask.height !== height)) {
    throw new Error(`mask is ${mask.width}x${mask.height} but the image is ${width}x${height}`);
  }
  const rgba = Buffer.from(image.rgba);
  const [fr, fg, fb] = frameColor(variant);
  const rows = Math.min(height, Math.ceil(height * Math.max(0, Math.min(1, progress))));
  for (let y = 0; y < rows; y++) {
    const edgeY = y < FRAME_WIDTH || y >= height - FRAME_WIDTH;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      if (mask && mask.rgba[i + 3] !== 0) continue;
      if (edgeY || x < FRAME_WIDTH || x >= width - FRAME_WIDTH) {
        rgba[i] = fr;
        rgba[i + 1] = fg;
        rgba[i + 2] = fb;
        rgba[i + 3] = 255;
      } else {
        const [r, g, b] = sepia(rgba[i], rgba[i + 1], rgba[i + 2]);
        rgba[i] = r;
        rgba[i + 1] = g;
        rgba[i + 2] = b;
      }
    }
  }
  return { width, height, rgba };
}

/**
 * A recognisable 256x256 picture for inputs the stand-in cannot decode (JPEG,
 * WebP): diagonal blue stripes, a white disc with a dark ring, and the
 * variant's frame.
 * @param {number} [variant]
 * @returns {{width: number, height: number, rgba: Buffer}}
 */
export function patternImage(variant = 0) {
  const width = 256;
  const height = 256;
  const rgba = Buffer.alloc(width * height * 4);
  const [fr, fg, fb] = frameColor(variant);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const d = Math.hypot(x - 127.5, y - 127.5);
      let c;
      if (x < FRAME_WIDTH || y < FRAME_WIDTH || x >= width - FRAME_WIDTH || y >= height - FRAME_WIDTH) c = [fr, fg, fb];
      else if (d < 56) c = [250, 250, 245];
      else if (d < 68) c = [30, 40, 60];
      else c = ((x + y) >> 4) % 2 === 0 ? [40, 110, 200] : [90, 170, 235];
      rgba[i] = c[0];
      rgba[i + 1] = c[1];
      rgba[i + 2] = c[2];
      rgba[i + 3] = 255;
    }
  }
  return { width, height, rgba };
}
