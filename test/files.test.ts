import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { insideWorkspace, resolveGlobs, writeFileAtomic } from '../src/files.js';

let base: string;
/** The workspace; its name holds glob characters, which must stay literal. */
let ws: string;
/** A folder beside the workspace (outside it). */
let outside: string;

async function put(file: string, text = file): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
}

beforeAll(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'files-'));
  ws = path.join(base, 'work [1]*?');
  outside = path.join(base, 'outside');
  for (const file of ['a.png', 'Z.png', 'art-b.png', 'b.jpg', 'notes.txt', 'art/x.png', 'art/deep/y.png', 'art/deep/z.txt', 'only-dir/sub/c.webp']) {
    await put(path.join(ws, file));
  }
  await fs.mkdir(path.join(ws, 'empty-dir'));
  await fs.mkdir(path.join(ws, 'folder.png')); // a directory whose name looks like an image
  await put(path.join(outside, 'secret.png'));
  await put(path.join(outside, 'dir', 'inner.png'));
});

afterAll(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

describe('resolveGlobs', () => {
  it('returns sorted (code-unit order), workspace-relative POSIX paths of files in nested folders', async () => {
    const result = await resolveGlobs('images', ['**/*.png'], ws);
    expect(result).toEqual({ files: ['Z.png', 'a.png', 'art-b.png', 'art/deep/y.png', 'art/x.png'], problems: [] });
  });

  it('de-duplicates files matched by overlapping patterns', async () => {
    const result = await resolveGlobs('images', ['*.png', 'a.png', 'art/**/*.png', '**/x.png', './a.png'], ws);
    expect(result).toEqual({ files: ['Z.png', 'a.png', 'art-b.png', 'art/deep/y.png', 'art/x.png'], problems: [] });
  });

  it('applies ! excludes, also to whole folders', async () => {
    const result = await resolveGlobs('images', ['**/*.png', '!art/deep', '!Z.png'], ws);
    expect(result).toEqual({ files: ['a.png', 'art-b.png', 'art/x.png'], problems: [] });
  });

  it('lets a later pattern include again what an earlier ! excluded, as @actions/glob does', async () => {
    const result = await resolveGlobs('images', ['*.png', '!a.png', 'a.png'], ws);
    expect(result.files).toEqual(['Z.png', 'a.png', 'art-b.png']);
  });

  it('reads several patterns from one newline-separated string, skipping blanks and # comments', async () => {
    const result = await resolveGlobs('images', ['a.png\n\n  # a comment\r\n  b.jpg  \n'], ws);
    expect(result).toEqual({ files: ['a.png', 'b.jpg'], problems: [] });
  });

  it('never returns folders: * is the files at the top, ** goes down', async () => {
    const top = await resolveGlobs('images', ['*'], ws);
    expect(top).toEqual({ files: ['Z.png', 'a.png', 'art-b.png', 'b.jpg', 'notes.txt'], problems: [] });
    const all = await resolveGlobs('images', ['**'], ws);
    expect(all.files).toEqual([
      'Z.png', 'a.png', 'art-b.png', 'art/deep/y.png', 'art/deep/z.txt', 'art/x.png', 'b.jpg', 'notes.txt', 'only-dir/sub/c.webp'
    ]);
    const below = await resolveGlobs('images', ['art/**'], ws);
    expect(below.files).toEqual(['art/deep/y.png', 'art/deep/z.txt', 'art/x.png']);
  });

  it('says a pattern naming a folder matches no file, with a hint', async () => {
    const result = await resolveGlobs('images', ['art', 'only-dir/'], ws);
    expect(result.files).toEqual([]);
    expect(result.problems).toEqual([
      'images: no file matches the pattern "art" (a folder: "art/**" matches the files in it)',
      'images: no file matches the pattern "only-dir/" (a folder: "only-dir/**" matches the files in it)'
    ]);
  });

  it('names each include pattern that matches nothing, and still lists the rest', async () => {
    const result = await resolveGlobs('reference-images', ['a.png', 'missing/*.gif', 'empty-dir', 'folder.png'], ws);
    expect(result.files).toEqual(['a.png']);
    expect(result.problems).toEqual([
      'reference-images: no file matches the pattern "missing/*.gif"',
      'reference-images: no file matches the pattern "empty-dir" (a folder: "empty-dir/**" matches the files in it)',
      'reference-images: no file matches the pattern "folder.png" (a folder: "folder.png/**" matches the files in it)'
    ]);
  });

  it('accepts a pattern whose matches are all excluded (emptiness is judged before excludes)', async () => {
    const result = await resolveGlobs('images', ['a.png', '*.jpg', '!*.jpg'], ws);
    expect(result).toEqual({ files: ['a.png'], problems: [] });
  });

  it('treats only-excludes as a problem and no patterns as nothing', async () => {
    const result = await resolveGlobs('images', ['!*.png'], ws);
    expect(result.files).toEqual([]);
    expect(result.problems).toEqual(['images: only "!" excludes (!*.png) and no pattern that includes files']);
    expect(await resolveGlobs('reference-images', [], ws)).toEqual({ files: [], problems: [] });
    expect(await resolveGlobs('reference-images', ['', '# nothing'], ws)).toEqual({ files: [], problems: [] });
  });

  it('reports a pattern with .. as invalid', async () => {
    const result = await resolveGlobs('images', ['../outside/*.png'], ws);
    expect(result.files).toEqual([]);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/^images: invalid pattern "\.\.\/outside\/\*\.png": /);
  });

  it('refuses an absolute pattern that matches outside the workspace', async () => {
    const result = await resolveGlobs('images', [`${outside}/*.png`], ws);
    expect(result.files).toEqual([]);
    expect(result.problems).toEqual([`images: the match ${path.join(outside, 'secret.png')} is outside the workspace`]);
  });

  it('accepts an absolute pattern inside the workspace', async () => {
    const escaped = ws.replace(/[[*?]/g, c => `[${c}]`);
    const result = await resolveGlobs('images', [`${escaped}/art/*.png`], ws);
    expect(result).toEqual({ files: ['art/x.png'], problems: [] });
  });

  describe('with symbolic links', () => {
    let linked: string;
    beforeAll(async () => {
      linked = await fs.mkdtemp(path.join(base, 'linked-'));
      await put(path.join(linked, 'own.png'));
      await fs.symlink(path.join(outside, 'secret.png'), path.join(linked, 'leak.png'));
      await fs.symlink(path.join(outside, 'dir'), path.join(linked, 'leakdir'));
      await fs.symlink(path.join(linked, 'own.png'), path.join(linked, 'alias.png'));
    });

    it('refuses a file or folder link that leads outside, keeps links that stay inside', async () => {
      const result = await resolveGlobs('images', ['**/*.png'], linked);
      expect(result.files).toEqual(['alias.png', 'own.png']);
      expect(result.problems.sort()).toEqual([
        `images: the match leak.png is outside the workspace (it leads to ${path.join(outside, 'secret.png')})`,
        `images: the match leakdir/inner.png is outside the workspace (it leads to ${path.join(outside, 'dir', 'inner.png')})`
      ]);
    });

    it('works when the workspace path itself is a symbolic link', async () => {
      const via = path.join(base, 'ws-link');
      await fs.symlink(linked, via);
      const result = await resolveGlobs('images', ['own.png', 'alias.png'], via);
      expect(result).toEqual({ files: ['alias.png', 'own.png'], problems: [] });
    });
  });
});

describe('insideWorkspace', () => {
  let root: string;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(base, 'inside-'));
    await put(path.join(root, 'art', 'a.png'));
    await fs.symlink(outside, path.join(root, 'out'));
    await fs.symlink(path.join(outside, 'secret.png'), path.join(root, 'secret.png'));
    await fs.symlink(path.join(base, 'does-not-exist'), path.join(root, 'dangling'));
    await fs.symlink(path.join(root, 'art'), path.join(root, 'art-alias'));
  });

  it('returns the absolute path, existing or not', async () => {
    expect(await insideWorkspace(root, 'art/a.png', 'images')).toBe(path.join(root, 'art', 'a.png'));
    expect(await insideWorkspace(root, 'new/deeper/b.png', 'output-path')).toBe(path.join(root, 'new', 'deeper', 'b.png'));
    expect(await insideWorkspace(root, 'art/../c.png', 'output-path')).toBe(path.join(root, 'c.png'));
    expect(await insideWorkspace(root, 'art-alias/new.png', 'output-path')).toBe(path.join(root, 'art-alias', 'new.png'));
  });

  it('refuses .. out of the workspace, naming the input and the path', async () => {
    await expect(insideWorkspace(root, '../x.png', 'output-path')).rejects.toThrow('output-path: ../x.png is outside the workspace');
    await expect(insideWorkspace(root, 'art/../../x.png', 'mask')).rejects.toThrow('mask: art/../../x.png is outside the workspace');
  });

  it('refuses absolute and empty paths', async () => {
    await expect(insideWorkspace(root, path.join(root, 'a.png'), 'manifest')).rejects.toThrow(
      `manifest: ${path.join(root, 'a.png')} is an absolute path; it must be relative to the workspace`
    );
    await expect(insideWorkspace(root, '', 'manifest')).rejects.toThrow('manifest: the path is empty');
  });

  it('refuses a path through a linked folder that leads outside', async () => {
    await expect(insideWorkspace(root, 'out/new/x.png', 'output-path')).rejects.toThrow(
      `output-path: out/new/x.png leads outside the workspace through a symbolic link (its folder out leads to ${outside})`
    );
  });

  it('refuses an existing file link that leads outside', async () => {
    await expect(insideWorkspace(root, 'secret.png', 'mask')).rejects.toThrow(
      `mask: secret.png leads outside the workspace through a symbolic link (to ${path.join(outside, 'secret.png')})`
    );
  });

  it('refuses a broken link on the way', async () => {
    await expect(insideWorkspace(root, 'dangling', 'output-path')).rejects.toThrow('output-path: dangling goes through a broken symbolic link (dangling)');
    await expect(insideWorkspace(root, 'dangling/x.png', 'output-path')).rejects.toThrow('goes through a broken symbolic link (dangling)');
  });
});

