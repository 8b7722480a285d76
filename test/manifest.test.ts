import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  emptyManifest,
  fingerprint,
  formatManifest,
  loadManifest,
  mergeManifestText,
  recordedOutputs,
  saveManifest,
  stableJson,
  type Manifest
} from '../src/manifest.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'manifest-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const full = path.join(dir, name);
  await fs.writeFile(full, content);
  return full;
}

function sample(): Manifest {
  return {
    version: 1,
    entries: {
      'zeta/b.png': { fingerprint: 'f2', outputs: ['zeta/b.edited-1.png', 'zeta/b.edited-2.png'], editedAt: '2025-01-02T00:00:00.000Z' },
      'Alpha.png': { fingerprint: 'f1', outputs: ['Alpha.edited.png'], editedAt: '2025-01-01T00:00:00.000Z' },
      'art-x.png': { fingerprint: 'f3', outputs: [], editedAt: '2025-01-03T00:00:00.000Z' },
      'art/a.png': { fingerprint: 'f4', outputs: ['art/a.edited.webp'], editedAt: '2025-01-04T00:00:00.000Z' }
    }
  };
}

describe('loadManifest / saveManifest', () => {
  it('reads a missing file as an empty manifest', async () => {
    expect(await loadManifest(path.join(dir, 'missing.json'))).toEqual({ version: 1, entries: {} });
  });

  it('round-trips, creating the parent folder', async () => {
    const target = path.join(dir, 'nested', 'folder', '.image-edits.json');
    await saveManifest(target, sample());
    expect(await loadManifest(target)).toEqual(sample());
    expect(await fs.readdir(path.dirname(target))).toEqual(['.image-edits.json']);
  });

  it('writes sorted keys (code-unit order), fixed field order, 2-space JSON and a final newline', async () => {
    const target = path.join(dir, 'stable.json');
    await saveManifest(target, sample());
    const text = await fs.readFile(target, 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.startsWith('{\n  "version": 1,\n  "entries": {\n    "Alpha.png": {\n      "fingerprint": "f1",\n')).toBe(true);
    const parsed = JSON.parse(text) as Manifest;
    expect(Object.keys(parsed.entries)).toEqual(['Alpha.png', 'art-x.png', 'art/a.png', 'zeta/b.png']);
    expect(Object.keys(parsed.entries['zeta/b.png'])).toEqual(['fingerprint', 'outputs', 'editedAt']);
    // Output order is kept (variants -1, -2 …).
    expect(parsed.entries['zeta/b.png'].outputs).toEqual(['zeta/b.edited-1.png', 'zeta/b.edited-2.png']);
  });

  it('gives the same bytes for the same manifest, whatever the insertion order', async () => {
    const reversed: Manifest = { version: 1, entries: Object.fromEntries(Object.entries(sample().entries).reverse()) };
    expect(formatManifest(reversed)).toBe(formatManifest(sample()));
    const target = path.join(dir, 'again.json');
    await saveManifest(target, await loadManifest(await file('first.json', formatManifest(reversed))));
    expect(await fs.readFile(target, 'utf8')).toBe(formatManifest(sample()));
  });

  it('keeps a source named __proto__ as a plain entry', async () => {
    const text = '{"version":1,"entries":{"__proto__":{"fingerprint":"p","outputs":["o.png"],"editedAt":"t"}}}';
    const manifest = await loadManifest(await file('proto.json', text));
    expect(Object.keys(manifest.entries)).toEqual(['__proto__']);
    expect(manifest.entries['__proto__']).toEqual({ fingerprint: 'p', outputs: ['o.png'], editedAt: 't' });
    expect(recordedOutputs(manifest)).toEqual(new Set(['o.png']));
    expect(({} as Record<string, unknown>).fingerprint).toBeUndefined();
  });

  it.each([
    ['bad-json.json', '{"version": 1,', /^The manifest .*bad-json\.json is not valid JSON: /],
    ['bad-array.json', '[]', /^The manifest .*bad-array\.json is corrupt: it is not a JSON object$/],
    ['bad-version.json', '{"version":2,"entries":{}}', /bad-version\.json is corrupt: version is 2, expected 1$/],
    ['bad-entries.json', '{"version":1}', /bad-entries\.json is corrupt: "entries" is not an object$/],
    [
      'bad-outputs.json',
      '{"version":1,"entries":{"a.png":{"fingerprint":"x","editedAt":"t"}}}',
      /bad-outputs\.json is corrupt: entry "a\.png" has no "outputs" list of paths$/
    ],
    [
      'bad-fingerprint.json',
      '{"version":1,"entries":{"a.png":{"fingerprint":1,"outputs":[],"editedAt":"t"}}}',
      /bad-fingerprint\.json is corrupt: entry "a\.png" has no "fingerprint" string$/
    ]
  ])('refuses %s, naming the file', async (name, text, expected) => {
    const full = await file(name, text);
    await expect(loadManifest(full)).rejects.toThrow(expected);
    await expect(loadManifest(full)).rejects.toThrow(full);
  });
});

