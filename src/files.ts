/**
 * The filesystem side: resolving `images`-style globs inside the workspace,
 * keeping paths inside it, and writing files atomically.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, realpathSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as glob from '@actions/glob';
import { mapConcurrent } from './concurrency.js';

/**
 * Resolves newline-separated globs (`@actions/glob` syntax: `*`, `**`, `?`,
 * `[...]`, `!` excludes, `#` comments) relative to `workspace`; absolute
 * patterns are taken as they are. Each element of `patterns` may itself hold
 * several lines. Returns the matching FILES (never folders) as sorted (plain
 * code-unit order), de-duplicated, workspace-relative POSIX paths.
 *
 * Includes match like a shell: `*` is the files at the top only, `**` goes
 * down, and a pattern naming a folder matches nothing (`art/**` gives its
 * files). An exclude also takes everything below what it names (`!art/old`
 * drops the files in `art/old`). Patterns apply in order, as @actions/glob
 * applies them: a later include can take back what an earlier `!` dropped.
 *
 * Problems (each naming `input`), reported all at once rather than thrown:
 * - an include pattern that matches no file at all, judged BEFORE the `!`
 *   excludes apply (a pattern whose matches are all excluded is fine);
 * - an invalid pattern (for example one with a `..` segment);
 * - a match outside the workspace, also through a symbolic link (its real path
 *   is compared with the workspace's real path);
 * - a match that is not a regular file (a socket, a device).
 * Only `!` excludes and no include pattern is a problem too. No pattern at all
 * gives no files and no problem.
 */
export async function resolveGlobs(
  input: string,
  patterns: string[],
  workspace: string
): Promise<{ files: string[]; problems: string[] }> {
  const root = path.resolve(workspace);
  const problems: string[] = [];
  const lines = patterns
    .flatMap(p => p.split(/\r?\n/))
    .map(line => line.trim())
    .filter(line => line !== '' && !line.startsWith('#'));
  if (lines.length === 0) return { files: [], problems };

  const anchored = lines.map(line => ({ line, ...anchorPattern(line, root) }));
  const includes = anchored.filter(p => !p.negate);
  if (includes.length === 0) {
    problems.push(`${input}: only "!" excludes (${lines.join(', ')}) and no pattern that includes files`);
    return { files: [], problems };
  }

  // One globber per include pattern, to name the ones that match nothing.
  let valid = true;
  let onlyMatches: string[] | undefined;
  for (const pattern of includes) {
    let matches: string[];
    try {
      matches = await globFiles(pattern.anchored);
      onlyMatches = matches;
    } catch (error) {
      problems.push(`${input}: invalid pattern "${pattern.line}": ${(error as Error).message}`);
      valid = false;
      continue;
    }
    if (matches.length === 0) {
      const hint = (await isFolder(root, pattern.line)) ? ` (a folder: "${pattern.line.replace(/\/+$/, '')}/**" matches the files in it)` : '';
      problems.push(`${input}: no file matches the pattern "${pattern.line}"${hint}`);
    }
  }
  for (const pattern of anchored.filter(p => p.negate)) {
    try {
      await glob.create(pattern.anchored);
    } catch (error) {
      problems.push(`${input}: invalid pattern "${pattern.line}": ${(error as Error).message}`);
      valid = false;
    }
  }
  if (!valid) return { files: [], problems };

  // One globber for the whole list, so excludes work exactly as @actions/glob applies them
  // (one include and no exclude: its matches are already there).
  const matches =
    anchored.length === 1 && onlyMatches
      ? onlyMatches
      : await globFiles(anchored.flatMap(p => (p.negate ? [p.anchored, below(p.anchored)] : [p.anchored])).join('\n'));
  const realRoot = await fs.realpath(root);
  // Where each match leads, looked up a few at a time (hundreds of files: one at a time is slow).
  const found = await mapConcurrent(matches, 16, async (match): Promise<{ real: string; isFile: boolean } | { error: Error }> => {
    try {
      const real = await fs.realpath(match);
      return { real, isFile: (await fs.stat(real)).isFile() };
    } catch (error) {
      return { error: error as Error };
    }
  });
  const files = new Set<string>();
  for (const [index, match] of matches.entries()) {
    const lookup = found[index];
    if ('error' in lookup) {
      problems.push(`${input}: cannot read the match ${match}: ${lookup.error.message}`);
      continue;
    }
    const { real, isFile } = lookup;
    if (!isInside(realRoot, real)) {
      const shown = isInside(root, match) ? toPosix(path.relative(root, match)) : match;
      problems.push(
        `${input}: the match ${shown} is outside the workspace` + (real !== match ? ` (it leads to ${real})` : '')
      );
      continue;
    }
    // Name the match as it was found when that is inside the workspace (a symlink keeps its own name).
    const relative = isInside(root, match) ? path.relative(root, match) : path.relative(realRoot, real);
    if (!isFile) {
      problems.push(`${input}: the match ${toPosix(relative)} is not a regular file`);
      continue;
    }
    files.add(toPosix(relative));
  }
  return { files: [...files].sort(compareCodeUnits), problems };
}

