import { bytesToIp, ipToBytes } from '../../core/ip.js';
import { type Result, err, ok } from '../../core/result.js';
import { Afi, Safi } from './constants.js';
import type { Nlri, NlriCodec } from './nlri.js';
import { registerNlriCodec } from './nlri.js';
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * RFC 4271 §4.3 / RFC 4760 §5 prefix: Length(1 octet, bits) Prefix(ceil(len/8)).
 * The key *is* the wire encoding as a latin1 string (length octet first), so
 * decoding allocates one string per prefix and encoding writes it back as is.
 */
export type Prefix = Nlri;

const masks = [0x00, 0x80, 0xc0, 0xe0, 0xf0, 0xf8, 0xfc, 0xfe, 0xff];

/** Decodes prefixes until the reader is empty; maxBits is 32 or 128. */
export function decodePrefixes(r: Reader, maxBits: number, addPath: boolean, out: Prefix[]): Result<void, string> {
  const buf = r.buf;
  while (r.left() > 0) {
    let pathId = 0;
    if (addPath) {
      if (r.left() < 5) return err('truncated ADD-PATH path identifier');
      pathId = r.u32();
    }
    const len = buf[r.pos]!;
    if (len > maxBits) return err(`prefix length ${len} exceeds ${maxBits}`);
    const n = (len + 7) >> 3;
    if (r.left() < 1 + n) return err(`prefix of length ${len} overruns the field`);
    const start = r.pos;
    r.skip(1 + n);
    const spare = len & 7;
    const last = buf[start + n]!;
    // Bits past the prefix length are ignored (RFC 4271 §4.3); mask them so equal prefixes share a key.
    if (n > 0 && spare !== 0 && (last & ~masks[spare]!) !== 0) {
      const copy = Buffer.from(buf.subarray(start, start + 1 + n));
      copy[n] = last & masks[spare]!;
      out.push({ key: copy.toString('latin1'), pathId });
    } else {
      out.push({ key: buf.toString('latin1', start, start + 1 + n), pathId });
    }
  }
  return ok(undefined);
}

export function encodePrefix(w: Writer, p: Prefix, addPath: boolean): void {
  if (addPath) w.u32(p.pathId);
  const k = p.key;
  for (let i = 0; i < k.length; i++) w.u8(k.charCodeAt(i));
}

/** Wire length of a prefix NLRI. */
export function prefixWireLength(p: Prefix, addPath: boolean): number {
  return p.key.length + (addPath ? 4 : 0);
}

/** "10.0.0.0/24" or "2001:db8::/32" to a prefix; an error says what is wrong. */
export function parsePrefix(text: string, pathId = 0): Result<Prefix, string> {
  const slash = text.indexOf('/');
  if (slash < 0) return err(`"${text}" has no /length`);
  const addr = ipToBytes(text.slice(0, slash));
  if (addr === undefined) return err(`"${text.slice(0, slash)}" is not an IP address`);
  const lenText = text.slice(slash + 1);
  const len = Number(lenText);
  const maxBits = addr.length * 8;
  if (!/^\d+$/.test(lenText) || len > maxBits) return err(`prefix length "${lenText}" is not 0..${maxBits}`);
  const n = (len + 7) >> 3;
  const spare = len & 7;
  for (let i = n; i < addr.length; i++) if (addr[i] !== 0) return err(`"${text}" has host bits set`);
  if (n > 0 && spare !== 0 && (addr[n - 1]! & ~masks[spare]!) !== 0) return err(`"${text}" has host bits set`);
  const wire = Buffer.alloc(1 + n);
  wire[0] = len;
  addr.copy(wire, 1, 0, n);
  return ok({ key: wire.toString('latin1'), pathId });
}

export function prefixLength(p: Prefix): number {
  return p.key.charCodeAt(0);
}

/** The prefix address bytes, zero-padded to 4 or 16. */
export function prefixAddress(p: Prefix, addressBytes: number): Buffer {
  const out = Buffer.alloc(addressBytes);
  for (let i = 1; i < p.key.length && i <= addressBytes; i++) out[i - 1] = p.key.charCodeAt(i);
  return out;
}

export function formatPrefix(p: Prefix, addressBytes: number): string {
  return `${bytesToIp(prefixAddress(p, addressBytes))}/${prefixLength(p)}`;
}

function prefixCodec(afi: number, maxBits: number, nextHopLengths: readonly number[]): NlriCodec<Prefix> {
  return {
    afi,
    safi: Safi.Unicast,
    decode: (r, addPath, out) => decodePrefixes(r, maxBits, addPath, out),
    encode: encodePrefix,
    validNextHopLength: (l) => nextHopLengths.includes(l),
    format: (p) => formatPrefix(p, maxBits / 8),
  };
}

/** RFC 4760 §3 / RFC 2545 §3: 16 (global) or 32 (global + link-local); RFC 8950 lets IPv4 use IPv6 next hops. */
export const ipv4UnicastCodec = prefixCodec(Afi.Ipv4, 32, [4, 16, 32]);
export const ipv6UnicastCodec = prefixCodec(Afi.Ipv6, 128, [16, 32]);
registerNlriCodec(ipv4UnicastCodec);
registerNlriCodec(ipv6UnicastCodec);
