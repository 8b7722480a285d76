/**
 * The manifest: a JSON file in the workspace (default `.image-edits.json`,
 * committed with the outputs) recording, per source, a fingerprint of what went
 * into its edit and the outputs it produced. Pure storage and hashing: whether
 * an entry means "skip" is the caller's decision.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { writeFileAtomic } from './files.js';

export interface ManifestEntry {
  /** `fingerprint()` of the edit that produced `outputs`. */
  fingerprint: string;
  /** Workspace-relative POSIX paths written for this source. */
  outputs: string[];
  /** ISO 8601 time of the edit. */
  editedAt: string;
}

export interface Manifest {
  version: 1;
  /** Keyed by the source's workspace-relative POSIX path. */
  entries: Record<string, ManifestEntry>;
}

/** Bumped when the fingerprint's recipe changes, so old entries no longer match. */
const FINGERPRINT_RECIPE = 1;

/** A manifest with no entries. */
export function emptyManifest(): Manifest {
  return { version: 1, entries: Object.create(null) as Record<string, ManifestEntry> };
}

/**
 * Reads the manifest at `file`. A missing file is an empty manifest; a file
 * that is not valid JSON or not a version 1 manifest throws an Error naming
 * the path and what is wrong. Unknown fields are dropped.
 */
export async function loadManifest(file: string): Promise<Manifest> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyManifest();
    throw new Error(`Could not read the manifest ${file}: ${(error as Error).message}`, { cause: error });
  }
  return parseManifest(text, file);
}

/** A manifest from its text; throws an Error naming `file` and what is wrong (see loadManifest). */
export function parseManifest(text: string, file: string): Manifest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`The manifest ${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const corrupt = (what: string) => new Error(`The manifest ${file} is corrupt: ${what}`);
  if (!isObject(data)) throw corrupt('it is not a JSON object');
  if (data.version !== 1) throw corrupt(`version is ${JSON.stringify(data.version)}, expected 1`);
  if (!isObject(data.entries)) throw corrupt('"entries" is not an object');
  const manifest = emptyManifest();
  for (const [source, entry] of Object.entries(data.entries)) {
    const where = `entry ${JSON.stringify(source)}`;
    if (!isObject(entry)) throw corrupt(`${where} is not an object`);
    if (typeof entry.fingerprint !== 'string') throw corrupt(`${where} has no "fingerprint" string`);
    if (!Array.isArray(entry.outputs) || !entry.outputs.every(output => typeof output === 'string')) {
      throw corrupt(`${where} has no "outputs" list of paths`);
    }
    if (typeof entry.editedAt !== 'string') throw corrupt(`${where} has no "editedAt" string`);
    manifest.entries[source] = { fingerprint: entry.fingerprint, outputs: [...entry.outputs], editedAt: entry.editedAt };
  }
  return manifest;
}

/**
 * Writes the manifest to `file` atomically (writeFileAtomic, parent folders
 * created): entries sorted by source path (plain code-unit order), each entry's
 * fields in a fixed order, 2-space JSON and a final newline, so diffs stay
 * small and the same manifest always gives the same bytes.
 */
export async function saveManifest(file: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(file, new TextEncoder().encode(formatManifest(manifest)));
}

/**
 * The text of `ours` merged into `theirs` (the manifest on the branch, e.g. written meanwhile by
 * another shard): every entry of both, ours winning for a source in both. A missing or unreadable
 * `theirs` gives `ours` as it is.
 */
export function mergeManifestText(theirs: string | undefined, ours: string, file: string): string {
  if (theirs === undefined) return ours;
  let base: Manifest;
  try {
    base = parseManifest(theirs, file);
  } catch {
    return ours;
  }
  const mine = parseManifest(ours, file);
  for (const [source, entry] of Object.entries(mine.entries)) base.entries[source] = entry;
  return formatManifest(base);
}

/** The exact text `saveManifest` writes. */
export function formatManifest(manifest: Manifest): string {
  const entries: Record<string, ManifestEntry> = Object.create(null);
  for (const source of Object.keys(manifest.entries).sort(compareCodeUnits)) {
    const entry = manifest.entries[source];
    entries[source] = { fingerprint: entry.fingerprint, outputs: [...entry.outputs], editedAt: entry.editedAt };
  }
  return `${JSON.stringify({ version: 1, entries }, null, 2)}\n`;
}

/**
 * A sha256 fingerprint (hex) of everything that decides an edit's result: the
 * source bytes, the mask bytes (or that there is none), the rendered prompt,
 * the reference images' bytes in order, and the request parameters (as JSON
 * with keys sorted at every level; undefined values left out). A file is given
 * by its path (hashed as a stream, never held in memory whole) or, when it was
 * read already, with its bytes. Each part is hashed on its own and
 * the parts are combined in a fixed layout, so bytes cannot shift from one part
 * to another. File names do not count, only contents. A file that cannot be
 * read throws an Error naming it.
 */
export async function fingerprint(parts: {
  source: HashedFile;
  mask?: HashedFile;
  references: HashedFile[];
  prompt: string;
  params: object;
}): Promise<string> {
  const summary = {
    recipe: FINGERPRINT_RECIPE,
    source: await hashFile(parts.source),
    mask: parts.mask === undefined ? null : await hashFile(parts.mask),
    references: [] as string[],
    prompt: sha256(parts.prompt),
    params: sha256(stableJson(parts.params))
  };
  for (const reference of parts.references) summary.references.push(await hashFile(reference));
  return sha256(stableJson(summary));
}

/** Every output path the manifest records (an output is never taken as a source). */
export function recordedOutputs(manifest: Manifest): Set<string> {
  const outputs = new Set<string>();
  for (const entry of Object.values(manifest.entries)) {
    for (const output of entry.outputs) outputs.add(output);
  }
  return outputs;
}

/** JSON with object keys sorted (plain code-unit order) at every level; arrays keep their order. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (!isObject(item)) return item;
    const sorted: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(item).sort(compareCodeUnits)) sorted[key] = item[key];
    return sorted;
  });
}

/** A file to fingerprint: its path, or its path and the bytes read from it. */
export type HashedFile = string | { path: string; bytes: Uint8Array };

async function hashFile(file: HashedFile): Promise<string> {
  const hash = createHash('sha256');
  if (typeof file !== 'string') return hash.update(file.bytes).digest('hex');
  try {
    await pipeInto(file, hash);
  } catch (error) {
    throw new Error(`Could not read ${file} to fingerprint it: ${(error as Error).message}`, { cause: error });
  }
  return hash.digest('hex');
}

async function pipeInto(file: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
