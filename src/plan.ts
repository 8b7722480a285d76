/**
 * The plan: which files are edited, with which mask, references, prompt and
 * output paths. Every file is checked here, before the first request, and
 * every problem is reported at once.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { insideWorkspace, resolveGlobs } from './files.js';
import { mapConcurrent } from './concurrency.js';
import { readImageInfo, type ImageInfo } from './image-info.js';
import { fingerprint, loadManifest, recordedOutputs, type HashedFile, type Manifest } from './manifest.js';
import {
  checkImageBytes,
  checkImageCount,
  checkImageType,
  checkMaskBytes,
  checkPromptLength,
  checkSquare,
  modelRules,
  type ModelRules
} from './models.js';
import { InputError, type Settings, type Shard } from './settings.js';
import { placeholdersIn, render, sourceValues, variantSuffix } from './template.js';

/** A file on disk with what the request needs to know of it. */
export interface PlannedFile {
  /** Workspace-relative POSIX path. */
  path: string;
  absolute: string;
  info: ImageInfo;
}

/** One source file and everything its request needs. */
export interface Job {
  source: PlannedFile;
  mask?: PlannedFile;
  references: PlannedFile[];
  /** The prompt with this file's placeholders filled in. */
  prompt: string;
  /** Workspace-relative output paths, one per variant (`n`). */
  outputs: string[];
  /** What the manifest records for this edit (see jobFingerprint); set when known. */
  fingerprint?: string;
  /** Why it is skipped, when the manifest says nothing changed. */
  skip?: string;
}

export interface Plan {
  jobs: Job[];
  /** Files the globs matched that are outputs of this configuration or masks, so not sources. */
  notSources: string[];
  /** Files of other shards. */
  otherShards: number;
  /** Matched files left out because the pull request or push did not change them (`only-changed`). */
  notChanged: number;
  /** Things worth a warning that do not stop the run. */
  warnings: string[];
  manifest?: Manifest;
}

/** Files read at once while planning. */
const PLAN_CONCURRENCY = 16;

/** The extension `{format}` stands for. */
export function outputExtension(settings: Settings): string {
  return settings.params.outputFormat ?? 'png';
}

/** Output paths (workspace-relative) of a source, one per variant. */
export function outputPathsFor(settings: Settings, source: string): string[] {
  const values = { ...sourceValues(source), format: outputExtension(settings) };
  return Array.from({ length: settings.params.n }, (_, i) =>
    path.posix.normalize(render(settings.outputPath, { ...values, variant: variantSuffix(i, settings.params.n) }))
  );
}

/** True when `file` belongs to shard `shard` (stable: decided by the path alone). */
export function inShard(file: string, shard: Shard): boolean {
  if (shard.count === 1) return true;
  const hash = createHash('sha256').update(file).digest().readUInt32BE(0);
  return hash % shard.count === shard.index - 1;
}

export interface PlanOptions {
  /**
   * `only-changed`: the workspace-relative paths the pull request or push added or modified;
   * a matched file outside it is not a source (and is absent from the results).
   */
  changed?: ReadonlySet<string>;
}

/**
 * Resolves and checks every file. Throws an InputError listing every problem
 * (bad globs, non-images, sizes, counts, masks, prompt length, output clashes).
 */