/**
 * Absolute path of a workspace-relative path. Throws an Error naming `what` and
 * the path when it is empty, absolute, leaves the workspace lexically (`..`), or
 * leaves it through a symbolic link: an existing file or parent folder on the
 * way whose real path is outside the workspace's real path, or a broken link.
 * The path itself need not exist.
 */
export async function insideWorkspace(workspace: string, relative: string, what: string): Promise<string> {
  const root = path.resolve(workspace);
  if (relative === '') throw new Error(`${what}: the path is empty`);
  if (path.isAbsolute(relative)) {
    throw new Error(`${what}: ${relative} is an absolute path; it must be relative to the workspace`);
  }
  const absolute = path.resolve(root, relative);
  if (!isInside(root, absolute)) throw new Error(`${what}: ${relative} is outside the workspace`);

  const realRoot = realpathSync.native(root);
  // The deepest existing part of the path decides where it really leads. The checks are
  // synchronous metadata reads that throw nothing for a missing path: this runs for every
  // file read and written, and a thread-pool round trip (and an error) per step cost more.
  let existing = absolute;
  for (;;) {
    const info = lstatSync(existing, { throwIfNoEntry: false });
    if (info) {
      const real = realpathOrUndefined(existing);
      if (real === undefined) {
        throw new Error(`${what}: ${relative} goes through a broken symbolic link (${toPosix(path.relative(root, existing))})`);
      }
      if (isInside(realRoot, real)) return absolute;
      const via = existing === absolute ? `to ${real}` : `its folder ${toPosix(path.relative(root, existing))} leads to ${real}`;
      throw new Error(`${what}: ${relative} leads outside the workspace through a symbolic link (${via})`);
    }
    const parent = path.dirname(existing);
    if (parent === existing) return absolute;
    existing = parent;
  }
}

