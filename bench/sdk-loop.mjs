/**
 * The "SDK loop" of the benchmark: what a user would write with the official
 * `openai` npm client — `images.edit` per file (the image given as
 * `toFile(fs.createReadStream(file), name, {type})`), `concurrency` at a time, each
 * answer's `b64_json` decoded and written to a file. Run as a child process by
 * bench/run.mjs so its time and memory are its own.
 *
 *   node bench/sdk-loop.mjs --in DIR --out DIR --base-url URL --concurrency N [--prompt TEXT] [--model M]
 * The API key comes from BENCH_API_KEY. Prints one JSON line: {"ok": n, "failed": n}.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import OpenAI, { toFile } from 'openai';

const { values } = parseArgs({
  options: {
    in: { type: 'string' },
    out: { type: 'string' },
    'base-url': { type: 'string' },
    concurrency: { type: 'string', default: '4' },
    prompt: { type: 'string', default: 'Redraw it as a flat pastel illustration' },
    model: { type: 'string', default: 'gpt-image-1' }
  }
});
if (!values.in || !values.out || !values['base-url']) {
  console.error('usage: node bench/sdk-loop.mjs --in DIR --out DIR --base-url URL --concurrency N');
  process.exit(2);
}
const inDir = values.in;
const outDir = values.out;
const concurrency = Number(values.concurrency);

const client = new OpenAI({ apiKey: process.env.BENCH_API_KEY ?? 'bench-key', baseURL: values['base-url'] });
const files = fs
  .readdirSync(inDir)
  .filter(name => name.endsWith('.png'))
  .sort();
fs.mkdirSync(outDir, { recursive: true });

let next = 0;
let ok = 0;
let failed = 0;
async function worker() {
  while (next < files.length) {
    const name = files[next++];
    try {
      const result = await client.images.edit({
        model: values.model,
        // A bare fs.createReadStream is sent as application/octet-stream, which the
        // endpoint rejects ("unsupported mimetype"): toFile with a type is the SDK's way.
        image: await toFile(fs.createReadStream(path.join(inDir, name)), name, { type: 'image/png' }),
        prompt: values.prompt
      });
      const b64 = result.data?.[0]?.b64_json;
      if (!b64) throw new Error('no b64_json in the answer');
      await fs.promises.writeFile(path.join(outDir, name.replace(/\.png$/, '.edited.png')), Buffer.from(b64, 'base64'));
      ok++;
    } catch (error) {
      failed++;
      console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
console.log(JSON.stringify({ ok, failed }));
process.exitCode = failed ? 1 : 0;
