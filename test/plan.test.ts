/**
 * planEdits on real files in a temporary workspace, with Settings built by
 * getInputs from a plain input reader (real @actions/glob, real image headers).
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { padPng } from '../stand-in/png.mjs';
import { getInputs } from '../src/input-helper.js';
import { inShard, planEdits, type Plan } from '../src/plan.js';
import { InputError, type Settings } from '../src/settings.js';
import { FIXTURES, makePng } from './helpers/images.js';

const KEY = 'sk-plan-test-0123456789';

let workspace: string;

beforeEach(() => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-'));
});

afterEach(() => {
  fs.rmSync(workspace, { recursive: true, force: true });
});

/** Writes `bytes` at a workspace-relative path, creating folders. */
function put(file: string, bytes: Buffer | string): void {
  const full = path.join(workspace, file);
  fs.mkdirSync(path.dirname(full), { recursive: true });
  fs.writeFileSync(full, bytes);
}

/** Settings from the inputs (over a few required ones), as the action would read them. */
async function settingsFor(values: Record<string, string> = {}): Promise<Settings> {
  const all: Record<string, string> = {
    images: 'art/*.png',
    prompt: 'Make {name} blue',
    'api-key': KEY,
    endpoint: 'http://127.0.0.1:9/openai/images/edits',
    manifest: '',
    ...values
  };
  const { settings } = await getInputs(name => all[name] ?? '', { workspace, env: {} });
  return settings;
}

async function plan(values: Record<string, string> = {}): Promise<Plan> {
  return planEdits(await settingsFor(values));
}

/** The problems of a plan that must fail. */
async function problemsOf(values: Record<string, string> = {}): Promise<string[]> {
  const settings = await settingsFor(values);
  try {
    await planEdits(settings);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).problems;
  }
  throw new Error(`expected planEdits to fail for ${JSON.stringify(values)}`);
}

const sources = (p: Plan): string[] => p.jobs.map(job => job.source.path);

