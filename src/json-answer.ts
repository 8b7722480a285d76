/**
 * Reading a JSON answer of the edit endpoint as it streams in: every `b64_json`
 * string value is decoded straight into bytes on the way, so a 2 MB image never
 * exists as a 2.7 MB string, its copies or a parse of it (measured in
 * `npm run bench`: decoding one 2 MB answer took 5–9 ms before, 1.5–2 ms after).
 */
import { randomBytes } from 'node:crypto';

/** What a {@link JsonAnswerScanner} kept of an answer, for {@link parseScanned}. */
export interface ScannedAnswer {
  /** The answer's text, each decoded value replaced by `placeholder` and its index. */
  text: string;
  images: DecodedBase64[];
  placeholder: string;
  /** Why the answer cannot be JSON, found inside a decoded value (which JSON.parse never sees). */
  malformed?: string;
}

/** A `b64_json` value decoded while the answer was read. */
export class DecodedBase64 {
  constructor(
    /** The decoded bytes (a `data:…;base64,` prefix removed first). */
    readonly bytes: Buffer,
    /** Characters of the value as sent. */
    readonly textLength: number
  ) {}

  /** Keeps messages that show an answer short. */
  toJSON(): string {
    return `(${this.textLength} characters of base64)`;
  }
}

/** A decoded value gets room for at most this many characters up front (a larger one grows piece by piece). */
const MAX_PREALLOCATED_TEXT = 96 * 1024 * 1024;
/**
 * Stands in for a decoded value in the text that is parsed: `\u0000b64:<nonce>:<index>`, with a
 * nonce per answer, so that no string the answer itself holds can pass for a placeholder.
 */
const PLACEHOLDER = '\u0000b64:';
const HEX4 = /^[0-9a-fA-F]{4}$/;
/** Raw control characters are not allowed inside a JSON string. */
const CONTROL = /[\u0000-\u001f]/;
const CONTROLS = /[\u0000-\u001f]/g;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const B64_KEY = Buffer.from('b64_json', 'latin1');
/** JSON escapes as the characters they stand for (inside a base64 value, `\/` is the one that matters). */
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * A byte-level scanner of a JSON answer. It follows strings (quotes and
 * escapes) and watches for the key `"b64_json"` followed by `:` and a string:
 * that string's bytes are fed to a {@link Base64Decoder} instead of being kept,
 * and a placeholder takes its place in the text. Everything else is kept as it
 * came and parsed by `JSON.parse` at the end, so the scanner never has to judge
 * whether the JSON is valid: a malformed answer still fails to parse.
 */
export class JsonAnswerScanner {
  private readonly kept: Buffer[] = [];
  private readonly images: DecodedBase64[] = [];
  private inString = false;
  private escaped = false;
  /** Bytes of the current string that match `b64_json` so far; -1 once it cannot be that key. */
  private keyMatch = -1;
  /** 1: the string just closed was `"b64_json"`; 2: and its colon followed. */
  private expect = 0;
  private value: Base64Decoder | undefined;
  /** An escape inside a base64 value, without its backslash, while it is incomplete. */
  private valueEscape: string | undefined;
  /** Bytes written before the current chunk. */
  private seen = 0;
  /** Set when a decoded value held what JSON does not allow in a string: the answer then fails to parse. */
  private malformed: string | undefined;
  private readonly nonce = randomBytes(6).toString('hex');

  /** `expectedLength`: the answer's size (`content-length`), when known; it sizes the decoded buffers. */
  constructor(private readonly expectedLength = 0) {}

