import { HEADER_LENGTH, HeaderSubcode, MAX_MESSAGE_LENGTH, MessageType } from './constants.js';
import { type FatalError, headerError, u16Data } from './errors.js';

/** One framed message: its type and a view of its body (after the header). */
export interface Frame {
  readonly type: number;
  readonly body: Buffer;
  /** The whole message, header included (for NOTIFICATION data and captures). */
  readonly raw: Buffer;
}

/** RFC 4271 §6.1: the smallest length each message type may have. */
function minLength(type: number): number {
  switch (type) {
    case MessageType.Open:
      return 29;
    case MessageType.Update:
      return 23;
    case MessageType.Notification:
      return 21;
    case MessageType.Keepalive:
      return 19;
    case MessageType.RouteRefresh:
      return 23;
    default:
      return HEADER_LENGTH;
  }
}

/**
 * Cuts a TCP byte stream into BGP messages. Chunks are kept as they arrived
 * and joined only when one message spans several, so a frame's body is a view
 * into a buffer nothing writes to again: a decoder may keep views safely for as
 * long as it holds the frame.
 */
export class Framer {
  private chunks: Buffer[] = [];
  private head = 0;
  private total = 0;
  /** Raised to 65535 once both sides advertise RFC 8654 extended messages. */
  maxLength = MAX_MESSAGE_LENGTH;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  buffered(): number {
    return this.total;
  }

  /** The next whole message, a header error, or undefined when more bytes are needed. */
  next(): Frame | FatalError | undefined {
    if (this.total < HEADER_LENGTH) return undefined;
    const first = this.contiguous(HEADER_LENGTH);
    const at = this.head;
    for (let i = 0; i < 16; i++) {
      if (first[at + i] !== 0xff) {
        return headerError(HeaderSubcode.ConnectionNotSynchronized, 'marker is not all ones');
      }
    }
    const length = first.readUInt16BE(at + 16);
    const type = first[at + 18]!;
    // OPEN is never extended (RFC 8654 §3), KEEPALIVE is always 19.
    const max = type === MessageType.Open || type === MessageType.Keepalive ? MAX_MESSAGE_LENGTH : this.maxLength;
    if (type < MessageType.Open || type > MessageType.RouteRefresh) {
      if (length >= HEADER_LENGTH && length <= this.maxLength && this.total >= length) this.consume(length);
      return headerError(HeaderSubcode.BadMessageType, `unknown message type ${type}`, Buffer.from([type]));
    }
    const tooShort = length < minLength(type);
    const wrongKeepalive = type === MessageType.Keepalive && length !== HEADER_LENGTH;
    if (tooShort || length > max || wrongKeepalive) {
      return headerError(HeaderSubcode.BadMessageLength, `bad length ${length} for message type ${type}`, u16Data(length));
    }
    if (this.total < length) return undefined;
    const buf = this.contiguous(length);
    const raw = buf.subarray(this.head, this.head + length);
    this.consume(length);
    return { type, body: raw.subarray(HEADER_LENGTH), raw };
  }

  /** Makes the first chunk hold at least n bytes from `head`, joining chunks if needed. */
  private contiguous(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) return first;
    const joined = Buffer.concat([first.subarray(this.head), ...this.chunks.slice(1)]);
    this.chunks = [joined];
    this.head = 0;
    return joined;
  }

  private consume(n: number): void {
    this.total -= n;
    let left = n;
    while (left > 0) {
      const first = this.chunks[0]!;
      const avail = first.length - this.head;
      if (avail > left) {
        this.head += left;
        return;
      }
      left -= avail;
      this.chunks.shift();
      this.head = 0;
    }
  }
}
