/**
 * The job summary: one table, a row per source file.
 */
import type { PipelineResult } from '../pipeline.js';
import type { UploadedArtifact } from './artifact.js';
import { previewUrl } from './comment.js';
import type { Previews } from './github-delivery.js';
import { counts, STATUS_ICON } from './outputs.js';
import { escapeCell, escapeHtml } from './escape.js';


/**
 * The summary as HTML-in-Markdown; every name and API text is escaped. `artifact`: the uploaded
 * artifact, linked. `previews`: where the sources and outputs can be linked (committed, or pushed
 * to the preview branch), shown as before/after images.
 */
export function renderSummary(result: PipelineResult, artifact?: UploadedArtifact, previews?: Previews, serverUrl = 'https://github.com'): string {
  const { settings } = result;
  const tally = counts(result);
  const lines: string[] = [];
  lines.push(`## Image edits${settings.dryRun ? ' (dry run)' : ''}`);
  lines.push('');
  const parts = [`${tally.edited} edited`, `${tally.skipped} skipped`, `${tally.failed} failed`];
  if (tally.queued) parts.push(`${tally.queued} queued`);
  lines.push(
    `**${parts.join(', ')}** with <code>${escapeCell(settings.params.model)}</code> at ${escapeCell(settings.endpoint.origin)}` +
      (result.cancelled ? ' — **cancelled**: the run was stopped before every file finished' : '')
  );
  if (settings.dryRun) lines.push('', 'Dry run: nothing was sent or written; the outputs below are the planned paths.');
  if (artifact) {
    lines.push(
      '',
      `Outputs uploaded as the artifact <a href="${escapeHtml(artifact.url)}"><code>${escapeCell(artifact.name)}</code></a> (${result.outputFiles.length} file${result.outputFiles.length === 1 ? '' : 's'}).`
    );
  }
  lines.push('');
  if (!result.results.length) {
    lines.push('No source files.');
    return lines.join('\n') + '\n';
  }
  lines.push('<table>');
  lines.push(
    `<tr><th>Source</th><th>Outputs</th>${previews ? '<th>Before</th><th>After</th>' : ''}<th>Status</th><th>Time</th><th>Attempts</th><th>Error, reason or revised prompt</th></tr>`
  );
  let size = lines.join('\n').length;
  let shown = 0;
  for (const r of result.results) {
    const note = r.error ?? r.reason ?? r.revisedPrompt ?? (r.taskIds ? `task ${r.taskIds.join(', ')}` : '');
    const cells = [
      `<code>${escapeCell(r.source)}</code>`,
      r.outputs.map(output => `<code>${escapeCell(output)}</code>`).join('<br>'),
      ...(previews
        ? [
            image(previewUrl(serverUrl, previews.sourcesAt, r.source)),
            r.status === 'edited' ? r.outputs.map(output => image(previewUrl(serverUrl, previews.outputsAt, output))).join(' ') : ''
          ]
        : []),
      `${STATUS_ICON[r.status]} ${r.status}`,
      r.durationMs ? `${(r.durationMs / 1000).toFixed(1)} s` : '',
      r.attempts ? String(r.attempts) : '',
      escapeCell(note)
    ];
    const row = `<tr>${cells.map(cell => `<td>${cell}</td>`).join('')}</tr>`;
    size += row.length + 1;
    if (size > SUMMARY_BUDGET) {
      const more = result.results.length - shown;
      lines.push('</table>', '', `… and ${more} more file${more === 1 ? '' : 's'}: the job summary has a size limit; the \`results\` output lists them all.`);
      return lines.join('\n') + '\n';
    }
    lines.push(row);
    shown++;
  }
  lines.push('</table>');
  return lines.join('\n') + '\n';
}

/** GitHub refuses a step summary over 1 MiB; the table stops well before (in characters, most of them ASCII). */
const SUMMARY_BUDGET = 900_000;

function image(url: string): string {
  const href = escapeHtml(url);
  return `<a href="${href}"><img src="${href}" width="160"></a>`;
}
