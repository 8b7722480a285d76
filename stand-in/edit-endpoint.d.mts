/** Types of stand-in/edit-endpoint.mjs: the stand-in images/edits endpoint. */

/** What the stand-in records of one request (never whole file bytes, never the key). */
export interface RequestSummary {
  /** Epoch milliseconds when the request arrived. */
  at: number;
  method: string;
  path: string;
  kind: 'edit' | 'task' | 'file' | 'other';
  /** The `x-request-id` header answered. */
  requestId: string;
  /** The HTTP status answered (set once answered). */
  status?: number;
  /** Whether an Authorization header came. */
  hasAuthorization: boolean;
  /** With `requireKey`: whether it was `Bearer <requireKey>`. */
  authorized?: boolean;
  contentType?: string;
  /** Text fields of an edit (last value wins), or the JSON keys of a task request; values cut at 64 KB. */
  fields: Record<string, string>;
  /** File parts of an edit, in order. */
  files: Array<{ name: string; filename: string; type: string; size: number }>;
  mode?: 'sync' | 'stream' | 'async' | 'callback';
  taskId?: string;
  /** The error code answered, if any. */
  error?: string;
}

export interface StandInOptions {
  /** 0 (default) = any free port. */
  port?: number;
  /** Delay before answering each valid edit (spread over the events of a stream). Default 0. */
  latencyMs?: number;
  /** Answer every edit with one cached PNG of about this many bytes (input not decoded). */
  answerBytes?: number;
  /** What dall-e models answer when the request has no response_format. Default 'url'. */
  responseFormat?: 'url' | 'b64_json';
  /** Requests whose Authorization is not `Bearer <requireKey>` get 401 `{error:{code:'invalid_token',message},trace_id}`. */
  requireKey?: string;
  /** Keep a RequestSummary of every request in `requests`. Default true. */
  record?: boolean;
  /** Tasks (`async`, `callback_url`) are done this long after submission. Default 0. */
  taskDelayMs?: number;
  /**
   * Called for every well-formed edit request after its body is parsed; return an
   * answer to send instead of the normal one (e.g. a 429 with Retry-After, a 500).
   * A string body goes as text/plain, anything else as JSON.
   */
  intercept?: (summary: RequestSummary) => undefined | { status: number; body?: unknown; headers?: Record<string, string> };
}

export interface CallbackRecord {
  taskId: string;
  url: string;
  /** Status the callback URL answered. */
  status?: number;
  error?: string;
  /** Why it was not called (not plain http:// loopback). */
  skipped?: string;
}

export interface StandIn {
  /** http://127.0.0.1:PORT/openai/images/edits */
  url: string;
  /** http://127.0.0.1:PORT */
  origin: string;
  /** http://127.0.0.1:PORT/openai/tasks */
  tasksUrl: string;
  port: number;
  requests: RequestSummary[];
  callbacks: CallbackRecord[];
  /** Edits in flight now, the most at once so far, and valid edits answered. */
  stats: { inFlight: number; maxInFlight: number; edits: number };
  /** Marks every pending task as done now. */
  finishTasks(): void;
  /** Stops listening, drops open connections and pending timers. */
  close(): Promise<void>;
}

/** Starts the stand-in on 127.0.0.1; resolves when listening. */
export function startStandIn(options?: StandInOptions): Promise<StandIn>;
