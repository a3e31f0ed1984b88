/**
 * A growable output buffer with reserve-and-patch for length fields, so an
 * encoder writes each message in one pass.
 */
export class Writer {
  private buf: Buffer;
  pos = 0;

  constructor(initial = 4096) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    // Doubling from an empty buffer would stay at 0 forever.
    let size = Math.max(this.buf.length * 2, 64);
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u16(v: number): this {
    this.room(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  /** 24 bits, big-endian (EVPN labels and VNIs). */
  u24(v: number): this {
    this.room(3);
    this.buf[this.pos++] = (v >>> 16) & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  /** The octets of a latin1 string's characters [from, to): routes keep wire octets in their keys. */
  latin1(s: string, from: number, to: number): this {
    this.room(to - from);
    for (let i = from; i < to; i++) this.buf[this.pos++] = s.charCodeAt(i);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  fill(v: number, n: number): this {
    this.room(n);
    this.buf.fill(v, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }

  /** Reserves n bytes to patch later; returns their offset. */
  reserve(n: number): number {
    this.room(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  patchU8(at: number, v: number): void {
    this.buf[at] = v;
  }

  patchU16(at: number, v: number): void {
    this.buf.writeUInt16BE(v, at);
  }

  /** Opens an n-byte gap at `at`, moving what follows (for a length field that outgrew one octet). */
  insertGap(at: number, n: number): void {
    this.room(n);
    this.buf.copyWithin(at + n, at, this.pos);
    this.pos += n;
  }

  /** Drops everything written after `pos` (used when a message would overflow). */
  truncate(pos: number): void {
    this.pos = pos;
  }

  /** A view of what was written so far; valid until the next write or reset. */
  view(from = 0, to = this.pos): Buffer {
    return this.buf.subarray(from, to);
  }

  /** A copy of what was written; safe to keep. */
  toBuffer(from = 0, to = this.pos): Buffer {
    return Buffer.from(this.buf.subarray(from, to));
  }

  reset(): void {
    this.pos = 0;
  }
}