describe('mergeManifestText', () => {
  const entry = (fingerprint: string, output: string) => ({ fingerprint: fingerprint.repeat(64), outputs: [output], editedAt: '2026-01-01T00:00:00.000Z' });
  const text = (entries: Record<string, ReturnType<typeof entry>>) => formatManifest({ version: 1, entries });

  it("keeps the other job's entries and ours, ours winning for a source in both", () => {
    const theirs = text({ 'a.png': entry('a', 'a.e.png'), 'b.png': entry('b', 'b.e.png') });
    const ours = text({ 'b.png': entry('c', 'b.e.png'), 'c.png': entry('d', 'c.e.png') });
    expect(mergeManifestText(theirs, ours, 'm.json')).toBe(
      text({ 'a.png': entry('a', 'a.e.png'), 'b.png': entry('c', 'b.e.png'), 'c.png': entry('d', 'c.e.png') })
    );
  });

  it('gives ours as it is when there is none on the branch, or it cannot be read', () => {
    const ours = text({ 'c.png': entry('d', 'c.e.png') });
    expect(mergeManifestText(undefined, ours, 'm.json')).toBe(ours);
    expect(mergeManifestText('not json', ours, 'm.json')).toBe(ours);
    expect(mergeManifestText('{"version": 2, "entries": {}}', ours, 'm.json')).toBe(ours);
  });
});

describe('recordedOutputs', () => {
  it('collects every output of every entry', () => {
    expect(recordedOutputs(sample())).toEqual(
      new Set(['zeta/b.edited-1.png', 'zeta/b.edited-2.png', 'Alpha.edited.png', 'art/a.edited.webp'])
    );
    expect(recordedOutputs(emptyManifest()).size).toBe(0);
  });
});

describe('fingerprint', () => {
  let source: string;
  let mask: string;
  let refA: string;
  let refB: string;
  let base: { source: string; mask?: string; references: string[]; prompt: string; params: object };

  beforeAll(async () => {
    source = await file('source.png', 'source bytes');
    mask = await file('mask.png', 'mask bytes');
    refA = await file('ref-a.png', 'reference A');
    refB = await file('ref-b.png', 'reference B');
    base = { source, mask, references: [refA, refB], prompt: 'Make it blue', params: { model: 'gpt-image-1', n: 1, size: '1024x1024' } };
  });

  it('is a sha256 hex digest and the same for the same inputs', async () => {
    const first = await fingerprint(base);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(await fingerprint({ ...base })).toBe(first);
  });

  it('is the same whether a file is given by its path or with the bytes read from it', async () => {
    const read = async (file: string) => ({ path: file, bytes: await fs.readFile(file) });
    const withBytes = { ...base, source: await read(source), mask: await read(mask), references: [await read(refA), refB] };
    expect(await fingerprint(withBytes)).toBe(await fingerprint(base));
    expect(await fingerprint({ ...withBytes, source: { path: source, bytes: Buffer.from('other bytes') } })).not.toBe(await fingerprint(base));
  });

  it('depends on contents, not file names', async () => {
    const copy = await file('copy-of-source.png', 'source bytes');
    expect(await fingerprint({ ...base, source: copy })).toBe(await fingerprint(base));
  });

  it('ignores the order of parameter keys and undefined parameters', async () => {
    const reordered = { size: '1024x1024', n: 1, model: 'gpt-image-1', quality: undefined };
    expect(await fingerprint({ ...base, params: reordered })).toBe(await fingerprint(base));
  });

  it('changes with each part', async () => {
    const original = await fingerprint(base);
    const changedSource = await file('source-2.png', 'source bytes!');
    const changedRef = await file('ref-c.png', 'reference C');
    const variants = await Promise.all([
      fingerprint({ ...base, source: changedSource }),
      fingerprint({ ...base, mask: undefined }),
      fingerprint({ ...base, mask: refA }),
      fingerprint({ ...base, prompt: 'Make it red' }),
      fingerprint({ ...base, references: [refB, refA] }),
      fingerprint({ ...base, references: [refA] }),
      fingerprint({ ...base, references: [refA, changedRef] }),
      fingerprint({ ...base, references: [] }),
      fingerprint({ ...base, params: { model: 'gpt-image-1', n: 2, size: '1024x1024' } }),
      fingerprint({ ...base, params: { model: 'gpt-image-1', n: 1, size: '1024x1024', quality: 'high' } })
    ]);
    expect(new Set([original, ...variants]).size).toBe(variants.length + 1);
  });

  it('does not let bytes shift between parts', async () => {
    const ab = await file('ab.bin', 'ab');
    const a = await file('a.bin', 'a');
    const b = await file('b.bin', 'b');
    const c = await file('c.bin', 'c');
    const left = await fingerprint({ source: ab, mask: c, references: [], prompt: 'p', params: {} });
    const right = await fingerprint({ source: a, mask: b, references: [c], prompt: 'p', params: {} });
    const noMask = await fingerprint({ source: ab, references: [], prompt: 'p', params: {} });
    const emptyMask = await fingerprint({ source: ab, mask: await file('empty.bin', ''), references: [], prompt: 'p', params: {} });
    expect(new Set([left, right, noMask, emptyMask]).size).toBe(4);
  });

  it('hashes a file larger than a stream chunk the same as its bytes say', async () => {
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    const one = await file('big-1.bin', big);
    const two = await file('big-2.bin', big);
    const changed = big.slice();
    changed[299_999] ^= 1;
    const three = await file('big-3.bin', changed);
    const of = (s: string) => fingerprint({ ...base, source: s });
    expect(await of(one)).toBe(await of(two));
    expect(await of(three)).not.toBe(await of(one));
  });

  it('names a file it cannot read', async () => {
    const missing = path.join(dir, 'gone.png');
    await expect(fingerprint({ ...base, references: [refA, missing] })).rejects.toThrow(`Could not read ${missing} to fingerprint it`);
  });
});

describe('stableJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(stableJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });
});