/** The real path of an existing path, or undefined when it leads nowhere (a broken link, a loop). */
function realpathOrUndefined(file: string): string | undefined {
  try {
    return realpathSync.native(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined;
    throw error;
  }
}

/**
 * Writes `data` (bytes, or an async iterable of byte chunks) to `target`
 * atomically: into a temporary file in the same folder (`.name.<random>.tmp`),
 * fsync, then renamed over the target, so readers never see a partial file.
 * Creates parent folders. With `overwrite: false` an existing target is an
 * error naming it (the check and the write are one step: a hard link of the
 * temporary file, which fails if the target exists). On any failure the
 * temporary file is removed and an existing target is left untouched. An error
 * thrown by the `data` iterable is rethrown as it is; file errors name `target`.
 */
export async function writeFileAtomic(
  target: string,
  data: Uint8Array | AsyncIterable<Uint8Array>,
  options: { overwrite?: boolean } = {}
): Promise<void> {
  const overwrite = options.overwrite ?? true;
  const folder = path.dirname(target);
  // A long name is cut so the temporary name stays within the usual 255-byte limit.
  const temp = path.join(folder, `.${path.basename(target).slice(0, 200)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.FileHandle | undefined;
  let fromSource = false;
  try {
    await fs.mkdir(folder, { recursive: true });
    handle = await fs.open(temp, 'wx');
    if (data instanceof Uint8Array) {
      await writeAll(handle, data);
    } else {
      let writing = false;
      try {
        for await (const chunk of data) {
          writing = true;
          await writeAll(handle, chunk);
          writing = false;
        }
      } catch (error) {
        fromSource = !writing;
        throw error;
      }
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    if (overwrite) {
      await fs.rename(temp, target);
    } else {
      await linkExclusive(temp, target);
      await fs.unlink(temp);
    }
  } catch (error) {
    if (handle) await handle.close().catch(() => undefined);
    await fs.rm(temp, { force: true }).catch(() => undefined);
    if (fromSource || error instanceof TargetExistsError) throw error;
    throw new Error(`Could not write ${target}: ${(error as Error).message}`, { cause: error });
  }
  await syncFolder(folder);
}

/** Thrown by writeFileAtomic with `overwrite: false` when the target exists. */
export class TargetExistsError extends Error {
  constructor(readonly target: string) {
    super(`${target} already exists (overwrite is false)`);
    this.name = 'TargetExistsError';
  }
}

/** Puts `temp` at `target` unless `target` exists; never replaces it. */
async function linkExclusive(temp: string, target: string): Promise<void> {
  try {
    await fs.link(temp, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new TargetExistsError(target);
    // Filesystems without hard links: check, then rename (a narrow race, the best they allow).
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
      if (await exists(target)) throw new TargetExistsError(target);
      await fs.rename(temp, target);
      return;
    }
    throw error;
  }
}

async function writeAll(handle: fs.FileHandle, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.length - written);
    written += bytesWritten;
  }
}

/** Makes the rename durable; best effort (not every platform can open a folder). */
async function syncFolder(folder: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(folder, 'r');
    await handle.sync();
  } catch {
    // ignore: durability of the folder entry is a bonus, not a promise
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Makes a pattern absolute under the workspace, keeping its `!` prefix. The
 * workspace path is escaped so its own `*`, `?` or `[` are literal. Absolute
 * patterns and `~` (home) patterns are left as they are (their matches are
 * then checked like any other).
 */
function anchorPattern(line: string, root: string): { negate: boolean; anchored: string } {
  let body = line;
  let negate = false;
  while (body.startsWith('!')) {
    negate = !negate;
    body = body.slice(1).trim();
  }
  if (!path.isAbsolute(body) && body !== '~' && !body.startsWith('~/')) {
    body = body.replace(/^(\.\/+)+/, '');
    body = body === '.' || body === '' ? globEscape(root) : `${globEscape(root)}/${body}`;
  }
  return { negate, anchored: `${negate ? '!' : ''}${body}` };
}

/** Escapes a literal path for @actions/glob (its own rules, POSIX). */
function globEscape(literal: string): string {
  return literal
    .replace(/\\/g, '\\\\')
    .replace(/(\[)(?=[^/]+\])/g, '[[]')
    .replace(/\?/g, '[?]')
    .replace(/\*/g, '[*]');
}

/** For an exclude `!X`, the exclude `!X/**` of everything below it (unless X already ends in `**`). */
function below(exclude: string): string {
  const trimmed = exclude.replace(/\/+$/, '');
  return trimmed.endsWith('/**') ? trimmed : `${trimmed}/**`;
}

async function globFiles(patterns: string): Promise<string[]> {
  const globber = await glob.create(patterns, { matchDirectories: false, implicitDescendants: false });
  return globber.glob();
}

/** True when a pattern without glob characters names an existing folder. */
async function isFolder(root: string, line: string): Promise<boolean> {
  if (/[*?[\\]/.test(line)) return false;
  try {
    return (await fs.stat(path.resolve(root, line))).isDirectory();
  } catch {
    return false;
  }
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative));
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch {
    return false;
  }
}

function toPosix(relative: string): string {
  return relative.split(path.sep).join('/');
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