  /** Takes the next chunk of the answer. */
  write(chunk: Buffer): void {
    let from = 0;
    let i = 0;
    const length = chunk.length;
    while (i < length) {
      if (this.value) {
        i = this.scanValue(chunk, i);
        from = i;
        continue;
      }
      const byte = chunk[i];
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          i++;
        } else if (byte === BACKSLASH) {
          this.escaped = true;
          this.keyMatch = -1;
          i++;
        } else if (byte === QUOTE) {
          this.inString = false;
          this.expect = this.keyMatch === B64_KEY.length ? 1 : 0;
          i++;
        } else if (this.keyMatch >= 0) {
          this.keyMatch = this.keyMatch < B64_KEY.length && byte === B64_KEY[this.keyMatch] ? this.keyMatch + 1 : -1;
          i++;
        } else {
          // Not the key: jump to the next quote or backslash.
          i = nextOf(chunk, i, length);
        }
        continue;
      }
      if (byte === QUOTE) {
        if (this.expect === 2) {
          this.kept.push(chunk.subarray(from, i));
          this.value = new Base64Decoder(this.expectedLength > 0 ? this.expectedLength - (this.seen + i + 1) : 0);
          this.expect = 0;
          i++;
          from = i;
          continue;
        }
        this.inString = true;
        this.keyMatch = 0;
        this.expect = 0;
      } else if (byte === COLON && this.expect === 1) {
        this.expect = 2;
      } else if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) {
        this.expect = 0;
      }
      i++;
    }
    if (!this.value && from < length) this.kept.push(chunk.subarray(from, length));
    this.seen += length;
  }

  /** The text to parse (decoded values replaced by placeholders) and the decoded values. */
  end(): ScannedAnswer {
    // An unterminated value: leave the text unterminated too, so that it fails to parse.
    if (this.value) this.kept.push(Buffer.from('"'));
    const text = Buffer.concat(this.kept).toString('utf8');
    return { text, images: this.images, placeholder: `${PLACEHOLDER}${this.nonce}:`, malformed: this.malformed };
  }

  /** Feeds base64 bytes from `i` on; returns where the scan goes on. */
  private scanValue(chunk: Buffer, i: number): number {
    const value = this.value as Base64Decoder;
    const length = chunk.length;
    while (i < length) {
      if (this.valueEscape !== undefined) {
        this.valueEscape += String.fromCharCode(chunk[i++]);
        const escape = this.valueEscape;
        if (escape[0] === 'u') {
          if (escape.length < 5) continue;
          if (!HEX4.test(escape.slice(1))) this.malformed ??= `invalid escape \\${escape} in a b64_json value`;
          value.pushEscaped(String.fromCharCode(parseInt(escape.slice(1), 16) || 0));
        } else {
          if (!(escape in ESCAPES)) this.malformed ??= `invalid escape \\${escape} in a b64_json value`;
          value.pushEscaped(ESCAPES[escape] ?? escape);
        }
        this.valueEscape = undefined;
        continue;
      }
      const stop = nextOf(chunk, i, length);
      if (stop > i) {
        const piece = chunk.toString('latin1', i, stop);
        const wasVerifying = value.verifying;
        value.push(piece);
        // A raw control character is not allowed in a JSON string. Text the decoder verified
        // (groups of the 64 letters only) cannot hold one: only the rest is searched.
        const unchecked = wasVerifying && value.verifying ? value.unverified : piece;
        if (CONTROL.test(unchecked)) this.malformed ??= 'a raw control character in a b64_json value';
      }
      if (stop === length) return length;
      if (chunk[stop] === BACKSLASH) {
        this.valueEscape = '';
        i = stop + 1;
        continue;
      }
      // The closing quote.
      const index = this.images.length;
      this.images.push(value.end());
      this.kept.push(Buffer.from(JSON.stringify(`${PLACEHOLDER}${this.nonce}:${index}`), 'utf8'));
      this.value = undefined;
      return stop + 1;
    }
    return length;
  }
}

/** Index of the next quote or backslash in `chunk` from `i`, or `length`. */
function nextOf(chunk: Buffer, i: number, length: number): number {
  const quote = chunk.indexOf(QUOTE, i);
  const backslash = chunk.indexOf(BACKSLASH, i);
  if (quote === -1) return backslash === -1 ? length : backslash;
  return backslash === -1 || quote < backslash ? quote : backslash;
}

/**
 * Decodes base64 text pushed piece by piece, with the result `Buffer.from(text,
 * 'base64')` would give for the whole text (after a `data:…,` prefix is removed,
 * as the edit client does for plain strings). Whole groups of 4 characters are decoded as
 * they come, straight into one buffer when the answer's size is known; a group
 * holding anything but the 64 letters (whitespace, padding, other characters)
 * sends the rest of the text to one lenient decode at the end.
 */
export class Base64Decoder {
  /** Decoded bytes that no longer fit `out`. */
  private readonly parts: Buffer[] = [];
  /** Where decoded bytes go while they fit, `written` of them so far. */
  private out: Buffer | undefined;
  private written = 0;
  private carry = '';
  /** The start of the text, kept until it is known whether it is a `data:` URL prefix. */
  private head: string | undefined = '';
  private rest: string[] | undefined;
  private textLength = 0;

  /**
   * True while every whole group so far decoded strictly (only the 64 letters, exactly 3 bytes
   * per 4 characters); then only {@link unverified} is text not yet checked that way.
   */
  get verifying(): boolean {
    return this.head === undefined && this.rest === undefined;
  }

