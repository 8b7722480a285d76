/**
 * The pipeline, top to bottom: plan and check every file, skip what is
 * unchanged, edit the rest through the edit client (`concurrency` at a time),
 * write each image atomically, and record the edits in the manifest.
 * Delivery (outputs, summary, artifact, commit, comment) works on its result.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createEditClient, EditError, type EditClient, type EditOutcome } from './edit-client.js';
import { insideWorkspace, TargetExistsError, writeFileAtomic } from './files.js';
import type { Log } from './log.js';
import { saveManifest, type Manifest } from './manifest.js';
import { sniffImage } from './image-info.js';
import { jobFingerprint, planEdits, type Job, type Plan } from './plan.js';
import type { Settings } from './settings.js';
import { mapConcurrent } from './concurrency.js';

export type FileStatus = 'edited' | 'skipped' | 'failed' | 'queued';

/** One source file's result, as the `results` output reports it. */
export interface FileResult {
  source: string;
  status: FileStatus;
  /** Workspace-relative paths written (or that would be written, in a dry run). */
  outputs: string[];
  error?: string;
  /** Why a file was skipped: unchanged since an earlier edit, or a dry run. */
  reason?: string;
  revisedPrompt?: string;
  durationMs: number;
  attempts: number;
  taskIds?: string[];
}

export interface PipelineResult {
  settings: Settings;
  plan: Plan;
  results: FileResult[];
  /** Every path written, workspace-relative, in source order. */
  outputFiles: string[];
  taskIds: string[];
  /** True when the run was cancelled (SIGINT/SIGTERM) before every file finished. */
  cancelled: boolean;
}

export interface PipelineDeps {
  log: Log;
  /** Aborts in-flight requests (cancellation); files not started are reported as failed. */
  signal?: AbortSignal;
  /** Injected in tests and benches; by default one is made from the settings. */
  client?: EditClient;
  /** `only-changed`: the files the pull request or push changed (workspace-relative). */
  changed?: ReadonlySet<string>;
}

/** Runs the whole edit: plan, skip, edit, write, record. Throws InputError before any request when a check fails. */
export async function runPipeline(settings: Settings, deps: PipelineDeps): Promise<PipelineResult> {
  const { log, signal } = deps;
  const plan = await log.group('Plan', async () => {
    const planned = await planEdits(settings, { changed: deps.changed });
    logPlan(settings, planned, log);
    return planned;
  });

  if (settings.dryRun) {
    // Nothing is edited in a dry run: every file is skipped, and `reason` says what would happen.
    const results = plan.jobs.map(job => result(job, 'skipped', { reason: job.skip ?? 'dry run: would be edited' }));
    log.info(`Dry run: ${plan.jobs.filter(job => !job.skip).length} request(s) would be sent; nothing was sent or written.`);
    return { settings, plan, results, outputFiles: [], taskIds: [], cancelled: false };
  }

  const todo = plan.jobs.filter(job => !job.skip).length;
  const client = deps.client ?? (todo > 0 ? createClient(settings) : undefined);
  const requests = makeSlots(settings.concurrency);
  // Read-aheads run one at a time, in file order: the first requests do not wait for every file's read.
  const reads = makeSlots(1);
  let results: FileResult[];
  try {
    results = await log.group(`Edit ${todo} file(s), ${Math.min(settings.concurrency, Math.max(todo, 1))} at a time`, () =>
      // Twice as many files in progress as requests in flight: a file whose answer is in is
      // written while the next file's request already uses the freed slot.
      mapConcurrent(plan.jobs, settings.concurrency * 2, job =>
        editOne(job, { settings, client, deps, requests, reads, recording: Boolean(plan.manifest) })
      )
    );
  } finally {
    if (!deps.client) await client?.close();
  }

  if (plan.manifest && settings.manifest) {
    try {
      await recordEdits(settings, plan, results, log);
    } catch (error) {
      // The images are written; only the memory of them is lost (the next run edits them again).
      log.warning(`The manifest ${settings.manifest} could not be saved: ${(error as Error).message}`);
    }
  }

  return {
    settings,
    plan,
    results,
    outputFiles: results.flatMap(r => (r.status === 'edited' ? r.outputs : [])),
    taskIds: results.flatMap(r => r.taskIds ?? []),
    cancelled: signal?.aborted ?? false
  };
}

