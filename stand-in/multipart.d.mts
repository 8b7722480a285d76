/** Types of stand-in/multipart.mjs: a streaming multipart/form-data parser. */

export class MultipartError extends Error {}

export const MAX_FIELD_BYTES: number;

export interface FieldPart {
  name: string;
  value: string;
  /** The value was longer than MAX_FIELD_BYTES and was cut. */
  truncated: boolean;
}

export interface FilePart {
  name: string;
  filename: string;
  /** The part's Content-Type ('' when absent). */
  type: string;
  /** Bytes received. */
  size: number;
  /** The content, when `keepFile` asked for it and it fit. */
  bytes?: Buffer;
}

/** The boundary named by a multipart/form-data Content-Type, or undefined. */
export function multipartBoundary(contentType: string | undefined): string | undefined;

/** Parses a multipart/form-data body chunk by chunk; throws MultipartError when malformed. */
export function parseMultipart(
  body: AsyncIterable<Uint8Array>,
  contentType: string | undefined,
  options?: { keepFile?: (part: { name: string; filename: string; type: string; index: number }) => number }
): Promise<{ fields: FieldPart[]; files: FilePart[] }>;
