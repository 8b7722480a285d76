/**
 * renderSummary: hostile file names and API text cannot break the table or
 * inject HTML; the counts line and the dry-run note.
 */
import { describe, expect, it } from '@jest/globals';
import { renderSummary } from '../src/delivery/summary.js';
import type { FileResult, PipelineResult } from '../src/pipeline.js';
import type { Plan } from '../src/plan.js';
import type { Settings } from '../src/settings.js';

function resultOf(results: FileResult[], options: { dryRun?: boolean; cancelled?: boolean; model?: string } = {}): PipelineResult {
  const settings = {
    dryRun: options.dryRun ?? false,
    params: { model: options.model ?? 'gpt-image-1', n: 1 },
    endpoint: new URL('https://api.acedata.cloud/openai/images/edits')
  } as Settings;
  return {
    settings,
    plan: { jobs: [], notSources: [], otherShards: 0, notChanged: 0, warnings: [] } as Plan,
    results,
    outputFiles: results.flatMap(r => (r.status === 'edited' ? r.outputs : [])),
    taskIds: results.flatMap(r => r.taskIds ?? []),
    cancelled: options.cancelled ?? false
  };
}

const HOSTILE = 'art/a|b<script>alert(1)</script>--> `x`\n| --- |\r\n<!-- z.png';

/** The lines of the table, between <table> and </table>. */
function tableRows(markdown: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf('<table>');
  const end = lines.indexOf('</table>');
  expect(start).toBeGreaterThan(-1);
  expect(end).toBeGreaterThan(start);
  return lines.slice(start + 1, end);
}

