/**
 * The step's outputs, as the contract names them.
 */
import type { FileResult, PipelineResult } from '../pipeline.js';

/** One entry of the `results` output (kebab-case keys, as documented). */
export interface ResultEntry {
  source: string;
  status: FileResult['status'];
  outputs: string[];
  error?: string;
  reason?: string;
  'revised-prompt'?: string;
  'duration-ms': number;
  attempts: number;
  'task-ids'?: string[];
}

/** The `results` array, one object per source file. */
export function resultEntries(result: PipelineResult): ResultEntry[] {
  return result.results.map(r => ({
    source: r.source,
    status: r.status,
    outputs: r.outputs,
    ...(r.error !== undefined && { error: r.error }),
    ...(r.reason !== undefined && { reason: r.reason }),
    ...(r.revisedPrompt !== undefined && { 'revised-prompt': r.revisedPrompt }),
    'duration-ms': r.durationMs,
    attempts: r.attempts,
    ...(r.taskIds && { 'task-ids': r.taskIds })
  }));
}

/** How a status is shown in the summary and the comment. */
export const STATUS_ICON: Record<FileResult['status'], string> = { edited: '✅', skipped: '⏭️', failed: '❌', queued: '🕒' };

/** Counts of source files per status. */
export function counts(result: PipelineResult): Record<FileResult['status'], number> {
  const tally = { edited: 0, skipped: 0, failed: 0, queued: 0 };
  for (const r of result.results) tally[r.status]++;
  return tally;
}

/** Every output of the step, by name; `set` is core.setOutput in the action. */
export function setOutputs(result: PipelineResult, set: (name: string, value: string) => void): void {
  const tally = counts(result);
  set('results', JSON.stringify(resultEntries(result)));
  set('edited-count', String(tally.edited));
  set('skipped-count', String(tally.skipped));
  set('failed-count', String(tally.failed));
  set('output-files', result.outputFiles.join('\n'));
  set('task-ids', result.taskIds.join('\n'));
}

/** One line per failed file, for the step's failure message. */
export function failureLines(result: PipelineResult): string[] {
  return result.results.filter(r => r.status === 'failed').map(r => `${r.source}: ${r.error ?? 'failed'}`);
}
