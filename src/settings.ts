/**
 * The one typed settings object. `getInputs()` (input-helper.ts) builds it from
 * the action's inputs or the CLI's flags; everything after that reads only this.
 */

/** Image types the endpoint accepts, named by their usual extension. */
export type ImageType = 'png' | 'jpeg' | 'webp';

/** Model families that share the same rules. `unknown` only with `allow-unknown-model`. */
export type ModelFamily = 'gpt-image' | 'gpt-image-2' | 'dall-e-2' | 'dall-e-3' | 'unknown';

/**
 * Request parameters as the endpoint names them (snake_case wire names live in
 * edit-client.ts). An undefined field is not sent: the endpoint's default applies.
 */
export interface EditParameters {
  model: string;
  n: number;
  size?: string;
  quality?: string;
  background?: string;
  inputFidelity?: string;
  outputFormat?: ImageType;
  outputCompression?: number;
  /** Only ever set for dall-e models (GPT image models reject the field). */
  responseFormat?: 'url' | 'b64_json';
  partialImages?: number;
  callbackUrl?: string;
}

/** How requests are made and answers come back. */
export type EditMode =
  /** One request, one JSON answer with `data[]`. */
  | 'sync'
  /** `stream=true`: an event stream with partial frames, then the final image(s). */
  | 'stream'
  /** `callback_url` set: the answer carries a task id; nothing is written. */
  | 'callback'
  /** `async=true`: the answer carries a task id that is polled until done. */
  | 'async';

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

export interface Settings {
  /** Absolute path of the workspace (GITHUB_WORKSPACE, or the CLI's cwd). */
  workspace: string;
  /** Glob patterns, as given (relative to the workspace). */
  images: string[];
  /** The prompt template (from `prompt` or the file named by `prompt-file`). */
  prompt: string;
  /** Mask path or template, relative to the workspace. */
  mask?: string;
  /** Glob patterns of images sent with every file, after it. */
  referenceImages: string[];
  modelFamily: ModelFamily;
  params: EditParameters;
  mode: EditMode;
  apiKey: string;
  endpoint: URL;
  /** Where `async` tasks are polled (AceData: `.../openai/tasks`); set when mode is `async`. */
  taskEndpoint?: URL;
  /** Output template relative to the workspace. */
  outputPath: string;
  overwrite: boolean;
  concurrency: number;
  /** Per attempt, in milliseconds. */
  timeoutMs: number;
  maxRetries: number;
  force: boolean;
  /** Manifest path relative to the workspace; undefined turns skipping off. */
  manifest?: string;
  shard: Shard;
  dryRun: boolean;
  failOnError: boolean;
  /** Upload the output files as one workflow artifact (the action only; the CLI never does). */
  uploadArtifact: boolean;
  /** The artifact's name (`artifact-name`). */
  artifactName: string;
  /** Days the artifact is kept (1-90); undefined leaves the repository's setting. */
  retentionDays?: number;
  /** Delivery to GitHub: comment, commit, preview branch, changed files (the action only; the CLI never does these). */
  github: GitHubDelivery;
}

export type CommentMode = 'auto' | 'always' | 'never';
export type CommitMethod = 'api' | 'git';

export interface GitHubDelivery {
  /** `github-token`: for the comment, the commit, the preview branch and `only-changed`; '' when none. */
  token: string;
  comment: CommentMode;
  /** Marks the one sticky comment this configuration owns per pull request. */
  commentTag: string;
  commit: boolean;
  commitMethod: CommitMethod;
  /** The branch to commit to, without `refs/heads/`; undefined: the run's branch (the PR's head branch on a pull request). */
  commitBranch?: string;
  /** `{count}` (output images in the commit) and `{model}` are replaced. */
  commitMessage: string;
  /** When the outputs are not committed: the branch they are pushed to so that previews can show them. */
  previewBranch?: string;
  /** Only the images the pull request or push changed are sources. */
  onlyChanged: boolean;
}

/** What `getInputs()` hands back: the settings, plus warnings to print. */
export interface InputsResult {
  settings: Settings;
  warnings: string[];
}

/** Thrown by `getInputs()` with every problem found, one per line. */
export class InputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} problems with the inputs:\n- ${problems.join('\n- ')}`);
    this.name = 'InputError';
  }
}

export const DEFAULT_ENDPOINT = 'https://api.acedata.cloud/openai/images/edits';
export const DEFAULT_OUTPUT_PATH = '{dir}/{name}.edited{variant}.{format}';
export const DEFAULT_MANIFEST = '.image-edits.json';
export const DEFAULT_ARTIFACT_NAME = 'edited-images';
export const DEFAULT_COMMENT_TAG = 'image-edit-preview';
export const DEFAULT_COMMIT_MESSAGE = 'Edit {count} image(s) with {model}';

/** MIME type of each image type, as every file part must carry it. */
export const MIME_TYPES: Record<ImageType, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp'
};