describe('renderSummary', () => {
  const hostile: FileResult[] = [
    {
      source: HOSTILE,
      status: 'failed',
      outputs: [],
      error: 'HTTP 400: <img src=x onerror=alert(1)> | bad `code`\nsecond line --> end',
      durationMs: 1234,
      attempts: 2
    },
    {
      source: 'art/ok.png',
      status: 'edited',
      outputs: [`${HOSTILE}.edited.png`, 'art/ok.edited-2.png'],
      revisedPrompt: 'A <b>bold</b> | piped\r\nprompt ``` fenced',
      durationMs: 500,
      attempts: 1
    },
    { source: 'art/same.png', status: 'skipped', outputs: ['art/same.edited.png'], durationMs: 0, attempts: 0 },
    { source: 'art/q.png', status: 'queued', outputs: [], taskIds: ['task-<1>'], durationMs: 10, attempts: 1 }
  ];

  it('escapes hostile file names and API text: no injected HTML, no broken rows', () => {
    const markdown = renderSummary(resultOf(hostile));
    expect(markdown.toLowerCase()).not.toContain('<script');
    expect(markdown).not.toContain('<img');
    expect(markdown).not.toContain('<b>');
    expect(markdown).not.toContain('-->');
    expect(markdown).not.toContain('<!--');
    expect(markdown).not.toContain('`x`');
    expect(markdown).not.toContain('```');
    expect(markdown).not.toContain('\r');

    const rows = tableRows(markdown);
    // A header row and one row per file: a newline in a name or message cannot end a row.
    expect(rows).toHaveLength(1 + hostile.length);
    for (const row of rows) {
      expect(row).toMatch(/^<tr>.*<\/tr>$/);
      expect(row.match(/<t[dh]>/g)).toHaveLength(6);
      expect(row).not.toContain('|');
    }
    expect(rows[1]).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(rows[1]).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(rows[1]).toContain('<br>');
    expect(rows[1]).toContain('❌ failed');
    expect(rows[1]).toContain('1.2 s');
    expect(rows[2]).toContain('&lt;b&gt;bold&lt;/b&gt;');
    expect(rows[2].match(/<code>/g)).toHaveLength(3); // the source and its two outputs
    expect(rows[3]).toContain('⏭️ skipped');
    expect(rows[4]).toContain('task task-&lt;1&gt;');
  });

  it('says how many files were edited, skipped, failed and queued, with which model and where', () => {
    const markdown = renderSummary(resultOf(hostile));
    const lines = markdown.split('\n');
    expect(lines[0]).toBe('## Image edits');
    expect(markdown).toContain('**1 edited, 1 skipped, 1 failed, 1 queued** with <code>gpt-image-1</code> at https://api.acedata.cloud');
    expect(markdown).not.toContain('Dry run');
    expect(markdown).not.toContain('cancelled');

    const plain = renderSummary(resultOf([hostile[1]]));
    expect(plain).toContain('**1 edited, 0 skipped, 0 failed** with');
    expect(plain).not.toContain('queued');
  });

  it('shows a model name as typed: entities in <code>, not literally in a Markdown code span', () => {
    const markdown = renderSummary(resultOf([hostile[2]], { model: 'my_model--x`<i>' }));
    const line = markdown.split('\n').find(l => l.startsWith('**'))!;
    expect(line).toContain('<code>my&#95;model&#45;&#45;x&#96;&lt;i&gt;</code>');
    expect(line).not.toContain('`');
    expect(line).not.toContain('<i>');
  });

  it('adds the dry-run note, and the cancelled note', () => {
    const dry = renderSummary(resultOf([{ ...hostile[1], status: 'edited' }], { dryRun: true }));
    expect(dry.split('\n')[0]).toBe('## Image edits (dry run)');
    expect(dry).toContain('Dry run: nothing was sent or written');
    const cancelled = renderSummary(resultOf([hostile[0]], { cancelled: true }));
    expect(cancelled).toContain('**cancelled**');
  });

  it('shows before/after images at the commit that holds them, for edited files', () => {
    const at = { repo: 'octo/repo', sha: 'abc123' };
    const markdown = renderSummary(resultOf(hostile.slice(1, 3)), undefined, { sourcesAt: at, outputsAt: { ...at, pathPrefix: 'pr-7' } }, 'https://github.example');
    const [header, edited, skipped] = tableRows(markdown);
    expect(header).toContain('<th>Before</th><th>After</th>');
    expect(edited).toContain('src="https://github.example/octo/repo/blob/abc123/art/ok.png?raw=true"');
    expect(edited).toContain('src="https://github.example/octo/repo/blob/abc123/pr-7/art/ok.edited-2.png?raw=true"');
    expect(skipped).toContain('src="https://github.example/octo/repo/blob/abc123/art/same.png?raw=true"');
    expect(skipped).not.toContain('art/same.edited.png?raw=true');
  });

  it("stays under GitHub's 1 MiB summary limit: past it, the other files are counted", () => {
    const many: FileResult[] = Array.from({ length: 6000 }, (_, i) => ({
      source: `art/${'deep/'.repeat(10)}file-${i}.png`,
      status: 'edited' as const,
      outputs: [`art/${'deep/'.repeat(10)}file-${i}.edited.png`],
      revisedPrompt: 'r'.repeat(80),
      durationMs: 1000,
      attempts: 1
    }));
    const markdown = renderSummary(resultOf(many), undefined, { sourcesAt: { repo: 'o/r', sha: 's' }, outputsAt: { repo: 'o/r', sha: 's' } });
    expect(Buffer.byteLength(markdown)).toBeLessThan(1024 * 1024);
    const shown = tableRows(markdown).length - 1;
    expect(shown).toBeGreaterThan(100);
    expect(markdown).toContain(`… and ${6000 - shown} more files: the job summary has a size limit; the \`results\` output lists them all.`);
  });

  it('says so when there are no source files', () => {
    const markdown = renderSummary(resultOf([]));
    expect(markdown).toContain('No source files.');
    expect(markdown).not.toContain('<table>');
    expect(markdown).toContain('**0 edited, 0 skipped, 0 failed**');
  });
});