describe('planEdits: what is a source', () => {
  it('does not take outputs of the default template beside the sources as sources', async () => {
    put('art/a.png', makePng(8, 8));
    put('art/b.png', makePng(8, 8));
    put('art/a.edited.png', makePng(8, 8));
    const p = await plan();
    expect(sources(p)).toEqual(['art/a.png', 'art/b.png']);
    expect(p.notSources).toEqual(['art/a.edited.png']);
    expect(p.jobs[0].outputs).toEqual(['art/a.edited.png']);
    expect(p.jobs[1].prompt).toBe('Make b blue');
  });

  it('does not take the variants of n > 1 as sources either', async () => {
    put('art/a.png', makePng(8, 8));
    put('art/a.edited-1.png', makePng(8, 8));
    put('art/a.edited-2.png', makePng(8, 8));
    const p = await plan({ n: '2' });
    expect(sources(p)).toEqual(['art/a.png']);
    expect(p.notSources).toEqual(['art/a.edited-1.png', 'art/a.edited-2.png']);
    expect(p.jobs[0].outputs).toEqual(['art/a.edited-1.png', 'art/a.edited-2.png']);
  });

  it('does not take outputs recorded in the manifest (an earlier output-path) as sources', async () => {
    put('art/a.png', makePng(8, 8));
    put('art/a-old-style.png', makePng(8, 8));
    put(
      '.image-edits.json',
      JSON.stringify({
        version: 1,
        entries: { 'art/a.png': { fingerprint: 'f'.repeat(64), outputs: ['art/a-old-style.png'], editedAt: '2024-01-01T00:00:00Z' } }
      })
    );
    const p = await plan({ manifest: '.image-edits.json' });
    expect(sources(p)).toEqual(['art/a.png']);
    expect(p.notSources).toEqual(['art/a-old-style.png']);
    // The fingerprint differs from the recorded one: edited, not skipped.
    expect(p.jobs[0].skip).toBeUndefined();
    expect(p.jobs[0].fingerprint).toMatch(/^[0-9a-f]{64}$/);
    // Without the manifest the same file is a source.
    expect(sources(await plan())).toEqual(['art/a-old-style.png', 'art/a.png']);
  });

  it('does not take masks matched by the glob as sources, and pairs each source with its mask', async () => {
    put('art/a.png', makePng(8, 8));
    put('art/a.mask.png', makePng(8, 8, () => [0, 0, 0, 0]));
    put('art/b.png', makePng(8, 8));
    const p = await plan({ mask: '{dir}/{name}.mask.png' });
    expect(sources(p)).toEqual(['art/a.png', 'art/b.png']);
    expect(p.notSources).toEqual(['art/a.mask.png']);
    expect(p.jobs[0].mask?.path).toBe('art/a.mask.png');
    expect(p.jobs[0].mask?.info).toMatchObject({ type: 'png', width: 8, height: 8 });
    // b has no mask: edited without one, no problem.
    expect(p.jobs[1].mask).toBeUndefined();
  });

  it('refuses an output-path that would overwrite its own source', async () => {
    put('art/a.png', makePng(8, 8));
    const problems = await problemsOf({ 'output-path': '{path}.{ext}' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('output-path');
    expect(problems[0]).toContain('art/a.png');
  });
});

describe('planEdits: only-changed', () => {
  it('takes only the matched files the change added or modified; the others are not in the plan', async () => {
    put('art/a.png', makePng(8, 8));
    put('art/b.png', makePng(8, 8));
    put('art/c.png', makePng(8, 8));
    const settings = await settingsFor();
    const p = await planEdits(settings, { changed: new Set(['art/b.png', 'docs/readme.md', 'art/gone.png']) });
    expect(sources(p)).toEqual(['art/b.png']);
    expect(p.notChanged).toBe(2);
    expect((await planEdits(settings)).notChanged).toBe(0);
  });

  it('does not check the files it leaves out (a broken unchanged image is not a problem)', async () => {
    put('art/a.png', makePng(8, 8));
    put('art/broken.png', 'not a png');
    const settings = await settingsFor();
    await expect(planEdits(settings)).rejects.toThrow(/art\/broken\.png/);
    expect(sources(await planEdits(settings, { changed: new Set(['art/a.png']) }))).toEqual(['art/a.png']);
  });

  it('gives an empty plan when the change touched no matched image', async () => {
    put('art/a.png', makePng(8, 8));
    const p = await planEdits(await settingsFor(), { changed: new Set() });
    expect(p.jobs).toEqual([]);
    expect(p.notChanged).toBe(1);
  });
});

describe('planEdits: warnings', () => {
  it('warns when one fixed mask path is given and it does not exist (a typo, most likely)', async () => {
    put('art/a.png', makePng(8, 8));
    expect((await plan({ mask: 'masks/m.png' })).warnings).toEqual(['mask: masks/m.png does not exist; the files are edited without a mask']);
    // A template: files without their mask are edited without one, as the contract says.
    expect((await plan({ mask: '{dir}/{name}.mask.png' })).warnings).toEqual([]);
    put('masks/m.png', makePng(8, 8, () => [0, 0, 0, 0]));
    expect((await plan({ mask: 'masks/m.png' })).warnings).toEqual([]);
  });
});

describe('planEdits: masks', () => {
  it('reports a mask whose size differs from the image', async () => {
    put('art/a.png', makePng(8, 8));
    put('art/a.mask.png', makePng(8, 6));
    const problems = await problemsOf({ mask: '{dir}/{name}.mask.png' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^mask: art\/a\.mask\.png: /);
    expect(problems[0]).toContain('8x6');
    expect(problems[0]).toContain('8x8');
  });

  it('reports a mask that is a JPEG, and one that is no image at all', async () => {
    put('art/a.png', makePng(40, 30));
    put('masks/a.png', fs.readFileSync(path.join(FIXTURES, 'photo.jpg'))); // a 40x30 JPEG named .png
    put('art/b.png', makePng(8, 8));
    put('masks/b.png', 'not an image');
    const problems = await problemsOf({ mask: 'masks/{name}.png' });
    expect(problems).toHaveLength(2);
    expect(problems.find(p => p.includes('masks/a.png'))).toMatch(/jpeg.*PNG/);
    expect(problems.find(p => p.includes('masks/b.png'))).toMatch(/^mask: .*not a PNG, JPEG or WebP/);
  });
});

describe('planEdits: model rules', () => {
  it('reports a non-square image and one of 4 MB or more for dall-e-2', async () => {
    put('art/wide.png', makePng(16, 8));
    put('art/big.png', padPng(makePng(16, 16), 4 * 1024 * 1024 + 10));
    put('art/fine.png', makePng(16, 16));
    const problems = await problemsOf({ model: 'dall-e-2' });
    expect(problems).toHaveLength(2);
    expect(problems.find(p => p.startsWith('art/wide.png:'))).toMatch(/16x8.*square/);
    expect(problems.find(p => p.startsWith('art/big.png:'))).toMatch(/4\.0 MB/);
    // The same files are fine for a GPT image model.
    expect(sources(await plan())).toEqual(['art/big.png', 'art/fine.png', 'art/wide.png']);
  });

  it('checks the prompt length after the placeholders are filled in (dall-e-2: 1000)', async () => {
    const name = 'n'.repeat(40);
    put(`art/${name}.png`, makePng(8, 8));
    put('art/a.png', makePng(8, 8));
    // 990 characters plus {name}: within the limit as a template, too long for the long name only.
    const prompt = `${'p'.repeat(990)}{name}`;
    const problems = await problemsOf({ model: 'dall-e-2', prompt });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`art/${name}.png`);
    expect(problems[0]).toContain('1030 characters');
    expect(problems[0]).toContain('1000');
  });

  it('sends reference images with every file, after it, up to 16 images in all', async () => {
    put('art/a.png', makePng(8, 8));
    put('art/b.png', makePng(8, 8));
    for (let i = 0; i < 15; i++) put(`refs/r${String(i).padStart(2, '0')}.png`, makePng(4, 4));
    const p = await plan({ 'reference-images': 'refs/*.png' });
    expect(sources(p)).toEqual(['art/a.png', 'art/b.png']);
    for (const job of p.jobs) {
      expect(job.references.map(r => r.path)).toEqual(Array.from({ length: 15 }, (_, i) => `refs/r${String(i).padStart(2, '0')}.png`));
      expect(job.references[0].info.mime).toBe('image/png');
    }

    put('refs/r15.png', makePng(4, 4));
    const problems = await problemsOf({ 'reference-images': 'refs/*.png' });
    expect(problems).toEqual([
      expect.stringMatching(/^reference-images: for art\/a\.png, 17 images .* at most 16/),
      expect.stringMatching(/^reference-images: for art\/b\.png, 17 images .* at most 16/)
    ]);
  });

  it('does not send a file as its own reference when both globs match it', async () => {
    put('art/a.png', makePng(8, 8));
    put('art/b.png', makePng(8, 8));
    const p = await plan({ 'reference-images': 'art/b.png' });
    expect(p.jobs.map(job => [job.source.path, job.references.map(r => r.path)])).toEqual([
      ['art/a.png', ['art/b.png']],
      ['art/b.png', []]
    ]);
  });

  it('reports a reference image that is not an image', async () => {
    put('art/a.png', makePng(8, 8));
    put('refs/bad.png', 'text');
    const problems = await problemsOf({ 'reference-images': 'refs/*.png' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^reference-images: .*refs\/bad\.png/);
  });
});

describe('planEdits: outputs', () => {
  it('reports two sources that would write the same output', async () => {
    put('art/x.png', makePng(8, 8));
    put('art/x.jpg', fs.readFileSync(path.join(FIXTURES, 'photo.jpg')));
    const problems = await problemsOf({ images: 'art/*' });
    expect(problems).toEqual([expect.stringMatching(/^output-path: .*art\/x\.(png|jpg) and art\/x\.(png|jpg) would both write art\/x\.edited\.png/)]);
  });

  it('reports a clash between sources of different shards in every shard', async () => {
    // Folders chosen so that the two files fall into different shards of 2.
    const names = Array.from({ length: 40 }, (_, i) => `d${i}/x.png`);
    const first = names[0];
    const other = names.find(name => inShard(name, { index: 1, count: 2 }) !== inShard(first, { index: 1, count: 2 }))!;
    put(first, makePng(8, 8));
    put(other, makePng(8, 8));
    for (const shard of ['1/2', '2/2']) {
      const problems = await problemsOf({ images: '**/x.png', 'output-path': 'out/{name}.{format}', shard });
      expect(problems).toEqual([expect.stringContaining('would both write out/x.png')]);
    }
  });

  it('reports an output that leaves the workspace through a symlinked folder', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'plan-outside-'));
    try {
      put('art/a.png', makePng(8, 8));
      fs.symlinkSync(outside, path.join(workspace, 'out'));
      const problems = await problemsOf({ 'output-path': 'out/{name}.{format}' });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^output-path: out\/a\.png leads outside the workspace through a symbolic link/);
      expect(problems[0]).toContain('art/a.png');
      expect(fs.readdirSync(outside)).toEqual([]);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe('planEdits: shards', () => {
  it('splits the list into disjoint shards whose union is the whole list; a new file moves no other', async () => {
    const files = Array.from({ length: 30 }, (_, i) => `art/img-${i}.png`);
    for (const file of files) put(file, makePng(4, 4));
    const whole = sources(await plan());
    expect(whole).toEqual([...files].sort());

    const shardsOf = async (total: number): Promise<string[][]> => {
      const result: string[][] = [];
      for (const shard of ['1/3', '2/3', '3/3']) {
        const p = await plan({ shard });
        expect(p.otherShards).toBe(total - p.jobs.length);
        result.push(sources(p));
      }
      return result;
    };
    const before = await shardsOf(30);
    for (const part of before) expect(part.length).toBeGreaterThan(0);
    expect(before.flat().sort()).toEqual(whole);
    expect(new Set(before.flat()).size).toBe(whole.length);

    put('art/img-new.png', makePng(4, 4));
    const after = await shardsOf(31);
    expect(after.flat().sort()).toEqual([...whole, 'art/img-new.png'].sort());
    for (let i = 0; i < 3; i++) {
      expect(after[i].filter(file => file !== 'art/img-new.png')).toEqual(before[i]);
    }
  });
});

describe('planEdits: every problem at once', () => {
  it('lists all problems of all files in one InputError', async () => {
    put('art/wide.png', makePng(16, 8));
    put('art/text.png', 'just text');
    put('art/sq.png', makePng(16, 16));
    put('art/sq.mask.png', makePng(8, 8));
    put('art/sq.edited.png', makePng(16, 16)); // an output: not a source, no problem
    const problems = await problemsOf({ model: 'dall-e-2', mask: '{dir}/{name}.mask.png', prompt: `${'p'.repeat(994)}{path}` });
    expect(problems.some(p => p.startsWith('art/wide.png:') && p.includes('square'))).toBe(true);
    expect(problems.some(p => p.startsWith('images:') && p.includes('art/text.png'))).toBe(true);
    expect(problems.some(p => p.startsWith('mask: art/sq.mask.png:'))).toBe(true);
    // 994 + {path}: art/wide and art/text make 1002 characters, art/sq exactly 1000 (allowed).
    expect(problems.filter(p => p.startsWith('prompt: for ')).map(p => p.split(',')[0])).toEqual([
      'prompt: for art/text.png',
      'prompt: for art/wide.png'
    ]);
    expect(problems.some(p => p.includes('sq.edited'))).toBe(false);
  });
});
