#!/usr/bin/env node
/**
 * Draws the bundled example images (CC0, made by this project) with the
 * stand-in's PNG codec:
 *   images/landscape.png       320x200  gradient sky, sun disc, two rows of hills
 *   images/landscape.mask.png  320x200  transparent over the sky (where the edit applies)
 *   images/icon.png            256x256  a rounded app icon on a transparent background
 *   images/screenshot.png      320x200  a window with a checkerboard canvas
 * Run: node examples/make-examples.mjs   (rewrites the files; the output is deterministic)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePng } from '../stand-in/png.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'images');

/**
 * A blank RGBA canvas with a pixel blender.
 * @param {number} width
 * @param {number} height
 */
function canvas(width, height) {
  const rgba = Buffer.alloc(width * height * 4);
  return {
    width,
    height,
    rgba,
    /**
     * Blends colour `c` over pixel (x, y) with coverage `a` (0-1).
     * @param {number} x
     * @param {number} y
     * @param {readonly number[]} c [r, g, b] or [r, g, b, alpha 0-255]
     * @param {number} [a]
     */
    blend(x, y, c, a = 1) {
      if (x < 0 || y < 0 || x >= width || y >= height || a <= 0) return;
      const i = (y * width + x) * 4;
      const srcA = Math.min(1, a) * ((c[3] ?? 255) / 255);
      const dstA = rgba[i + 3] / 255;
      const outA = srcA + dstA * (1 - srcA);
      for (let k = 0; k < 3; k++) {
        rgba[i + k] = outA === 0 ? 0 : Math.round((c[k] * srcA + rgba[i + k] * dstA * (1 - srcA)) / outA);
      }
      rgba[i + 3] = Math.round(outA * 255);
    }
  };
}

/** @param {number} v */
const clamp01 = v => Math.max(0, Math.min(1, v));
/**
 * @param {readonly number[]} a
 * @param {readonly number[]} b
 * @param {number} t
 */
const mix = (a, b, t) => a.map((v, k) => Math.round(v + (b[k] - v) * t));

/** Far and near hill lines of the landscape (y of the ridge at x). */
const farHill = (/** @type {number} */ x) => 128 + 10 * Math.sin(x / 37) + 6 * Math.sin(x / 13 + 1);
const nearHill = (/** @type {number} */ x) => 158 + 14 * Math.sin(x / 51 + 2) + 4 * Math.sin(x / 17);

function landscape() {
  const img = canvas(320, 200);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      // Sky: deep blue at the top to a warm haze at the horizon.
      img.blend(x, y, mix([60, 110, 190], [250, 205, 160], clamp01(y / 140)));
      // Sun disc with a soft glow.
      const d = Math.hypot(x - 236, y - 64);
      img.blend(x, y, [255, 236, 150], clamp01((60 - d) / 60) * 0.35);
      img.blend(x, y, [255, 224, 96], clamp01(26.5 - d));
      // Hills, anti-aliased along their ridge.
      img.blend(x, y, mix([110, 150, 110], [80, 125, 90], clamp01((y - 120) / 60)), clamp01(y + 0.5 - farHill(x)));
      img.blend(x, y, mix([70, 130, 70], [35, 85, 45], clamp01((y - 150) / 50)), clamp01(y + 0.5 - nearHill(x)));
    }
  }
  return img;
}

/** Transparent (alpha 0) above the far hills, opaque black below: only the sky is edited. */
function landscapeMask() {
  const img = canvas(320, 200);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (y + 0.5 >= farHill(x) + 1.5) img.blend(x, y, [0, 0, 0]);
    }
  }
  return img;
}

/**
 * True when (x, y) is inside the polygon (even-odd rule).
 * @param {number} x
 * @param {number} y
 * @param {Array<[number, number]>} points
 */
function inside(x, y, points) {
  let hit = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i];
    const [xj, yj] = points[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}

