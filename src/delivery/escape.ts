/**
 * Escaping for text that comes from file names or from the API before it
 * enters Markdown or HTML (job summary, PR comment).
 */

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * Escapes text for a Markdown table cell inside HTML-capable Markdown: HTML
 * special characters, pipes, backticks, brackets and line breaks (which would
 * end the row), and `--` (which could close an HTML comment marker).
 */
export function escapeCell(text: string): string {
  return escapeHtml(text)
    .replace(/\|/g, '&#124;')
    .replace(/`/g, '&#96;')
    .replace(/\[/g, '&#91;')
    .replace(/\]/g, '&#93;')
    .replace(/\*/g, '&#42;')
    .replace(/_/g, '&#95;')
    .replace(/-{2,}/g, dashes => '&#45;'.repeat(dashes.length))
    .replace(/\r?\n|\r/g, '<br>');
}
