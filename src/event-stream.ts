/**
 * A parser for `text/event-stream` answers (server-sent events), fed chunk by
 * chunk: lines end in LF, CRLF or CR (also when split across chunks), a blank
 * line ends an event, `data:` lines of one event are joined with `\n`, lines
 * starting with `:` are comments, and `[DONE]` markers are dropped.
 */

/** One server-sent event. `event` is `message` when the stream named none. */
export interface ServerSentEvent {
  event: string;
  data: string;
  id?: string;
}

/** An incremental event-stream parser: `push` chunks as they come, `end` at the end. */
export class EventStreamParser {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';
  /** The last chunk ended in CR: a LF at the start of the next one belongs to it. */
  private pendingCR = false;
  private started = false;
  private event = '';
  private data: string[] = [];
  private id: string | undefined;

  /** Feeds a chunk; returns the events it completed. */
  push(chunk: Uint8Array | string): ServerSentEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text === '') return [];
    if (this.pendingCR && text.startsWith('\n')) text = text.slice(1);
    this.pendingCR = false;
    this.buffer += text;
    const events: ServerSentEvent[] = [];
    const lineEnd = /\r\n|\r|\n/g;
    let start = 0;
    for (let match = lineEnd.exec(this.buffer); match; match = lineEnd.exec(this.buffer)) {
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (match[0] === '\r' && match.index === this.buffer.length - 1) this.pendingCR = true;
      this.line(this.buffer.slice(start, match.index), events);
      start = match.index + match[0].length;
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /** Ends the stream; returns a last event the server did not close with a blank line. */
  end(): ServerSentEvent[] {
    const events: ServerSentEvent[] = [];
    const rest = this.buffer + this.decoder.decode();
    this.buffer = '';
    if (rest) this.line(rest, events);
    this.dispatch(events);
    return events;
  }

  private line(line: string, events: ServerSentEvent[]): void {
    if (line === '') {
      this.dispatch(events);
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    // `retry` and unknown fields are ignored.
  }

  private dispatch(events: ServerSentEvent[]): void {
    if (this.data.length > 0) {
      const data = this.data.join('\n');
      if (data.trim() !== '[DONE]') {
        const event: ServerSentEvent = { event: this.event || 'message', data };
        if (this.id !== undefined) event.id = this.id;
        events.push(event);
      }
    }
    this.event = '';
    this.data = [];
  }
}

/** Parses a whole event stream (e.g. an HTTP answer body), yielding events as they complete. */
export async function* parseEventStream(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<ServerSentEvent> {
  const parser = new EventStreamParser();
  for await (const chunk of source) yield* parser.push(chunk);
  yield* parser.end();
}
