/**
 * The CLI (`image-edit`): the same pipeline as the action, for local use.
 * Every flag is an input of action.yml by the same name:
 *   image-edit --images 'art/*.png' --prompt 'make it blue' [--model gpt-image-1] [--dry-run] …
 * The API key comes from --api-key or, better (not visible in `ps`), IMAGE_EDIT_API_KEY.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { counts, failureLines, resultEntries } from './delivery/outputs.js';
import { renderSummary } from './delivery/summary.js';
import { getInputs } from './input-helper.js';
import { consoleLog, type Log } from './log.js';
import { redact, runPipeline } from './pipeline.js';
import { InputError } from './settings.js';

/** Inputs the CLI takes as flags, with the defaults action.yml gives them. */
export const CLI_INPUTS: Record<string, { default: string; boolean?: boolean; multiple?: boolean }> = {
  images: { default: '', multiple: true },
  prompt: { default: '' },
  'prompt-file': { default: '' },
  mask: { default: '' },
  'reference-images': { default: '', multiple: true },
  model: { default: 'gpt-image-1' },
  'allow-unknown-model': { default: 'false', boolean: true },
  size: { default: '' },
  quality: { default: '' },
  background: { default: '' },
  'input-fidelity': { default: '' },
  'output-format': { default: '' },
  'output-compression': { default: '' },
  n: { default: '1' },
  'response-format': { default: '' },
  'partial-images': { default: '' },
  'callback-url': { default: '' },
  async: { default: 'false', boolean: true },
  'api-key': { default: '' },
  endpoint: { default: 'https://api.acedata.cloud/openai/images/edits' },
  'allow-insecure-endpoint': { default: 'false', boolean: true },
  'output-path': { default: '{dir}/{name}.edited{variant}.{format}' },
  overwrite: { default: 'true', boolean: true },
  concurrency: { default: '4' },
  timeout: { default: '600' },
  'max-retries': { default: '3' },
  force: { default: 'false', boolean: true },
  manifest: { default: '.image-edits.json' },
  shard: { default: '1/1' },
  'dry-run': { default: 'false', boolean: true },
  'fail-on-error': { default: 'true', boolean: true }
};

const USAGE = `usage: image-edit --images GLOB [--images GLOB …] (--prompt TEXT | --prompt-file FILE) [options]

Edits every matched image through an OpenAI-compatible images/edits endpoint.
Every option is an input of the GitHub Action by the same name, e.g.
  --model gpt-image-1 --size 1024x1024 --n 2 --output-path '{dir}/{name}.new{variant}.{format}'
  --dry-run            plan and check only; nothing is sent or written
  --workspace DIR      the folder globs and paths are relative to (default: .)
  --json               print the results as JSON on stdout
  --summary FILE       write the Markdown summary to FILE
The API key: IMAGE_EDIT_API_KEY in the environment (or --api-key).
Boolean options take an optional value: --force, --force=false.
Exit status: 0 all good, 1 a file failed, 2 bad input.`;

/** Parses argv into an input reader plus the CLI's own options. Throws on an unknown flag. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv) {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {
    workspace: { type: 'string' },
    json: { type: 'boolean' },
    summary: { type: 'string' },
    verbose: { type: 'boolean' },
    help: { type: 'boolean' }
  };
  for (const [name, spec] of Object.entries(CLI_INPUTS)) {
    // parseArgs rejects `multiple: undefined`: give the property only where it is true.
    options[name] = spec.multiple ? { type: 'string', multiple: true } : { type: 'string' };
  }
  // `--force` alone means true: give bare boolean flags an explicit value.
  const args = argv.flatMap((arg, i) => {
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    const next = argv[i + 1];
    if (name && CLI_INPUTS[name]?.boolean && (next === undefined || next.startsWith('--'))) return [`${arg}=true`];
    return [arg];
  });
  const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
  const read = (name: string): string => {
    const value = values[name] as string | string[] | undefined;
    // The CLI has no workflow run to attach an artifact to: it never uploads one.
    if (name === 'upload-artifact') return 'false';
    if (name === 'api-key' && value === undefined) return env.IMAGE_EDIT_API_KEY ?? '';
    if (value === undefined) return CLI_INPUTS[name]?.default ?? '';
    return Array.isArray(value) ? value.join('\n') : value;
  };
  return {
    read,
    workspace: (values.workspace as string | undefined) ?? process.cwd(),
    json: Boolean(values.json),
    summary: values.summary as string | undefined,
    verbose: Boolean(values.verbose),
    help: Boolean(values.help)
  };
}

/** Runs the CLI; resolves to the exit status. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(argv, env);
  } catch (error) {
    console.error(`error: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (cli.help) {
    console.log(USAGE);
    return 0;
  }
  // With --json, stdout carries the JSON alone (for jq and the like): the log goes to stderr.
  const log = cli.json ? stderrLog(cli.verbose) : consoleLog(cli.verbose);
  hideDebugCommands(cli.verbose, cli.json);
  let apiKey = '';
  const controller = new AbortController();
  const stop = (): void => controller.abort(new Error('interrupted'));
  try {
    const { settings, warnings } = await getInputs(cli.read, { workspace: cli.workspace, env: {} });
    apiKey = settings.apiKey;
    warnings.forEach(warning => log.warning(warning));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const result = await runPipeline(settings, { log, signal: controller.signal });

    if (cli.summary) await writeFile(cli.summary, renderSummary(result));
    if (cli.json) console.log(JSON.stringify(resultEntries(result), null, 2));
    const tally = counts(result);
    const queued = tally.queued ? `, ${tally.queued} queued` : '';
    log.info(
      settings.dryRun
        ? `Dry run: ${result.plan.jobs.filter(job => !job.skip).length} to edit, ${result.plan.jobs.filter(job => job.skip).length} unchanged`
        : `${tally.edited} edited, ${tally.skipped} skipped, ${tally.failed} failed${queued}`
    );
    const failures = failureLines(result);
    if (failures.length) {
      failures.forEach(line => log.error(line));
      return settings.failOnError || result.cancelled ? 1 : 0;
    }
    return result.cancelled ? 1 : 0;
  } catch (error) {
    log.error(redact((error as Error).message, { apiKey }));
    return error instanceof InputError ? 2 : 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** The console log with every line on stderr (for --json). */
function stderrLog(verbose: boolean): Log {
  return {
    ...consoleLog(verbose),
    info: message => console.error(message),
    group: async (name, fn) => {
      console.error(`== ${name}`);
      return fn();
    }
  };
}


/**
 * Libraries from the actions toolkit (@actions/glob) log through core.debug,
 * which prints `::debug::` workflow commands on stdout; outside a runner they
 * are noise. They are dropped, or with --verbose shown on stderr as debug lines.
 * With --json, other workflow commands (`::add-mask::` when the CLI runs inside
 * a workflow) go to stderr, which the runner reads too, so stdout stays JSON.
 */
function hideDebugCommands(verbose: boolean, json: boolean): void {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.startsWith('::debug::')) {
      if (verbose) process.stderr.write(`debug: ${chunk.slice('::debug::'.length)}`);
      return true;
    }
    if (json && typeof chunk === 'string' && chunk.startsWith('::')) return process.stderr.write(chunk);
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
}
