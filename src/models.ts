/**
 * Every model rule in one place: which family a model belongs to, which
 * parameters it takes, which sizes, how many images, how large, how long a
 * prompt. `getInputs()` checks the inputs with these rules; the pipeline checks
 * the files with them before any request.
 */
import type { ImageType, ModelFamily } from './settings.js';

/** The models this action knows, without provider suffix. */
export const KNOWN_MODELS = [
  'gpt-image-1',
  'gpt-image-1.5',
  'gpt-image-1-mini',
  'gpt-image-2',
  'dall-e-2',
  'dall-e-3'
] as const;

/** One mebibyte: the "MB" of the API's limits. */
export const MB = 1024 * 1024;

/** `background` values GPT image models take. */
export const BACKGROUNDS = ['auto', 'transparent', 'opaque'] as const;
/** `output-format` values GPT image models take. */
export const OUTPUT_FORMATS: readonly ImageType[] = ['png', 'jpeg', 'webp'];
/** `input-fidelity` values. */
export const INPUT_FIDELITIES = ['high', 'low'] as const;
/** `response-format` values. */
export const RESPONSE_FORMATS = ['url', 'b64_json'] as const;
/** `quality` values of GPT image models. */
export const GPT_QUALITIES = ['auto', 'high', 'medium', 'low'] as const;

/** gpt-image-2's size limits. */
export const GPT_IMAGE_2_SIZE = {
  multiple: 16,
  minSide: 16,
  maxSide: 3840,
  maxRatio: 3,
  minPixels: 655_360,
  maxPixels: 3840 * 2160
} as const;

/** What a model family accepts. */
export interface ModelRules {
  family: ModelFamily;
  /** Names the model(s) in messages, e.g. `model dall-e-2`. */
  label: string;
  /** Most images in one request: the source plus every reference image. */
  maxImages: number;
  /** Every image file must be strictly SMALLER than this many bytes. */
  maxImageBytes: number;
  /** Image types accepted for the source and reference images. */
  imageTypes: readonly ImageType[];
  /** Images must be square (width = height). */
  squareOnly: boolean;
  /** Most characters (Unicode code points) in a rendered prompt. */
  maxPromptChars: number;
  /** The mask file must be strictly SMALLER than this many bytes. */
  maskMaxBytes: number;
  /** Image types accepted for the mask. */
  maskTypes: readonly ImageType[];
  /** Valid `quality` values; undefined means any value is passed through. */
  qualities?: readonly string[];
  /** The fixed list of `WxH` sizes; undefined means a rule decides (see `checkSize`). */
  sizes?: readonly string[];
  /** Whether `size: auto` is accepted. */
  autoSize: boolean;
  /** Valid `background` values; empty: the model does not take `background`. */
  backgrounds: readonly string[];
  /** Valid `output-format` values; empty: the model does not take `output-format` (outputs are PNG). */
  outputFormats: readonly ImageType[];
  /** Whether the model takes `input_fidelity`. */
  inputFidelity: boolean;
  /** Whether `response_format` is sent to the model (GPT image models reject it). */
  responseFormat: boolean;
  /** Whether the model can stream partial images (`partial_images` > 0). */
  partialImages: boolean;
  /** Largest `n`. */
  maxN: number;
}

/** The model name without its provider suffix: `gpt-image-2:official` → `gpt-image-2`. */
export function baseModel(model: string): string {
  const colon = model.indexOf(':');
  return colon === -1 ? model : model.slice(0, colon);
}

/**
 * The family of a model name (provider suffix allowed), or undefined when the
 * model is not one of KNOWN_MODELS.
 */
export function modelFamily(model: string): ModelFamily | undefined {
  switch (baseModel(model)) {
    case 'gpt-image-1':
    case 'gpt-image-1.5':
    case 'gpt-image-1-mini':
      return 'gpt-image';
    case 'gpt-image-2':
      return 'gpt-image-2';
    case 'dall-e-2':
      return 'dall-e-2';
    case 'dall-e-3':
      return 'dall-e-3';
    default:
      return undefined;
  }
}

/** True for the GPT image families (gpt-image-1, -1.5, -1-mini, -2). */
export function isGptImageFamily(family: ModelFamily): boolean {
  return family === 'gpt-image' || family === 'gpt-image-2';
}

