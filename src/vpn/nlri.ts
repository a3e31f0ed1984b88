import { bytesToIp } from '../core/ip.js';
import { type Result, err, ok } from '../core/result.js';
import { Afi, Safi } from '../bgp/wire/constants.js';
import type { Nlri, NlriCodec } from '../bgp/wire/nlri.js';
import { RD_LENGTH, type RouteDistinguisher, decodeRd, formatRd } from '../bgp/wire/rd.js';
import type { Reader } from '../bgp/wire/reader.js';
import type { Writer } from '../bgp/wire/writer.js';
import { LABEL_FIELD_LENGTH, decodeLabelStack, encodeLabelStack, formatLabels, labelStackLength } from './label-stack.js';

/**
 * RFC 4364 §4.3.4 (VPN-IPv4), RFC 4659 §3.2 (VPN-IPv6), RFC 8277 §2 (label
 * stack), RFC 7911 §3 (path identifier). One NLRI:
 *   [PathId(4)] Length(1, bits) Label(3) × n RD(8) Prefix(ceil(plen/8))
 * where Length = 24·n + 64 + plen, and the last label has bottom-of-stack set.
 * In a withdraw the stack may be one Compatibility field (RFC 8277 §2.4):
 * `labels` is then empty.
 *
 * `key` is RD(8) PrefixLength(1) Prefix(ceil(plen/8)) as a latin1 string,
 * with bits past the prefix length cleared: the destination is the RD and the
 * prefix; the labels are what the advertiser binds to it (RFC 8277 §2.3), so
 * a re-advertisement with a new label replaces the route, and a withdraw
 * matches whatever label it carries.
 */
export interface VpnRoute extends Nlri {
  /** 20-bit label values, top of stack first; empty for the withdraw Compatibility field. */
  readonly labels: readonly number[];
  readonly rd: RouteDistinguisher;
  readonly prefixLength: number;
  /** The address, 4 (VPNv4) or 16 (VPNv6) octets, bits past prefixLength zero. */
  readonly prefix: Buffer;
}

const masks = [0x00, 0x80, 0xc0, 0xe0, 0xf0, 0xf8, 0xfc, 0xfe, 0xff];

/** RFC 8277 §2: the 1-octet Length field bounds labels + RD + prefix to 255 bits. */
export const MAX_NLRI_BITS = 255;

/**
 * Makes a route from fields already checked: `prefix` is 4 or 16 octets and
 * is taken over (cleared past prefixLength in place), not copied.
 */
export function makeVpnRoute(
  rd: RouteDistinguisher,
  prefixLength: number,
  prefix: Buffer,
  labels: readonly number[],
  pathId = 0,
): VpnRoute {
  const n = (prefixLength + 7) >> 3;
  prefix.fill(0, n);
  const spare = prefixLength & 7;
  if (spare !== 0) prefix[n - 1] = prefix[n - 1]! & masks[spare]!;
  const key = rd.raw.toString('latin1') + String.fromCharCode(prefixLength) + prefix.toString('latin1', 0, n);
  return { key, pathId, labels, rd, prefixLength, prefix };
}

/** Decodes VPN NLRI until the reader is empty; addressBytes is 4 (VPNv4) or 16 (VPNv6). */
export function decodeVpnRoutes(r: Reader, addressBytes: number, addPath: boolean, out: VpnRoute[]): Result<void, string> {
  const buf = r.buf;
  const maxBits = addressBytes * 8;
  while (r.left() > 0) {
    let pathId = 0;
    if (addPath) {
      if (r.left() < 5) return err('truncated ADD-PATH path identifier');
      pathId = r.u32();
    }
    const bits = buf[r.pos]!;
    const n = (bits + 7) >> 3;
    if (r.left() < 1 + n) return err(`VPN NLRI of length ${bits} overruns the field (${r.left() - 1} octets left)`);
    const start = r.pos + 1;
    const labels: number[] = [];
    const stack = decodeLabelStack(buf, start, bits, labels);
    if (!stack.ok) return err(stack.error);
    const plen = bits - stack.value * 24 - RD_LENGTH * 8;
    if (plen > maxBits) return err(`VPN prefix length ${plen} exceeds ${maxBits}`);
    const rdAt = start + stack.value * LABEL_FIELD_LENGTH;
    const prefix = Buffer.alloc(addressBytes);
    buf.copy(prefix, 0, rdAt + RD_LENGTH, start + n);
    r.skip(1 + n);
    out.push(makeVpnRoute(decodeRd(buf, rdAt), plen, prefix, labels, pathId));
  }
  return ok(undefined);
}

