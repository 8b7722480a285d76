#!/usr/bin/env node
/**
 * Writes <dist>/licenses.txt from every package bundled into <dist>'s chunks.
 *
 * ncc's `--license` lists only the last chunk's packages once a dynamic import()
 * splits the bundle (dist/NNN.index.js), so this replaces its file. The bundled
 * packages are read from the source maps of every chunk (`*.js.map` in <dist>,
 * not in sub-folders); the format is ncc's (license-webpack-plugin's): entries
 * sorted by name, each `name`, the package.json licence, the LICENSE file's text,
 * then a blank line. One entry per package name (the copy nearest the root).
 *
 * usage: node scripts/licenses.mjs dist
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const dist = path.resolve(process.argv[2] ?? 'dist');

/** Package name → directories it was bundled from (relative to the map's folder). */
const packages = new Map();
for (const file of fs.readdirSync(dist).filter(name => name.endsWith('.js.map')).sort()) {
  const map = JSON.parse(fs.readFileSync(path.join(dist, file), 'utf8'));
  for (const source of map.sources ?? []) {
    const match = /^(.*node_modules\/)((?:@[^/]+\/)?[^/]+)\//.exec(source.replace(/^webpack:\/\/[^/]*\//, ''));
    if (!match) continue;
    // The innermost node_modules: the greedy (.*) already took the last one.
    const directory = path.resolve(dist, match[1] + match[2]);
    if (!packages.has(match[2])) packages.set(match[2], new Set());
    packages.get(match[2]).add(directory);
  }
}

/** The package.json licence as license-webpack-plugin reads it. */
function licenseType(manifest) {
  const license = manifest.license ?? manifest.licenses;
  if (typeof license === 'string') return license;
  if (Array.isArray(license)) return license.map(l => (typeof l === 'string' ? l : l.type)).join(' OR ');
  if (license && typeof license === 'object') return license.type;
  return undefined;
}

/** The LICENSE file's text (first file named licen[cs]e*, in directory order), CRLF as LF. */
function licenseText(directory, type) {
  let file;
  if (type && type.startsWith('SEE LICENSE IN ')) file = type.split(' ')[3];
  else file = fs.readdirSync(directory).find(name => /^licen[cs]e/i.test(name) && !fs.statSync(path.join(directory, name)).isDirectory());
  if (!file || !fs.existsSync(path.join(directory, file))) return undefined;
  return fs.readFileSync(path.join(directory, file), 'utf8').replace(/\r\n/g, '\n');
}

const names = [...packages.keys()].sort((a, b) => (a < b ? -1 : 1));
let text = '';
const missing = [];
for (const name of names) {
  // The copy nearest the root (fewest node_modules levels), then by path: deterministic.
  const directory = [...packages.get(name)].sort((a, b) => a.split('node_modules').length - b.split('node_modules').length || (a < b ? -1 : 1))[0];
  const manifest = JSON.parse(fs.readFileSync(path.join(directory, 'package.json'), 'utf8'));
  const type = licenseType(manifest);
  const body = licenseText(directory, type);
  if (!body) missing.push(name);
  text += name + (type ? `\n${type}` : '') + (body ? `\n${body}` : '') + '\n\n';
}
fs.writeFileSync(path.join(dist, 'licenses.txt'), text.trim() + '\n');
console.log(`licenses.txt: ${names.length} packages${missing.length ? ` (no licence file: ${missing.join(', ')})` : ''}`);
