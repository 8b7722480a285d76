import { describe, it, expect } from '@jest/globals';
import {
  baseModel,
  checkImageBytes,
  checkImageCount,
  checkImageType,
  checkMaskBytes,
  checkPromptLength,
  checkSize,
  checkSquare,
  formatBytes,
  KNOWN_MODELS,
  MB,
  modelFamily,
  modelRules,
  parseSize
} from '../src/models.js';
import type { ModelFamily } from '../src/settings.js';

describe('modelFamily and baseModel', () => {
  it.each([
    ['gpt-image-1', 'gpt-image'],
    ['gpt-image-1.5', 'gpt-image'],
    ['gpt-image-1-mini', 'gpt-image'],
    ['gpt-image-2', 'gpt-image-2'],
    ['dall-e-2', 'dall-e-2'],
    ['dall-e-3', 'dall-e-3'],
    ['gpt-image-2:official', 'gpt-image-2'],
    ['gpt-image-1-mini:cheap', 'gpt-image'],
    ['dall-e-2:azure', 'dall-e-2']
  ])('%s belongs to %s', (model, family) => {
    expect(modelFamily(model)).toBe(family);
  });

  it.each(['gpt-5', 'GPT-IMAGE-1', 'gpt-image-3', 'dall-e', '', ':gpt-image-1', 'gpt-image-1x'])(
    '%p is unknown',
    model => {
      expect(modelFamily(model)).toBeUndefined();
    }
  );

  it('strips only the provider suffix', () => {
    expect(baseModel('gpt-image-2:official')).toBe('gpt-image-2');
    expect(baseModel('gpt-image-1.5')).toBe('gpt-image-1.5');
    expect(baseModel('a:b:c')).toBe('a');
  });

  it('knows every model of the contract, each with a family', () => {
    expect([...KNOWN_MODELS]).toEqual(['gpt-image-1', 'gpt-image-1.5', 'gpt-image-1-mini', 'gpt-image-2', 'dall-e-2', 'dall-e-3']);
    for (const model of KNOWN_MODELS) expect(modelFamily(model)).toBeDefined();
  });
});

describe('modelRules', () => {
  it('gives GPT image models 16 images under 50 MB, three types, 32000 characters', () => {
    for (const family of ['gpt-image', 'gpt-image-2'] as const) {
      const rules = modelRules(family);
      expect(rules.maxImages).toBe(16);
      expect(rules.maxImageBytes).toBe(50 * 1024 * 1024);
      expect(rules.imageTypes).toEqual(['png', 'jpeg', 'webp']);
      expect(rules.squareOnly).toBe(false);
      expect(rules.maxPromptChars).toBe(32000);
      expect(rules.maskMaxBytes).toBe(4 * 1024 * 1024);
      expect(rules.qualities).toEqual(['auto', 'high', 'medium', 'low']);
      expect(rules.backgrounds).toEqual(['auto', 'transparent', 'opaque']);
      expect(rules.outputFormats).toEqual(['png', 'jpeg', 'webp']);
      expect(rules.responseFormat).toBe(false);
      expect(rules.maxN).toBe(10);
    }
  });

  it('gives dall-e-2 one square PNG under 4 MB and 1000 characters', () => {
    const rules = modelRules('dall-e-2');
    expect(rules).toMatchObject({
      maxImages: 1,
      maxImageBytes: 4 * MB,
      imageTypes: ['png'],
      squareOnly: true,
      maxPromptChars: 1000,
      qualities: ['standard'],
      backgrounds: [],
      outputFormats: [],
      inputFidelity: false,
      responseFormat: true,
      maxN: 10
    });
  });

  it('gives dall-e-3 one PNG, 4000 characters, standard/hd, n of 1', () => {
    const rules = modelRules('dall-e-3');
    expect(rules).toMatchObject({
      maxImages: 1,
      maxImageBytes: 4 * MB,
      imageTypes: ['png'],
      squareOnly: false,
      maxPromptChars: 4000,
      qualities: ['standard', 'hd'],
      responseFormat: true,
      maxN: 1
    });
  });

  it('gives unknown models generic limits and any quality', () => {
    const rules = modelRules('unknown', 'my-model');
    expect(rules.maxImages).toBe(16);
    expect(rules.maxPromptChars).toBe(32000);
    expect(rules.qualities).toBeUndefined();
    expect(rules.responseFormat).toBe(true);
    expect(rules.label).toBe('model my-model');
  });

  it('takes input_fidelity on GPT image models except gpt-image-1-mini', () => {
    expect(modelRules('gpt-image', 'gpt-image-1').inputFidelity).toBe(true);
    expect(modelRules('gpt-image', 'gpt-image-1.5').inputFidelity).toBe(true);
    expect(modelRules('gpt-image-2', 'gpt-image-2').inputFidelity).toBe(true);
    expect(modelRules('gpt-image', 'gpt-image-1-mini').inputFidelity).toBe(false);
    expect(modelRules('gpt-image', 'gpt-image-1-mini:provider').inputFidelity).toBe(false);
  });
});