/** Octets one route takes in an NLRI field. */
export function vpnRouteWireLength(v: VpnRoute, addPath: boolean): number {
  return (addPath ? 4 : 0) + 1 + labelStackLength(v.labels) + RD_LENGTH + ((v.prefixLength + 7) >> 3);
}

/** Writes `labels` in place of the route's own stack (the withdraw form passes none). */
function writeRoute(w: Writer, v: VpnRoute, addPath: boolean, labels: readonly number[], addressBytes: number): void {
  // Routes come from the builders or the decoder; these are caller bugs, which packNlri also throws for.
  if (v.prefix.length !== addressBytes) {
    throw new Error(`a ${v.prefix.length}-octet prefix in a VPN family of ${addressBytes}-octet addresses`);
  }
  const bits = labelStackLength(labels) * 8 + RD_LENGTH * 8 + v.prefixLength;
  if (bits > MAX_NLRI_BITS) throw new Error(`VPN NLRI of ${bits} bits does not fit its 1-octet length`);
  if (addPath) w.u32(v.pathId);
  w.u8(bits);
  encodeLabelStack(w, labels);
  w.bytes(v.rd.raw);
  w.bytes(v.prefix.subarray(0, (v.prefixLength + 7) >> 3));
}

/** "65000:10:192.168.10.0/24 label 100"; a stack prints as "label 16,100"; the withdraw form has no label. */
export function formatVpnRoute(v: VpnRoute): string {
  const text = `${formatRd(v.rd)}:${bytesToIp(v.prefix)}/${v.prefixLength}`;
  return v.labels.length === 0 ? text : `${text} label ${formatLabels(v.labels)}`;
}

/**
 * NlriCodec plus the withdraw encoding. `encodeWithdrawn` writes the RFC 8277
 * §2.4 Compatibility field 0x800000 in place of the stack; the UPDATE layer's
 * encodeWithdrawals does not call it yet (it calls `encode`), so until it does,
 * withdraw through encodeVpnWithdrawals or vpnWithdrawal().
 */
export interface VpnCodec extends NlriCodec<VpnRoute> {
  encodeWithdrawn(w: Writer, n: VpnRoute, addPath: boolean): void;
}

function vpnCodec(afi: number, addressBytes: number, nextHopLengths: readonly number[]): VpnCodec {
  return {
    afi,
    safi: Safi.MplsVpn,
    decode: (r, addPath, out) => decodeVpnRoutes(r, addressBytes, addPath, out),
    encode: (w, v, addPath) => writeRoute(w, v, addPath, v.labels, addressBytes),
    encodeWithdrawn: (w, v, addPath) => writeRoute(w, v, addPath, [], addressBytes),
    validNextHopLength: (l) => nextHopLengths.includes(l),
    format: formatVpnRoute,
  };
}

/**
 * Next hop lengths (RFC 7606 §7.11): RD(8, zero) + address.
 *   VPNv4: 12 (RFC 4364 §4.3.2), or 24 / 48 for an IPv6 next hop (RFC 8950 §3).
 *   VPNv6: 24, or 48 with a link-local address behind a second zero RD (RFC 4659 §3.2.1).
 */
export const ipv4VpnCodec = vpnCodec(Afi.Ipv4, 4, [12, 24, 48]);
export const ipv6VpnCodec = vpnCodec(Afi.Ipv6, 16, [24, 48]);