  /** The characters (at most 3) kept for the next group. */
  get unverified(): string {
    return this.carry;
  }

  /** `maxTextLength`: at most this many characters will come (the rest of the answer), when known. */
  constructor(maxTextLength = 0) {
    if (maxTextLength > 0) this.out = Buffer.allocUnsafe(Math.ceil(Math.min(maxTextLength, MAX_PREALLOCATED_TEXT) / 4) * 3);
  }

  /**
   * Adds a character that came escaped (`\n`, `\u0041`…). Control characters are dropped
   * once the start is known not to be a `data:` prefix: the lenient decode ignores them
   * wherever they are, and dropping them keeps MIME-style line breaks on the strict path.
   */
  pushEscaped(char: string): void {
    if (this.head === undefined && char < ' ') {
      this.textLength += char.length;
      return;
    }
    this.push(char);
  }

  /** Adds the next piece of text. */
  push(text: string): void {
    this.textLength += text.length;
    if (this.head !== undefined) {
      this.head += text;
      if (this.head.length < 5 && 'data:'.startsWith(this.head)) return;
      if (this.head.startsWith('data:')) {
        const comma = this.head.indexOf(',');
        if (comma === -1) return;
        text = this.head.slice(comma + 1);
      } else {
        text = this.head;
      }
      this.head = undefined;
      // Escaped control characters kept while the start was unsettled go now, as pushEscaped
      // drops them from here on (raw ones in the head were searched for as they came).
      text = text.replace(CONTROLS, '');
    }
    if (this.rest) {
      this.rest.push(text);
      return;
    }
    if (this.carry) {
      // Complete the group started by the previous piece.
      const needed = 4 - this.carry.length;
      const group = this.carry + text.slice(0, needed);
      text = text.slice(needed);
      this.carry = '';
      if (group.length < 4) {
        this.carry = group;
        return;
      }
      if (!this.decode(group)) {
        this.rest = [group, text];
        return;
      }
    }
    const whole = text.length - (text.length % 4);
    this.carry = text.slice(whole);
    if (whole > 0 && !this.decode(text.slice(0, whole))) {
      this.rest = [text];
      this.carry = '';
    }
  }

  /** Decodes whole groups of 4; false (nothing kept) when they hold anything but the 64 letters. */
  private decode(groups: string): boolean {
    const size = (groups.length / 4) * 3;
    if (this.out && this.written + size > this.out.length) {
      this.parts.push(this.out.subarray(0, this.written));
      this.out = undefined;
    }
    if (this.out) {
      if (this.out.write(groups, this.written, 'base64') !== size) return false;
      this.written += size;
      return true;
    }
    const bytes = Buffer.from(groups, 'base64');
    if (bytes.length !== size) return false;
    this.parts.push(bytes);
    return true;
  }

  /** The decoded bytes and the length of the text. */
  end(): DecodedBase64 {
    const text = this.head !== undefined ? this.head : this.rest ? this.rest.join('') : this.carry;
    let tail = text ? Buffer.from(text, 'base64') : undefined;
    if (tail && this.out && this.written + tail.length <= this.out.length) {
      // The last group (padding) fits where the rest went.
      this.written += tail.copy(this.out, this.written);
      tail = undefined;
    }
    const parts = this.out ? [...this.parts, this.out.subarray(0, this.written)] : this.parts;
    if (tail) parts.push(tail);
    let bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    // Far smaller than the room made for it (several images in one answer): do not keep the room.
    if (this.out && bytes.buffer === this.out.buffer && bytes.length < this.out.length * 0.9) bytes = Buffer.from(bytes);
    this.out = undefined;
    return new DecodedBase64(bytes, this.textLength);
  }
}

/**
 * Parses what a {@link JsonAnswerScanner} kept, putting each decoded value back
 * in place of its placeholder. Throws a SyntaxError when the answer is not JSON.
 */
export function parseScanned({ text, images, placeholder, malformed }: ScannedAnswer): unknown {
  if (malformed) throw new SyntaxError(`the answer is not valid JSON: ${malformed}`);
  if (images.length === 0) return JSON.parse(text);
  return JSON.parse(text, (key, value: unknown) => {
    if (key !== 'b64_json' || typeof value !== 'string' || !value.startsWith(placeholder)) return value;
    return images[Number(value.slice(placeholder.length))] ?? value;
  });
}