describe('writeFileAtomic', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(base, 'write-'));
  });

  async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
    for (const part of parts) {
      await new Promise(resolve => setImmediate(resolve));
      yield new TextEncoder().encode(part);
    }
  }

  async function* failing(): AsyncGenerator<Uint8Array> {
    yield new TextEncoder().encode('half of ');
    throw new Error('the download broke');
  }

  it('writes bytes, creating parent folders, and leaves no temporary file', async () => {
    const target = path.join(dir, 'a', 'b', 'c.png');
    await writeFileAtomic(target, new TextEncoder().encode('hello'));
    expect(await fs.readFile(target, 'utf8')).toBe('hello');
    expect(await fs.readdir(path.dirname(target))).toEqual(['c.png']);
  });

  it('writes the chunks of an async iterable in order', async () => {
    const target = path.join(dir, 'chunks.bin');
    await writeFileAtomic(target, chunks('one ', 'two ', 'three'));
    expect(await fs.readFile(target, 'utf8')).toBe('one two three');
  });

  it('replaces an existing file by default', async () => {
    const target = path.join(dir, 'replace.txt');
    await fs.writeFile(target, 'old');
    await writeFileAtomic(target, new TextEncoder().encode('new'));
    expect(await fs.readFile(target, 'utf8')).toBe('new');
  });

  it('with overwrite false, refuses an existing target naming it, keeps it, and leaves no temporary file', async () => {
    const folder = path.join(dir, 'keep');
    const target = path.join(folder, 'kept.png');
    await put(target, 'original');
    await expect(writeFileAtomic(target, new TextEncoder().encode('new'), { overwrite: false })).rejects.toThrow(
      `${target} already exists (overwrite is false)`
    );
    expect(await fs.readFile(target, 'utf8')).toBe('original');
    expect(await fs.readdir(folder)).toEqual(['kept.png']);
  });

  it('with overwrite false, writes a new target', async () => {
    const target = path.join(dir, 'fresh', 'new.png');
    await writeFileAtomic(target, chunks('fresh'), { overwrite: false });
    expect(await fs.readFile(target, 'utf8')).toBe('fresh');
    expect(await fs.readdir(path.dirname(target))).toEqual(['new.png']);
  });

  it('with overwrite false, lets exactly one of several racing writers win', async () => {
    const target = path.join(dir, 'race', 'one.txt');
    const writers = Array.from({ length: 6 }, (_, i) => writeFileAtomic(target, chunks(`writer ${i}`), { overwrite: false }));
    const outcomes = await Promise.allSettled(writers);
    const winners = outcomes.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(await fs.readFile(target, 'utf8')).toBe(`writer ${winners[0]}`);
    expect(await fs.readdir(path.dirname(target))).toEqual(['one.txt']);
  });

  it('leaves neither target nor temporary file when the iterable fails, and rethrows its error', async () => {
    const folder = path.join(dir, 'fails');
    const target = path.join(folder, 'broken.png');
    await expect(writeFileAtomic(target, failing())).rejects.toThrow(/^the download broke$/);
    expect(await fs.readdir(folder)).toEqual([]);
  });

  it('leaves an existing target untouched when the iterable fails', async () => {
    const folder = path.join(dir, 'fails-existing');
    const target = path.join(folder, 'keep.png');
    await put(target, 'previous result');
    await expect(writeFileAtomic(target, failing())).rejects.toThrow('the download broke');
    expect(await fs.readFile(target, 'utf8')).toBe('previous result');
    expect(await fs.readdir(folder)).toEqual(['keep.png']);
  });

  it('names the target when the file system refuses, and cleans up', async () => {
    const folder = path.join(dir, 'is-dir');
    const target = path.join(folder, 'taken');
    await fs.mkdir(path.join(target, 'child'), { recursive: true });
    await expect(writeFileAtomic(target, new TextEncoder().encode('x'))).rejects.toThrow(`Could not write ${target}:`);
    expect(await fs.readdir(folder)).toEqual(['taken']);
  });
});