function createClient(settings: Settings): EditClient {
  return createEditClient({
    endpoint: settings.endpoint,
    apiKey: settings.apiKey,
    mode: settings.mode,
    taskEndpoint: settings.taskEndpoint,
    timeoutMs: settings.timeoutMs,
    maxRetries: settings.maxRetries,
    concurrency: settings.concurrency
  });
}

/** What every file's edit shares. */
interface EditContext {
  settings: Settings;
  client: EditClient | undefined;
  deps: PipelineDeps;
  /** Requests in flight. */
  requests: Slots;
  /** Files being read ahead. */
  reads: Slots;
  /** True when the manifest records the edits (each edited file needs its fingerprint). */
  recording: boolean;
}

/** Edits one file; never throws: a failure becomes a `failed` result. */
async function editOne(job: Job, { settings, client, deps, requests, reads, recording }: EditContext): Promise<FileResult> {
  const { log, signal } = deps;
  const name = job.source.path;
  if (job.skip) {
    log.info(`${name}: skipped (${job.skip})`);
    return result(job, 'skipped', { reason: job.skip });
  }
  let started = Date.now();
  if (signal?.aborted || !client) {
    return result(job, 'failed', { error: 'cancelled before it started', started });
  }
  let attempts = 0;
  try {
    if (!settings.overwrite) {
      // Checked again (atomically) at the write; checked here too so no request is sent (and billed) in vain.
      for (const output of job.outputs) {
        if (fs.existsSync(await insideWorkspace(settings.workspace, output, 'output-path'))) {
          throw new TargetExistsError(output);
        }
      }
    }
    // Small files are read once, before the request slot is taken: the same bytes are sent and
    // fingerprinted, and the request does not wait for the disk.
    const doneReading = await reads.acquire();
    let loaded: Map<string, Buffer> | undefined;
    try {
      loaded = await readAhead(job);
    } finally {
      doneReading();
    }
    // The request slot is held for the request only: writing the images below happens after it
    // is freed, so the next request does not wait for the disk.
    const release = await requests.acquire();
    // The manifest's fingerprint of a file it has no entry for is hashed while its request is in
    // flight; from the next turn of the event loop, as hashing read-ahead bytes does not wait.
    const fingerprinting =
      recording && !job.fingerprint
        ? nextTurn().then(() =>
            jobFingerprint(settings, job, loaded).then(
              value => (job.fingerprint = value),
              () => undefined
            )
          )
        : undefined;
    let outcome: EditOutcome;
    // async mode: the task ids polled for this file (reported with its result and in `task-ids`).
    const tasks: string[] = [];
    try {
      started = Date.now();
      if (signal?.aborted) return result(job, 'failed', { error: 'cancelled before it started', started });
      outcome = await client.edit(
        {
          images: [job.source, ...job.references].map(file => ({
            path: file.absolute,
            filename: path.posix.basename(file.path),
            contentType: file.info.mime,
            bytes: loaded?.get(file.absolute)
          })),
          mask: job.mask && {
            path: job.mask.absolute,
            filename: path.posix.basename(job.mask.path),
            contentType: 'image/png',
            bytes: loaded?.get(job.mask.absolute)
          },
          prompt: job.prompt,
          params: settings.params
        },
        {
          signal,
          onRetry: info => log.info(`${name}: attempt ${info.attempt} failed (${redact(info.reason, settings)}); retrying in ${Math.round(info.delayMs)} ms`),
          onPartial: info => log.info(`${name}: partial image ${info.index + 1} (${info.bytes} bytes)`),
          onTask: id => {
            tasks.push(id);
            log.info(`${name}: task ${id}`);
          }
        }
      );
    } finally {
      release();
    }
    attempts = outcome.attempts;
    if (outcome.kind === 'queued') {
      log.info(`${name}: queued as ${outcome.taskIds.join(', ')}`);
      return result(job, 'queued', { started, attempts, taskIds: outcome.taskIds, outputs: [] });
    }
    if (outcome.images.length < job.outputs.length) {
      log.warning(`${name}: asked for ${job.outputs.length} image(s), the endpoint returned ${outcome.images.length}`);
    }
    const written: string[] = [];
    for (const [index, image] of outcome.images.slice(0, job.outputs.length).entries()) {
      const output = job.outputs[index];
      checkAnswerImage(image.data, output, settings, log);
      await writeFileAtomic(await insideWorkspace(settings.workspace, output, 'output-path'), image.data, {
        overwrite: settings.overwrite
      });
      written.push(output);
    }
    await fingerprinting;
    // API text: an endpoint that echoes the request could echo the key too.
    const revised = outcome.images.find(image => image.revisedPrompt)?.revisedPrompt;
    const revisedPrompt = revised === undefined ? undefined : redact(revised, settings);
    log.info(`${name}: edited → ${written.join(', ')} (${Date.now() - started} ms, ${attempts} attempt(s))`);
    return result(job, 'edited', { started, attempts, outputs: written, revisedPrompt, ...(tasks.length && { taskIds: tasks }) });
  } catch (error) {
    const message = redact(describeError(error), settings);
    log.error(`${name}: ${message}`);
    const tries = error instanceof EditError ? error.attempts : attempts;
    return result(job, 'failed', { started, attempts: tries, error: message });
  }
}