const FAMILY_LABELS: Record<ModelFamily, string> = {
  'gpt-image': 'models gpt-image-1, gpt-image-1.5 and gpt-image-1-mini',
  'gpt-image-2': 'model gpt-image-2',
  'dall-e-2': 'model dall-e-2',
  'dall-e-3': 'model dall-e-3',
  unknown: 'an unknown model'
};

/** How messages name the model: `model <name>` when known, else the family. */
export function modelLabel(family: ModelFamily, model?: string): string {
  return model ? `model ${model}` : FAMILY_LABELS[family];
}

/**
 * The rules of a family. `model` (optional, provider suffix allowed) refines
 * per-model rules (gpt-image-1-mini takes no `input_fidelity`) and names the
 * model in messages.
 */
export function modelRules(family: ModelFamily, model?: string): ModelRules {
  const label = modelLabel(family, model);
  const isMini = model !== undefined && baseModel(model) === 'gpt-image-1-mini';
  switch (family) {
    case 'gpt-image':
    case 'gpt-image-2':
      return {
        family,
        label,
        maxImages: 16,
        maxImageBytes: 50 * MB,
        imageTypes: ['png', 'jpeg', 'webp'],
        squareOnly: false,
        maxPromptChars: 32000,
        maskMaxBytes: 4 * MB,
        maskTypes: ['png'],
        qualities: GPT_QUALITIES,
        sizes: family === 'gpt-image' ? ['1024x1024', '1536x1024', '1024x1536'] : undefined,
        autoSize: true,
        backgrounds: BACKGROUNDS,
        outputFormats: OUTPUT_FORMATS,
        inputFidelity: !isMini,
        responseFormat: false,
        partialImages: true,
        maxN: 10
      };
    case 'dall-e-2':
      return {
        family,
        label,
        maxImages: 1,
        maxImageBytes: 4 * MB,
        imageTypes: ['png'],
        squareOnly: true,
        maxPromptChars: 1000,
        maskMaxBytes: 4 * MB,
        maskTypes: ['png'],
        qualities: ['standard'],
        sizes: ['256x256', '512x512', '1024x1024'],
        autoSize: false,
        backgrounds: [],
        outputFormats: [],
        inputFidelity: false,
        responseFormat: true,
        partialImages: false,
        maxN: 10
      };
    case 'dall-e-3':
      return {
        family,
        label,
        maxImages: 1,
        maxImageBytes: 4 * MB,
        imageTypes: ['png'],
        squareOnly: false,
        maxPromptChars: 4000,
        maskMaxBytes: 4 * MB,
        maskTypes: ['png'],
        qualities: ['standard', 'hd'],
        sizes: ['1024x1024', '1792x1024', '1024x1792'],
        autoSize: false,
        backgrounds: [],
        outputFormats: [],
        inputFidelity: false,
        responseFormat: true,
        partialImages: false,
        maxN: 1
      };
    case 'unknown':
      return {
        family,
        label,
        maxImages: 16,
        maxImageBytes: 50 * MB,
        imageTypes: ['png', 'jpeg', 'webp'],
        squareOnly: false,
        maxPromptChars: 32000,
        maskMaxBytes: 4 * MB,
        maskTypes: ['png'],
        qualities: undefined,
        sizes: undefined,
        autoSize: true,
        backgrounds: BACKGROUNDS,
        outputFormats: OUTPUT_FORMATS,
        inputFidelity: true,
        responseFormat: true,
        partialImages: true,
        maxN: 10
      };
  }
}

const WXH = /^([1-9]\d{0,5})x([1-9]\d{0,5})$/;

/** Parses `WxH` (positive integers, lower-case `x`); undefined when it is not that shape. */
export function parseSize(size: string): { width: number; height: number } | undefined {
  const match = WXH.exec(size);
  return match ? { width: Number(match[1]), height: Number(match[2]) } : undefined;
}

/**
 * Checks `size` against a family's rules. Returns the problem (without the input
 * name, e.g. `"800x600" is not a valid size for model gpt-image-1; valid sizes are …`),
 * or undefined when the size is fine. `model` names the model in the message.
 */
