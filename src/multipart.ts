/**
 * Where multipart fields are built: a streamed `multipart/form-data` body with
 * text fields and file parts. Files are streamed from disk, never read whole
 * (unless the caller passes bytes it read already); the exact `content-length`
 * is known up front, so no chunked encoding is needed.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';

/**
 * A text field, or a file part sent as `filename` with `contentType`: its `bytes` when they
 * were read already, else the file at `file`, streamed.
 */
export type Part =
  | { name: string; value: string }
  | { name: string; file: string; filename: string; contentType: string; bytes?: Uint8Array };

/** A ready-to-send body. */
export interface MultipartBody {
  /** `multipart/form-data; boundary=…` */
  contentType: string;
  /** Exact size of the body in bytes. */
  contentLength: number;
  /** A fresh stream of the body at each call (one per attempt). */
  stream(): Readable;
}

type Segment = Buffer | { file: string; size: number };

const CRLF = Buffer.from('\r\n');
/** Files are read in pieces of this size (fewer, larger socket writes than the 64 KiB default). */
const FILE_CHUNK_BYTES = 256 * 1024;
/** A buffer at least this large is sent on its own (a copy would cost more than a write). */
const LARGE_SEGMENT_BYTES = 64 * 1024;

/**
 * Builds a multipart body from `parts`, in order. File sizes are read now (an
 * error names a missing or unreadable file); file bytes are read only when a
 * stream is consumed, and a file whose size changed meanwhile fails the stream.
 */
export async function multipartBody(parts: Part[]): Promise<MultipartBody> {
  const boundary = `----image-edit-${randomBytes(16).toString('hex')}`;
  const segments: Segment[] = [];
  for (const part of parts) {
    if (!part.name) throw new Error('a multipart part has an empty name');
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeQuoted(part.name)}"`;
    if ('file' in part) {
      if (!/^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+$/.test(part.contentType)) {
        throw new Error(`the file ${part.file} has an invalid content type "${part.contentType}"`);
      }
      head += `; filename="${escapeQuoted(part.filename)}"\r\nContent-Type: ${part.contentType}\r\n\r\n`;
      const content = part.bytes ? Buffer.from(part.bytes.buffer, part.bytes.byteOffset, part.bytes.byteLength) : { file: part.file, size: await fileSize(part.file) };
      segments.push(Buffer.from(head, 'utf8'), content, CRLF);
    } else {
      segments.push(Buffer.from(`${head}\r\n\r\n`, 'utf8'), Buffer.from(part.value, 'utf8'), CRLF);
    }
  }
  segments.push(Buffer.from(`--${boundary}--\r\n`, 'utf8'));
  const contentLength = segments.reduce((sum, s) => sum + (Buffer.isBuffer(s) ? s.length : s.size), 0);
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    contentLength,
    stream: () => Readable.from(generate(segments), { objectMode: false })
  };
}

/**
 * Escapes a name or filename for a quoted header parameter, as browsers do:
 * `"`, CR and LF become `%22`, `%0D`, `%0A`; a backslash becomes `%5C` (so that
 * parsers that read `\` as an escape and those that do not see the same name).
 */
export function escapeQuoted(text: string): string {
  return text.replace(/["\r\n\\]/g, c => ({ '"': '%22', '\r': '%0D', '\n': '%0A', '\\': '%5C' })[c] as string);
}

async function fileSize(file: string): Promise<number> {
  let info;
  try {
    info = await stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(`cannot read the file ${file} (${code})`, { cause: err });
  }
  if (!info.isFile()) throw new Error(`${file} is not a regular file`);
  return info.size;
}

/**
 * Yields the body. Each chunk yielded becomes one socket write (one system call,
 * which on loopback also runs the receiving side), so the small pieces (part
 * headers, text fields, CRLFs) are gathered and sent together with a file's
 * first and last chunk: a request with a small image is one write, not a dozen.
 */
async function* generate(segments: Segment[]): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  const flush = (): Buffer => {
    const joined = pending.length === 1 ? pending[0] : Buffer.concat(pending);
    pending = [];
    return joined;
  };
  for (const segment of segments) {
    if (Buffer.isBuffer(segment)) {
      if (segment.length < LARGE_SEGMENT_BYTES) {
        pending.push(segment);
        continue;
      }
      // File bytes read ahead go as they are, not copied into one buffer with the small pieces.
      if (pending.length) yield flush();
      yield segment;
      continue;
    }
    let read = 0;
    for await (const chunk of createReadStream(segment.file, { highWaterMark: FILE_CHUNK_BYTES })) {
      read += (chunk as Buffer).length;
      if (read > segment.size) break;
      pending.push(chunk as Buffer);
      // The file's last chunk waits for what follows it.
      if (read < segment.size) yield flush();
    }
    if (read !== segment.size) {
      throw new Error(`the file ${segment.file} changed while it was being sent (${segment.size} bytes expected, ${read} found)`);
    }
  }
  if (pending.length) yield flush();
}