/**
 * A job's files are read whole ahead of its request when together they are at most this size
 * (at most 2 × concurrency jobs hold theirs at once: 32 MiB at concurrency 8); larger ones are
 * streamed from disk.
 */
const READ_AHEAD_MAX_BYTES = 2 * 1024 * 1024;

/** The bytes of a job's files by absolute path, or undefined when they are too large to read ahead. */
async function readAhead(job: Job): Promise<Map<string, Buffer> | undefined> {
  const files = [job.source, ...job.references, ...(job.mask ? [job.mask] : [])];
  if (files.reduce((sum, file) => sum + file.info.bytes, 0) > READ_AHEAD_MAX_BYTES) return undefined;
  const loaded = new Map<string, Buffer>();
  for (const file of files) {
    try {
      loaded.set(file.absolute, await fs.promises.readFile(file.absolute));
    } catch (error) {
      throw new Error(`cannot read the file ${file.path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
    }
  }
  return loaded;
}

/**
 * An answer's bytes must be an image before they are written: anything else is an error for
 * the file. An image of another type than asked for is written, with a warning.
 */
function checkAnswerImage(data: Buffer, output: string, settings: Settings, log: Log): void {
  const found = sniffImage(data);
  if (!found) {
    throw new Error(`the endpoint returned ${data.length} bytes that are not a PNG, JPEG or WebP image; nothing was written to ${output}`);
  }
  const wanted = settings.params.outputFormat ?? 'png';
  if (found.type !== wanted) {
    log.warning(`${output}: the endpoint returned a ${found.type.toUpperCase()} image, not ${wanted.toUpperCase()}; written as it came`);
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Removes the API key from any text that leaves the process (errors from the API may echo it). */
export function redact(text: string, settings: Pick<Settings, 'apiKey'>): string {
  const key = settings.apiKey;
  if (!key) return text;
  let out = text.split(key).join('***');
  // Long API texts are cut short with "…": a cut inside the key leaves its start, hidden here too.
  if (out.includes('…')) {
    for (let length = key.length - 1; length >= SHORTEST_HIDDEN_PIECE; length--) {
      out = out.split(`${key.slice(0, length)}…`).join('***…');
    }
  }
  return out;
}

/** A cut-off start of the key shorter than this is left alone (it would match ordinary text). */
const SHORTEST_HIDDEN_PIECE = 6;

function result(
  job: Job,
  status: FileStatus,
  extra: {
    started?: number;
    attempts?: number;
    outputs?: string[];
    error?: string;
    reason?: string;
    revisedPrompt?: string;
    taskIds?: string[];
  }
): FileResult {
  return {
    source: job.source.path,
    status,
    // A failed file wrote nothing; a skipped one (or a dry run) reports the paths its outputs have.
    outputs: extra.outputs ?? (status === 'failed' ? [] : job.outputs),
    ...(extra.error !== undefined && { error: extra.error }),
    ...(extra.reason !== undefined && { reason: extra.reason }),
    ...(extra.revisedPrompt !== undefined && { revisedPrompt: extra.revisedPrompt }),
    durationMs: extra.started ? Date.now() - extra.started : 0,
    attempts: extra.attempts ?? 0,
    ...(extra.taskIds && { taskIds: extra.taskIds })
  };
}

/** Hands out at most `limit` slots at once. */
interface Slots {
  /** Resolves, first come first served, with the function that frees the slot (calling it twice frees it once). */
  acquire(): Promise<() => void>;
}

/** At most `limit` holders at once (requests in flight, files being read), however many files are in progress. */
function makeSlots(limit: number): Slots {
  let free = limit;
  const waiting: Array<() => void> = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return {
    async acquire() {
      if (free > 0) free--;
      else await new Promise<void>(resolve => waiting.push(resolve));
      let released = false;
      return () => {
        if (released) return;
        released = true;
        release();
      };
    }
  };
}

/** Records every edited file in the manifest and saves it. */
async function recordEdits(settings: Settings, plan: Plan, results: FileResult[], log: Log): Promise<void> {
  const manifest: Manifest = plan.manifest!;
  let changed = 0;
  for (const [index, r] of results.entries()) {
    const job = plan.jobs[index];
    if (r.status !== 'edited' || !job.fingerprint) continue;
    manifest.entries[r.source] = { fingerprint: job.fingerprint, outputs: r.outputs, editedAt: new Date().toISOString() };
    changed++;
  }
  if (!changed) return;
  await saveManifest(await insideWorkspace(settings.workspace, settings.manifest!, 'manifest'), manifest);
  log.info(`Manifest ${settings.manifest}: ${changed} entr${changed === 1 ? 'y' : 'ies'} recorded`);
}

function logPlan(settings: Settings, plan: Plan, log: Log): void {
  if (plan.notSources.length) {
    log.info(`Not sources (outputs or masks of this configuration): ${plan.notSources.join(', ')}`);
  }
  for (const warning of plan.warnings) log.warning(warning);
  if (plan.notChanged) log.info(`${plan.notChanged} matched file(s) left out: the pull request or push did not change them (only-changed)`);
  if (plan.otherShards) log.info(`${plan.otherShards} file(s) belong to other shards (shard ${settings.shard.index}/${settings.shard.count})`);
  for (const job of plan.jobs) {
    const extras = [
      job.mask && `mask ${job.mask.path}`,
      job.references.length && `${job.references.length} reference image(s)`
    ].filter(Boolean);
    const what = job.skip ? `skip (${job.skip})` : `→ ${job.outputs.join(', ')}`;
    log.info(`${job.source.path} ${what}${extras.length ? ` [${extras.join(', ')}]` : ''}`);
  }
  const todo = plan.jobs.filter(job => !job.skip).length;
  log.info(`${plan.jobs.length} file(s): ${todo} to edit, ${plan.jobs.length - todo} unchanged; model ${settings.params.model}`);
}
