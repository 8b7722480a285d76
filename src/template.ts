/**
 * Placeholders shared by `prompt`, `mask` and `output-path`. For a source
 * `art/icons/logo.png`: `{dir}` = `art/icons` (`.` at the top), `{name}` = `logo`,
 * `{ext}` = `png`, `{path}` = `art/icons/logo`. `output-path` adds `{format}` and
 * `{variant}`. Any other `{word}` is an error.
 */
import * as path from 'node:path';

/** Placeholders every template knows. */
export const SOURCE_PLACEHOLDERS = ['dir', 'name', 'ext', 'path'] as const;
/** Placeholders `output-path` knows. */
export const OUTPUT_PLACEHOLDERS = [...SOURCE_PLACEHOLDERS, 'format', 'variant'] as const;

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_-]*)\}/g;

/** The placeholder names a template uses, in order of first use. */
export function placeholdersIn(template: string): string[] {
  const names = new Set<string>();
  for (const match of template.matchAll(PLACEHOLDER)) names.add(match[1]);
  return [...names];
}

/**
 * Checks a template; returns one problem per unknown placeholder (empty when fine).
 * `input` names the input in the message.
 */
export function checkTemplate(input: string, template: string, allowed: readonly string[]): string[] {
  return placeholdersIn(template)
    .filter(name => !allowed.includes(name))
    .map(
      name =>
        `${input}: unknown placeholder {${name}} in "${template}"; valid placeholders are ${allowed.map(p => `{${p}}`).join(', ')}`
    );
}

/** The source placeholders of a workspace-relative path (POSIX separators). */
export function sourceValues(relativePath: string): Record<(typeof SOURCE_PLACEHOLDERS)[number], string> {
  const posix = relativePath.split(path.sep).join('/');
  const dir = path.posix.dirname(posix);
  const ext = path.posix.extname(posix);
  const name = path.posix.basename(posix, ext);
  return {
    dir,
    name,
    ext: ext.replace(/^\./, ''),
    path: dir === '.' ? name : `${dir}/${name}`
  };
}

/** Replaces every known placeholder; unknown ones are left as they are (checked earlier). */
export function render(template: string, values: Record<string, string>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => (name in values ? values[name] : whole));
}

/** `{variant}` for variant `index` (0-based) of `n`: empty for `n: 1`, else `-1`, `-2`, … */
export function variantSuffix(index: number, n: number): string {
  return n === 1 ? '' : `-${index + 1}`;
}