describe('checkSize', () => {
  const valid: [ModelFamily, string][] = [
    ['gpt-image', 'auto'],
    ['gpt-image', '1024x1024'],
    ['gpt-image', '1536x1024'],
    ['gpt-image', '1024x1536'],
    ['gpt-image-2', 'auto'],
    ['gpt-image-2', '1024x1024'],
    ['gpt-image-2', '3840x2160'],
    ['gpt-image-2', '2160x3840'],
    ['gpt-image-2', '2048x2048'],
    ['gpt-image-2', '1920x640'],
    ['dall-e-2', '256x256'],
    ['dall-e-2', '512x512'],
    ['dall-e-2', '1024x1024'],
    ['dall-e-3', '1024x1024'],
    ['dall-e-3', '1792x1024'],
    ['dall-e-3', '1024x1792'],
    ['unknown', 'auto'],
    ['unknown', '123x457']
  ];
  it.each(valid)('%s takes %s', (family, size) => {
    expect(checkSize(family, size)).toBeUndefined();
  });

  const invalid: [ModelFamily, string, string][] = [
    ['gpt-image', '512x512', 'valid sizes are auto, 1024x1024, 1536x1024, 1024x1536'],
    ['gpt-image', '1792x1024', 'valid sizes are auto'],
    ['gpt-image-2', '3840x2176', 'at most 3840x2160'],
    ['gpt-image-2', '1024x4000', 'ratio must be within 1:3 to 3:1'],
    ['gpt-image-2', '1000x1000', 'divisible by 16'],
    ['gpt-image-2', '4096x1024', 'long side must be at most 3840'],
    ['gpt-image-2', '512x512', 'at least 655360 pixels'],
    ['gpt-image-2', '1024', 'use auto or WIDTHxHEIGHT'],
    ['gpt-image-2', '1024X1024', 'use auto or WIDTHxHEIGHT'],
    ['dall-e-2', 'auto', 'valid sizes are 256x256, 512x512, 1024x1024'],
    ['dall-e-2', '1536x1024', 'valid sizes are 256x256, 512x512, 1024x1024'],
    ['dall-e-3', 'auto', 'valid sizes are 1024x1024, 1792x1024, 1024x1792'],
    ['dall-e-3', '512x512', 'valid sizes are 1024x1024, 1792x1024, 1024x1792'],
    ['unknown', 'big', 'use auto or WIDTHxHEIGHT'],
    ['unknown', '0x100', 'use auto or WIDTHxHEIGHT']
  ];
  it.each(invalid)('%s rejects %s', (family, size, reason) => {
    const problem = checkSize(family, size);
    expect(problem).toContain(`"${size}"`);
    expect(problem).toContain(reason);
  });

  it('names the model when given', () => {
    expect(checkSize('gpt-image', '512x512', 'gpt-image-1.5')).toContain('model gpt-image-1.5');
  });

  it('lists every reason a gpt-image-2 size fails', () => {
    const problem = checkSize('gpt-image-2', '4000x1000') ?? '';
    expect(problem).toContain('divisible by 16');
    expect(problem).toContain('ratio');
    expect(problem).toContain('long side');
  });

  it('parses WxH', () => {
    expect(parseSize('1536x1024')).toEqual({ width: 1536, height: 1024 });
    expect(parseSize('01x2')).toBeUndefined();
    expect(parseSize('1x')).toBeUndefined();
  });
});

describe('file checks', () => {
  const gpt = modelRules('gpt-image', 'gpt-image-1');
  const dalle = modelRules('dall-e-2', 'dall-e-2');

  it('limits bytes strictly below the maximum', () => {
    expect(checkImageBytes(gpt, 50 * MB - 1)).toBeUndefined();
    expect(checkImageBytes(gpt, 50 * MB)).toContain('smaller than 50.0 MB');
    expect(checkImageBytes(dalle, 4 * MB)).toContain('model dall-e-2');
    expect(checkMaskBytes(gpt, 4 * MB - 1)).toBeUndefined();
    expect(checkMaskBytes(gpt, 4 * MB)).toContain('smaller than 4.0 MB');
  });

  it('limits the number of images', () => {
    expect(checkImageCount(gpt, 16)).toBeUndefined();
    expect(checkImageCount(gpt, 17)).toContain('at most 16');
    expect(checkImageCount(dalle, 2)).toContain('at most 1');
  });

  it('checks types and squareness', () => {
    expect(checkImageType(gpt, 'webp')).toBeUndefined();
    expect(checkImageType(dalle, 'jpeg')).toContain('png only');
    expect(checkImageType(dalle, undefined)).toContain('not a PNG, JPEG or WebP');
    expect(checkSquare(dalle, 512, 512)).toBeUndefined();
    expect(checkSquare(dalle, 512, 256)).toContain('512x256');
    expect(checkSquare(gpt, 512, 256)).toBeUndefined();
  });

  it('counts prompt length in characters, not UTF-16 units', () => {
    expect(checkPromptLength(dalle, '😀'.repeat(1000))).toBeUndefined();
    expect(checkPromptLength(dalle, 'a'.repeat(1001))).toContain('1001 characters');
    expect(checkPromptLength(modelRules('dall-e-3'), 'a'.repeat(4000))).toBeUndefined();
    expect(checkPromptLength(modelRules('dall-e-3'), 'a'.repeat(4001))).toContain('at most 4000');
  });

  it('formats byte counts', () => {
    expect(formatBytes(500)).toBe('500 bytes');
    expect(formatBytes(2048)).toBe('2.0 KB');
    expect(formatBytes(5 * MB)).toBe('5.0 MB');
  });
});