export async function planEdits(settings: Settings, options: PlanOptions = {}): Promise<Plan> {
  const problems: string[] = [];
  const { workspace } = settings;
  const rules = modelRules(settings.modelFamily, settings.params.model);

  const matched = await resolveGlobs('images', settings.images, workspace);
  problems.push(...matched.problems);
  const references = settings.referenceImages.length
    ? await resolveGlobs('reference-images', settings.referenceImages, workspace)
    : { files: [], problems: [] };
  problems.push(...references.problems);

  const manifestFile = settings.manifest ? await insideWorkspace(workspace, settings.manifest, 'manifest') : undefined;
  let manifest: Manifest | undefined;
  if (manifestFile) {
    try {
      manifest = await loadManifest(manifestFile);
    } catch (error) {
      problems.push(`manifest: ${(error as Error).message}`);
    }
  }

  // What this configuration writes (or wrote) is never a source, nor is a mask of another match.
  const matchedSet = new Set(matched.files);
  const notSourceSet = new Set(manifest ? recordedOutputs(manifest) : []);
  for (const file of matched.files) {
    // A file's own output is not "another source's output": it is checked below (it would overwrite its source).
    for (const output of outputPathsFor(settings, file)) if (output !== file) notSourceSet.add(output);
    if (settings.mask) {
      const maskPath = path.posix.normalize(render(settings.mask, sourceValues(file)));
      if (maskPath !== file && matchedSet.has(maskPath)) notSourceSet.add(maskPath);
    }
  }
  const eligible = matched.files.filter(file => !notSourceSet.has(file));
  const candidates = options.changed ? eligible.filter(file => options.changed?.has(file)) : eligible;
  const notSources = matched.files.filter(file => notSourceSet.has(file));
  const sources = candidates.filter(file => inShard(file, settings.shard));

  // Output clashes are judged over every shard's files, so each shard of a matrix reports them.
  const outputOwners = new Map<string, string>();
  const overwritesSource: string[] = [];
  for (const file of candidates) {
    for (const output of outputPathsFor(settings, file)) {
      if (output === file) overwritesSource.push(file);
      const owner = outputOwners.get(output);
      if (owner) problems.push(`output-path: ${owner} and ${file} would both write ${output}`);
      else outputOwners.set(output, file);
    }
  }
  if (overwritesSource.length) {
    const shown = overwritesSource.slice(0, 5).join(', ') + (overwritesSource.length > 5 ? ` and ${overwritesSource.length - 5} more` : '');
    problems.push(
      `output-path: "${settings.outputPath}" makes each output the source itself (${shown}); an edit would overwrite its own input, so give a path that differs from the source, e.g. {dir}/{name}.edited{variant}.{format}`
    );
  }

  const referenceFiles: PlannedFile[] = [];
  for (const file of references.files) {
    const planned = await planFile(workspace, file, 'reference-images', problems);
    if (planned) referenceFiles.push(planned);
  }

  // Sources are read (type, size, dimensions) a few at a time; their problems keep the sources' order.
  const planned = await mapConcurrent(sources, PLAN_CONCURRENCY, async file => {
    const found: string[] = [];
    return { source: await planFile(workspace, file, 'images', found), found };
  });
  const jobs: Job[] = [];
  for (const [index, file] of sources.entries()) {
    const { source, found } = planned[index];
    problems.push(...found);
    const values = sourceValues(file);
    const prompt = render(settings.prompt, values);
    const promptProblem = checkPromptLength(rules, prompt);
    if (promptProblem) problems.push(`prompt: for ${file}, ${promptProblem}`);

    let mask: PlannedFile | undefined;
    if (settings.mask) {
      const maskPath = path.posix.normalize(render(settings.mask, values));
      const absolute = path.join(workspace, maskPath);
      if (fs.existsSync(absolute)) mask = await planFile(workspace, maskPath, 'mask', problems);
      if (mask && source) checkMask(mask, source, rules, problems);
    }

    const outputs = outputPathsFor(settings, file);
    for (const output of outputs) {
      try {
        await insideWorkspace(workspace, output, 'output-path');
      } catch (error) {
        problems.push(`${(error as Error).message} (for ${file})`);
      }
    }

    if (!source) continue;
    // A file matched by both `images` and `reference-images` is not sent as its own reference.
    const ownReferences = referenceFiles.filter(reference => reference.path !== file);
    const images = [source, ...ownReferences];
    const countProblem = checkImageCount(rules, images.length);
    if (countProblem) problems.push(`reference-images: for ${file}, ${countProblem}`);
    for (const image of images) checkImage(image, rules, problems);
    jobs.push({ source, mask, references: ownReferences, prompt, outputs });
  }

  if (problems.length) throw new InputError(dedupe(problems));

  if (manifest) await markUnchanged(settings, jobs, manifest);
  const warnings: string[] = [];
  if (settings.mask && placeholdersIn(settings.mask).length === 0 && jobs.length && !jobs.some(job => job.mask)) {
    // One mask for every file, and it is not there: most likely a typo, not "edit without a mask".
    warnings.push(`mask: ${settings.mask} does not exist; the files are edited without a mask`);
  }
  return { jobs, notSources, otherShards: candidates.length - sources.length, notChanged: eligible.length - candidates.length, warnings, manifest };
}

async function planFile(
  workspace: string,
  file: string,
  input: string,
  problems: string[]
): Promise<PlannedFile | undefined> {
  try {
    const absolute = await insideWorkspace(workspace, file, input);
    const info = await readImageInfo(absolute, file);
    return { path: file, absolute, info };
  } catch (error) {
    const message = (error as Error).message;
    problems.push(message.startsWith(`${input}:`) ? message : `${input}: ${message}`);
    return undefined;
  }
}

function checkImage(image: PlannedFile, rules: ModelRules, problems: string[]): void {
  const { info } = image;
  const found = [
    checkImageType(rules, info.type),
    checkImageBytes(rules, info.bytes),
    checkSquare(rules, info.width, info.height)
  ];
  for (const problem of found) if (problem) problems.push(`${image.path}: ${problem}`);
}

function checkMask(mask: PlannedFile, source: PlannedFile, rules: ModelRules, problems: string[]): void {
  const found = [
    mask.info.type === 'png' ? undefined : `the mask is ${mask.info.type}; a mask must be a PNG`,
    checkMaskBytes(rules, mask.info.bytes),
    mask.info.width === source.info.width && mask.info.height === source.info.height
      ? undefined
      : `the mask is ${mask.info.width}x${mask.info.height} but ${source.path} is ${source.info.width}x${source.info.height}; they must match`
  ];
  for (const problem of found) if (problem) problems.push(`mask: ${mask.path}: ${problem}`);
}

/**
 * What the manifest records for a job's edit: a hash of its source, mask, references, prompt
 * and parameters. `loaded`: bytes already read, by absolute path (those files are not read again).
 */
export function jobFingerprint(settings: Settings, job: Job, loaded?: ReadonlyMap<string, Buffer>): Promise<string> {
  const file = (planned: PlannedFile): HashedFile => {
    const bytes = loaded?.get(planned.absolute);
    return bytes ? { path: planned.absolute, bytes } : planned.absolute;
  };
  return fingerprint({
    source: file(job.source),
    mask: job.mask && file(job.mask),
    references: job.references.map(file),
    prompt: job.prompt,
    params: { ...settings.params, outputPath: settings.outputPath }
  });
}

/**
 * Marks `skip` on the jobs the manifest records with the same fingerprint and whose outputs
 * exist. Only files with an entry are hashed here; the others cannot be skipped, and the
 * pipeline hashes them while their request is in flight.
 */
async function markUnchanged(settings: Settings, jobs: Job[], manifest: Manifest): Promise<void> {
  if (settings.force) return;
  await Promise.all(
    jobs.map(async job => {
      const entry = manifest.entries[job.source.path];
      if (!entry) return;
      job.fingerprint = await jobFingerprint(settings, job);
      if (entry.fingerprint !== job.fingerprint) return;
      const present = entry.outputs.every(output => fs.existsSync(path.join(settings.workspace, output)));
      if (present) job.skip = `unchanged since ${entry.editedAt}`;
    })
  );
}

function dedupe(items: string[]): string[] {
  return [...new Set(items)];
}
