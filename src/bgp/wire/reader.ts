/**
 * A cursor over a Buffer that reads in place. It never allocates per field:
 * `bytes()` returns a view, and a caller copies only what outlives the input.
 * Bounds are the caller's to check with `left()` before reading; reads past
 * `end` are a decoder bug, which Node's own range checks still catch.
 */
export class Reader {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
    readonly end = buf.length,
  ) {}

  left(): number {
    return this.end - this.pos;
  }

  u8(): number {
    return this.buf[this.pos++]!;
  }

  u16(): number {
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A view of the next n bytes: valid only as long as the input buffer is. */
  bytes(n: number): Buffer {
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  skip(n: number): void {
    this.pos += n;
  }

  /** A reader over the next n bytes; this one moves past them. */
  sub(n: number): Reader {
    const r = new Reader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }
}