export function checkSize(family: ModelFamily, size: string, model?: string): string | undefined {
  const rules = modelRules(family, model);
  if (size === 'auto') {
    return rules.autoSize ? undefined : `"auto" is not a valid size for ${rules.label}; valid sizes are ${rules.sizes?.join(', ')}`;
  }
  if (rules.sizes) {
    if (rules.sizes.includes(size)) return undefined;
    const valid = rules.autoSize ? ['auto', ...rules.sizes] : rules.sizes;
    return `"${size}" is not a valid size for ${rules.label}; valid sizes are ${valid.join(', ')}`;
  }
  const parsed = parseSize(size);
  if (!parsed) return `"${size}" is not a valid size; use auto or WIDTHxHEIGHT in pixels, e.g. 1024x1024`;
  if (family !== 'gpt-image-2') return undefined;

  const { width, height } = parsed;
  const limits = GPT_IMAGE_2_SIZE;
  const reasons: string[] = [];
  if (width < limits.minSide || height < limits.minSide) reasons.push(`each side must be at least ${limits.minSide}`);
  if (width % limits.multiple !== 0 || height % limits.multiple !== 0) {
    reasons.push(`both sides must be divisible by ${limits.multiple}`);
  }
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  if (long > limits.maxRatio * short) reasons.push(`the ratio must be within 1:${limits.maxRatio} to ${limits.maxRatio}:1`);
  if (long > limits.maxSide) reasons.push(`the long side must be at most ${limits.maxSide}`);
  const pixels = width * height;
  if (pixels > limits.maxPixels) reasons.push(`it must have at most 3840x2160 = ${limits.maxPixels} pixels, not ${pixels}`);
  if (pixels < limits.minPixels) reasons.push(`it must have at least ${limits.minPixels} pixels (e.g. 1024x640), not ${pixels}`);
  if (reasons.length === 0) return undefined;
  return `"${size}" is not a valid size for ${rules.label}: ${reasons.join('; ')}`;
}

/** `12345678` → `11.8 MB`; small counts in bytes or KB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < MB) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / MB).toFixed(1)} MB`;
}

/** A prompt's length as the API counts it: Unicode code points. */
export function promptLength(prompt: string): number {
  return [...prompt].length;
}

/** The problem with a prompt's length, or undefined. */
export function checkPromptLength(rules: ModelRules, prompt: string): string | undefined {
  const length = promptLength(prompt);
  return length > rules.maxPromptChars
    ? `the prompt is ${length} characters long; ${rules.label} takes at most ${rules.maxPromptChars}`
    : undefined;
}

/** The problem with the number of images in one request (source + references), or undefined. */
export function checkImageCount(rules: ModelRules, count: number): string | undefined {
  return count > rules.maxImages
    ? `${count} images in one request (the source plus reference images); ${rules.label} takes at most ${rules.maxImages}`
    : undefined;
}

/** The problem with an image file's size in bytes, or undefined. */
export function checkImageBytes(rules: ModelRules, bytes: number): string | undefined {
  return bytes >= rules.maxImageBytes
    ? `the file is ${formatBytes(bytes)} (${bytes} bytes); ${rules.label} takes images smaller than ${formatBytes(rules.maxImageBytes)}`
    : undefined;
}

/** The problem with a mask file's size in bytes, or undefined. */
export function checkMaskBytes(rules: ModelRules, bytes: number): string | undefined {
  return bytes >= rules.maskMaxBytes
    ? `the mask is ${formatBytes(bytes)} (${bytes} bytes); masks must be smaller than ${formatBytes(rules.maskMaxBytes)}`
    : undefined;
}

/** The problem with an image's type (from its magic bytes; undefined type = not recognised), or undefined. */
export function checkImageType(rules: ModelRules, type: ImageType | undefined): string | undefined {
  if (type === undefined) return `the file is not a PNG, JPEG or WebP image; ${rules.label} takes ${rules.imageTypes.join(', ')}`;
  return rules.imageTypes.includes(type) ? undefined : `the file is ${type}; ${rules.label} takes ${rules.imageTypes.join(', ')} only`;
}

/** The problem with an image's dimensions (square rule), or undefined. */
export function checkSquare(rules: ModelRules, width: number, height: number): string | undefined {
  return rules.squareOnly && width !== height
    ? `the image is ${width}x${height}; ${rules.label} takes square images only`
    : undefined;
}
