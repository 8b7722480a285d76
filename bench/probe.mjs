/**
 * Preloaded into every measured Node child (`node --import <this file> …`); at exit
 * it writes, as JSON, to the file named by BENCH_PROBE_FILE:
 * - `maxRssKb`: peak resident set size (`process.resourceUsage().maxRSS`);
 * - `cpuMs`: user + system CPU time of the whole process (all threads);
 * - `requests`: HTTP requests made through undici (the action's client and Node's
 *   `fetch`, which the `openai` SDK uses, both publish on these diagnostics channels),
 *   with `firstStartMs` (first request created) and `lastEndMs` (last answer read to
 *   its end), both in ms since the process started, and `maxInFlight`.
 * It changes nothing in the child's behaviour.
 */
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';

const target = process.env.BENCH_PROBE_FILE;
if (target) {
  const requests = { count: 0, firstStartMs: null, lastEndMs: null, maxInFlight: 0 };
  let inFlight = 0;
  const open = new WeakSet();
  subscribe('undici:request:create', ({ request }) => {
    open.add(request);
    requests.count++;
    requests.firstStartMs ??= performance.now();
    requests.maxInFlight = Math.max(requests.maxInFlight, ++inFlight);
  });
  const finish = ({ request }) => {
    if (!open.has(request)) return;
    open.delete(request);
    inFlight--;
    requests.lastEndMs = performance.now();
  };
  subscribe('undici:request:trailers', finish);
  subscribe('undici:request:error', finish);
  process.on('exit', () => {
    try {
      const usage = process.resourceUsage();
      writeFileSync(
        target,
        JSON.stringify({ maxRssKb: usage.maxRSS, cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000), requests })
      );
    } catch {
      // the bench reports a missing figure; never change the child's exit status
    }
  });
}
