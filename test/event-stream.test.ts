import { describe, expect, it } from '@jest/globals';
import { EventStreamParser, parseEventStream, type ServerSentEvent } from '../src/event-stream.js';

/** Feeds `bytes` to a parser in chunks of `size` bytes. */
function parseInChunks(bytes: Buffer, size: number): ServerSentEvent[] {
  const parser = new EventStreamParser();
  const events: ServerSentEvent[] = [];
  for (let i = 0; i < bytes.length; i += size) events.push(...parser.push(bytes.subarray(i, i + size)));
  events.push(...parser.end());
  return events;
}

const STREAM = [
  ': a comment',
  'event: image_edit.partial_image',
  'data: {"b64_json":"AAA=","partial_image_index":0}',
  '',
  'event: image_edit.completed',
  'data: {"b64_json":"QkJC",',
  'data: "revised_prompt":"ünïcödé ✓"}',
  'id: 7',
  '',
  'data: [DONE]',
  '',
  ''
];

const EXPECTED: ServerSentEvent[] = [
  { event: 'image_edit.partial_image', data: '{"b64_json":"AAA=","partial_image_index":0}' },
  { event: 'image_edit.completed', data: '{"b64_json":"QkJC",\n"revised_prompt":"ünïcödé ✓"}', id: '7' }
];

describe('EventStreamParser', () => {
  it('parses events, joins multi-line data and drops [DONE]', () => {
    expect(parseInChunks(Buffer.from(STREAM.join('\n')), 1 << 20)).toEqual(EXPECTED);
  });

  it('gives the same events whatever the chunk boundaries (byte by byte, through UTF-8 characters)', () => {
    const bytes = Buffer.from(STREAM.join('\n'));
    for (const size of [1, 2, 3, 5, 7, 16]) expect(parseInChunks(bytes, size)).toEqual(EXPECTED);
  });

  it('accepts CRLF line ends, also split between chunks', () => {
    const bytes = Buffer.from(STREAM.join('\r\n'));
    expect(parseInChunks(bytes, 1)).toEqual(EXPECTED);
    expect(parseInChunks(bytes, 4)).toEqual(EXPECTED);
  });

  it('accepts lone CR line ends', () => {
    expect(parseInChunks(Buffer.from(STREAM.join('\r')), 1)).toEqual(EXPECTED);
  });

  it('names events without an event field "message" and strips one leading space only', () => {
    expect(parseInChunks(Buffer.from('data:x\n\ndata:  two spaces\n\n'), 3)).toEqual([
      { event: 'message', data: 'x' },
      { event: 'message', data: ' two spaces' }
    ]);
  });

  it('ignores events without data and a byte order mark', () => {
    expect(parseInChunks(Buffer.from('\uFEFFevent: ping\n\nretry: 10\ndata: y\n\n'), 1)).toEqual([{ event: 'message', data: 'y' }]);
  });

  it('delivers a last event that lacks its blank line at the end', () => {
    expect(parseInChunks(Buffer.from('event: error\ndata: {"error":{"message":"m"}}'), 4)).toEqual([
      { event: 'error', data: '{"error":{"message":"m"}}' }
    ]);
  });

  it('accepts string chunks', () => {
    const parser = new EventStreamParser();
    expect(parser.push('data: a\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ event: 'message', data: 'a' }]);
  });
});

describe('parseEventStream', () => {
  it('yields events from an async iterable of chunks', async () => {
    const bytes = Buffer.from(STREAM.join('\r\n'));
    async function* source(): AsyncGenerator<Uint8Array> {
      for (const byte of bytes) yield Uint8Array.of(byte);
    }
    const events: ServerSentEvent[] = [];
    for await (const event of parseEventStream(source())) events.push(event);
    expect(events).toEqual(EXPECTED);
  });
});
