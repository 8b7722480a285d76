/**
 * A streaming multipart/form-data parser (RFC 7578) for the stand-in endpoint.
 * It reads the body chunk by chunk and keeps only what it is asked to keep:
 * text fields, and of each file part its name, filename, type and size, plus
 * its bytes only when `keepFile` allows (up to a cap). So a bench that uploads
 * large images does not make the stand-in hold them in memory.
 */

/** Raised for a body that is not valid multipart/form-data. */
export class MultipartError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'MultipartError';
  }
}

/** Longest header block of one part. */
const MAX_HEADER_BYTES = 16 * 1024;
/** Most parts in one body. */
const MAX_PARTS = 1000;
/** Longest text field kept; longer values are cut and marked `truncated`. */
export const MAX_FIELD_BYTES = 1024 * 1024;

/**
 * The boundary named by a `multipart/form-data` Content-Type, or undefined.
 * @param {string | undefined} contentType
 * @returns {string | undefined}
 */
export function multipartBoundary(contentType) {
  if (!contentType || !/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = match ? (match[1] ?? match[2]) : undefined;
  return boundary && boundary.length <= 200 ? boundary : undefined;
}

/**
 * @typedef {object} FieldPart
 * @property {string} name
 * @property {string} value
 * @property {boolean} truncated
 */
/**
 * @typedef {object} FilePart
 * @property {string} name
 * @property {string} filename
 * @property {string} type the part's Content-Type ('' when absent)
 * @property {number} size bytes received
 * @property {Buffer} [bytes] the content, when `keepFile` asked for it and it fit
 */

/**
 * Parses a multipart/form-data body.
 * @param {AsyncIterable<Uint8Array>} body the request body, e.g. an http.IncomingMessage
 * @param {string | undefined} contentType the request's Content-Type header
 * @param {{keepFile?: (part: {name: string, filename: string, type: string, index: number}) => number}} [options]
 *   `keepFile` returns how many bytes of this file part to keep (0: count only);
 *   a part larger than that is counted but its bytes are dropped.
 * @returns {Promise<{fields: FieldPart[], files: FilePart[]}>}
 */
export async function parseMultipart(body, contentType, options = {}) {
  const boundary = multipartBoundary(contentType);
  if (!boundary) throw new MultipartError(`Content-Type is not multipart/form-data with a boundary: ${String(contentType)}`);
  const parser = new MultipartParser(boundary, options.keepFile ?? (() => 0));
  for await (const chunk of body) parser.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return parser.end();
}

class MultipartParser {
  /**
   * @param {string} boundary
   * @param {(part: {name: string, filename: string, type: string, index: number}) => number} keepFile
   */
  constructor(boundary, keepFile) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
    this.keepFile = keepFile;
    /** A CRLF in front, so the first boundary looks like every other. @type {Buffer} */
    this.buffer = Buffer.from('\r\n');
    /** @type {'preamble' | 'after-delimiter' | 'headers' | 'body' | 'done'} */
    this.state = 'preamble';
    /** @type {FieldPart[]} */
    this.fields = [];
    /** @type {FilePart[]} */
    this.files = [];
    /** @type {{name: string, filename?: string, type: string, size: number, keep: number, chunks: Buffer[], kept: number, dropped: boolean} | undefined} */
    this.part = undefined;
    this.partCount = 0;
  }

  /** @param {Buffer} chunk */
  write(chunk) {
    if (this.state === 'done') return;
    if (this.state === 'body' && this.buffer.length < this.delimiter.length && chunk.length >= this.delimiter.length) {
      // The held tail (shorter than a delimiter) only needs joining when a
      // delimiter starts in it and ends in the chunk; otherwise it is part data
      // and the chunk is searched as is, without copying it.
      const joined = Buffer.concat([this.buffer, chunk.subarray(0, this.delimiter.length)]);
      const at = joined.indexOf(this.delimiter);
      if (at < 0 || at >= this.buffer.length) {
        this.partData(this.buffer);
        this.buffer = chunk;
        this.process();
        return;
      }
    }
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    this.process();
  }

  end() {
    if (this.state !== 'done') throw new MultipartError('multipart body ended before its closing boundary');
    return { fields: this.fields, files: this.files };
  }

  process() {
    const delimiter = this.delimiter;
    for (;;) {
      if (this.state === 'preamble') {
        const at = this.buffer.indexOf(delimiter);
        if (at < 0) {
          this.buffer = Buffer.from(this.buffer.subarray(Math.max(0, this.buffer.length - delimiter.length + 1)));
          return;
        }
        this.buffer = this.buffer.subarray(at + delimiter.length);
        this.state = 'after-delimiter';
      } else if (this.state === 'after-delimiter') {
        if (this.buffer.length < 2) return;
        if (this.buffer[0] === 0x2d && this.buffer[1] === 0x2d) {
          this.state = 'done';
          this.buffer = Buffer.alloc(0);
          return;
        }
        let at = 0;
        while (at < this.buffer.length && (this.buffer[at] === 0x20 || this.buffer[at] === 0x09)) at++;
        if (at + 2 > this.buffer.length) return;
        if (this.buffer[at] !== 0x0d || this.buffer[at + 1] !== 0x0a) {
          throw new MultipartError('malformed multipart body: a boundary is not followed by CRLF or "--"');
        }
        this.buffer = this.buffer.subarray(at + 2);
        this.state = 'headers';
      } else if (this.state === 'headers') {
        let headerEnd;
        let skip;
        if (this.buffer.length >= 2 && this.buffer[0] === 0x0d && this.buffer[1] === 0x0a) {
          headerEnd = 0;
          skip = 2;
        } else {
          headerEnd = this.buffer.indexOf('\r\n\r\n');
          skip = 4;
        }
        if (headerEnd < 0) {
          if (this.buffer.length > MAX_HEADER_BYTES) throw new MultipartError(`a multipart part has more than ${MAX_HEADER_BYTES} bytes of headers`);
          return;
        }
        this.startPart(this.buffer.toString('utf8', 0, headerEnd));
        this.buffer = this.buffer.subarray(headerEnd + skip);
        this.state = 'body';
      } else if (this.state === 'body') {
        const at = this.buffer.indexOf(delimiter);
        if (at >= 0) {
          this.partData(this.buffer.subarray(0, at));
          this.finishPart();
          this.buffer = this.buffer.subarray(at + delimiter.length);
          this.state = 'after-delimiter';
        } else {
          const hold = Math.min(this.buffer.length, delimiter.length - 1);
          this.partData(this.buffer.subarray(0, this.buffer.length - hold));
          this.buffer = Buffer.from(this.buffer.subarray(this.buffer.length - hold));
          return;
        }
      } else {
        return;
      }
    }
  }

  /** @param {string} headerBlock */
  startPart(headerBlock) {
    if (++this.partCount > MAX_PARTS) throw new MultipartError(`multipart body has more than ${MAX_PARTS} parts`);
    /** @type {Record<string, string>} */
    const headers = {};
    for (const line of headerBlock.split('\r\n')) {
      if (line === '') continue;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new MultipartError(`malformed multipart part header: ${JSON.stringify(line.slice(0, 100))}`);
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const disposition = headers['content-disposition'];
    if (!disposition || !/^form-data\b/i.test(disposition)) {
      throw new MultipartError('a multipart part has no "Content-Disposition: form-data" header');
    }
    const params = dispositionParams(disposition);
    if (params.name === undefined) throw new MultipartError('a multipart part has no name in its Content-Disposition');
    const filename = params['filename*'] !== undefined ? decodeExtended(params['filename*']) : params.filename;
    const type = headers['content-type'] ?? '';
    const keep =
      filename === undefined ? MAX_FIELD_BYTES : Math.max(0, this.keepFile({ name: params.name, filename, type, index: this.files.length }));
    this.part = { name: params.name, filename, type, size: 0, keep, chunks: [], kept: 0, dropped: false };
  }

  /** @param {Buffer} data */
  partData(data) {
    const part = this.part;
    if (!part || data.length === 0) return;
    part.size += data.length;
    if (part.dropped) return;
    if (part.kept + data.length > part.keep) {
      if (part.filename === undefined) {
        part.chunks.push(data.subarray(0, part.keep - part.kept));
        part.kept = part.keep;
      } else {
        part.chunks = [];
        part.kept = 0;
      }
      part.dropped = true;
      return;
    }
    part.chunks.push(data);
    part.kept += data.length;
  }

  finishPart() {
    const part = this.part;
    if (!part) return;
    this.part = undefined;
    if (part.filename === undefined) {
      this.fields.push({ name: part.name, value: Buffer.concat(part.chunks).toString('utf8'), truncated: part.dropped });
    } else {
      /** @type {FilePart} */
      const file = { name: part.name, filename: part.filename, type: part.type, size: part.size };
      if (!part.dropped && part.keep > 0) file.bytes = Buffer.concat(part.chunks);
      this.files.push(file);
    }
  }
}

/**
 * Parameters of a Content-Disposition value (`name`, `filename`, `filename*`).
 * @param {string} value
 * @returns {Record<string, string>}
 */
function dispositionParams(value) {
  /** @type {Record<string, string>} */
  const params = {};
  const pattern = /;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  for (const match of value.matchAll(pattern)) {
    const key = match[1].toLowerCase();
    params[key] = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3].trim();
  }
  return params;
}

/**
 * Decodes an RFC 5987 value such as `UTF-8''caf%C3%A9.png`.
 * @param {string} value
 */
function decodeExtended(value) {
  const match = /^([^']*)'[^']*'(.*)$/.exec(value);
  if (!match) return value;
  try {
    return decodeURIComponent(match[2]);
  } catch {
    return match[2];
  }
}
