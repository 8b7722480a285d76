/**
 * The "floor" of the benchmark: the least work a client can do against the
 * stand-in — undici `request` (the library the action uses), one multipart body
 * of the inputs' size built once in memory and sent `concurrency` at a time, each
 * answer parsed and its image decoded, then dropped: no files read or written, no
 * checks. Its wall time is the best any client could reach against this stand-in
 * on this machine; the gap between it and the ideal is the stand-in's and the
 * machine's, not the client's.
 *
 *   node bench/floor-client.mjs --url URL --files N --concurrency N --input-bytes N
 * The API key comes from BENCH_API_KEY. Prints one JSON line: {"ok": n, "failed": n}.
 */
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    files: { type: 'string' },
    concurrency: { type: 'string' },
    'input-bytes': { type: 'string' }
  }
});
const files = Number(values.files);
const concurrency = Number(values.concurrency);
const boundary = 'bench-floor-boundary';
const field = (name, value) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const body = Buffer.concat([
  Buffer.from(
    field('prompt', 'Redraw it as a flat pastel illustration') +
      field('model', 'gpt-image-1') +
      `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="image.png"\r\nContent-Type: image/png\r\n\r\n`
  ),
  Buffer.alloc(Number(values['input-bytes']), 0x41),
  Buffer.from(`\r\n--${boundary}--\r\n`)
]);
const agent = new Agent({ connections: concurrency });
let next = 0;
let ok = 0;
let failed = 0;
async function worker() {
  while (next < files) {
    next++;
    try {
      const res = await request(values.url, {
        dispatcher: agent,
        method: 'POST',
        headers: { authorization: `Bearer ${process.env.BENCH_API_KEY}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
        body
      });
      const json = JSON.parse(await res.body.text());
      if (res.statusCode !== 200 || !Buffer.from(json.data[0].b64_json, 'base64').length) throw new Error(`HTTP ${res.statusCode}`);
      ok++;
    } catch (error) {
      failed++;
      console.error(error instanceof Error ? error.message : String(error));
    }
  }
}
await Promise.all(Array.from({ length: Math.min(concurrency, files) }, worker));
await agent.close();
console.log(JSON.stringify({ ok, failed }));
process.exitCode = failed ? 1 : 0;