function icon() {
  const img = canvas(256, 256);
  const size = 224;
  const radius = 52;
  /** @type {Array<[number, number]>} a five-pointed star around (128, 134) */
  const star = Array.from({ length: 10 }, (_, k) => {
    const r = k % 2 === 0 ? 78 : 32;
    const angle = -Math.PI / 2 + (k * Math.PI) / 5;
    return /** @type {[number, number]} */ ([128 + r * Math.cos(angle), 134 + r * Math.sin(angle)]);
  });
  for (let y = 0; y < 256; y++) {
    for (let x = 0; x < 256; x++) {
      // Rounded square: signed distance, one pixel of anti-aliasing.
      const qx = Math.max(Math.abs(x + 0.5 - 128) - (size / 2 - radius), 0);
      const qy = Math.max(Math.abs(y + 0.5 - 128) - (size / 2 - radius), 0);
      const coverage = clamp01(0.5 - (Math.hypot(qx, qy) - radius));
      img.blend(x, y, mix([124, 58, 237], [37, 150, 235], clamp01((x + y - 32) / (size * 2))), coverage);
      // The star, 4x4 supersampled.
      let hits = 0;
      for (let sy = 0; sy < 4; sy++) for (let sx = 0; sx < 4; sx++) if (inside(x + (sx + 0.5) / 4, y + (sy + 0.5) / 4, star)) hits++;
      img.blend(x, y, [255, 255, 255], (hits / 16) * coverage);
    }
  }
  return img;
}

function screenshot() {
  const img = canvas(320, 200);
  for (let y = 0; y < 200; y++) {
    for (let x = 0; x < 320; x++) {
      let c;
      if (y < 22) c = [45, 48, 56]; // title bar
      else if (x < 70) c = [236, 238, 242]; // sidebar
      else c = ((x - 70) >> 3) % 2 === ((y - 22) >> 3) % 2 ? [255, 255, 255] : [205, 208, 214]; // canvas
      img.blend(x, y, c);
    }
  }
  // Window buttons.
  [[255, 95, 86], [255, 189, 46], [39, 201, 63]].forEach((c, k) => {
    for (let y = 0; y < 22; y++) for (let x = 0; x < 60; x++) img.blend(x, y, c, clamp01(5.5 - Math.hypot(x + 0.5 - (14 + k * 16), y + 0.5 - 11)));
  });
  // Sidebar "text" lines and a selected row.
  for (let row = 0; row < 8; row++) {
    const top = 34 + row * 18;
    const selected = row === 2;
    for (let y = top - 5; y < top + 9; y++) for (let x = 0; x < 70; x++) if (selected) img.blend(x, y, [59, 130, 246]);
    const length = 24 + ((row * 13) % 26);
    for (let y = top; y < top + 4; y++) for (let x = 10; x < 10 + length; x++) img.blend(x, y, selected ? [255, 255, 255] : [120, 126, 138]);
  }
  // A red circle and a blue square on the canvas, as if drawn in an editor.
  for (let y = 22; y < 200; y++) {
    for (let x = 70; x < 320; x++) {
      img.blend(x, y, [220, 38, 38], clamp01(36.5 - Math.hypot(x + 0.5 - 150, y + 0.5 - 100)));
      if (x >= 200 && x < 280 && y >= 80 && y < 160) img.blend(x, y, [37, 99, 235], 0.85);
    }
  }
  return img;
}

mkdirSync(out, { recursive: true });
const files = {
  'landscape.png': landscape(),
  'landscape.mask.png': landscapeMask(),
  'icon.png': icon(),
  'screenshot.png': screenshot()
};
let total = 0;
for (const [name, image] of Object.entries(files)) {
  const png = encodePng(image, { level: 9 });
  writeFileSync(path.join(out, name), png);
  total += png.length;
  console.log(`${name.padEnd(20)} ${image.width}x${image.height}  ${png.length} bytes`);
}
console.log(`total ${total} bytes`);
