/**
 * The defaults of action.yml's inputs, as the GitHub runner passes them to the
 * action (`INPUT_<NAME>`). Shared by the demo, the benchmark and the tests that
 * run dist/index.js the way the runner does. Plain Node, no dependencies.
 */
import { readFileSync } from 'node:fs';

/**
 * Input defaults from an action.yml (`inputs:` → `<name>:` → `default:`); inputs
 * without a default map to ''. Expression defaults (`${{ … }}`) are left out.
 * @param {string} file path of action.yml
 * @returns {Record<string, string>}
 */
export function actionDefaults(file) {
  /** @type {Record<string, string>} */
  const defaults = {};
  let inInputs = false;
  /** @type {string | undefined} */
  let current;
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    if (/^\S/.test(line)) {
      inInputs = /^inputs:\s*$/.test(line);
      current = undefined;
      continue;
    }
    if (!inInputs) continue;
    const name = /^ {2}([A-Za-z0-9_-]+):\s*$/.exec(line);
    if (name) {
      current = name[1];
      defaults[current] = '';
      continue;
    }
    const value = /^ {4}default:\s*(.*?)\s*$/.exec(line);
    if (current && value) {
      let v = value[1];
      if (/^'.*'$/.test(v)) v = v.slice(1, -1).replace(/''/g, "'");
      else if (/^".*"$/.test(v)) v = JSON.parse(v);
      if (v.includes('${{')) delete defaults[current];
      else defaults[current] = v;
    }
  }
  return defaults;
}
