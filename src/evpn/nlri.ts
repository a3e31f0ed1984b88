import { bytesToIp, ipToBytes } from '../core/ip.js';
import { type Result, err, ok } from '../core/result.js';
import { Afi, Safi } from '../bgp/wire/constants.js';
import type { NlriCodec } from '../bgp/wire/nlri.js';
import { type RouteDistinguisher, formatRd, parseRd } from '../bgp/wire/rd.js';
import type { Reader } from '../bgp/wire/reader.js';
import { Writer } from '../bgp/wire/writer.js';
import { ESI_ZERO, type Esi, formatEsi } from './esi.js';
import { LABEL_LENGTH } from './label.js';
import { MAC_LENGTH, formatMac, parseMac } from './mac.js';
import { PackedMacIpRoute } from './mac-ip-route.js';
import {
  type EthernetAdRoute,
  type EthernetSegmentRoute,
  type EvpnRoute,
  type InclusiveMulticastRoute,
  type IpPrefixRoute,
  EvpnRouteType,
  type MacIpRoute,
  decodeEvpnRoute,
  evpnRouteBodyLength,
  writeEvpnRouteBody,
} from './route.js';

/**
 * RFC 7432 §7 EVPN NLRI field: a sequence of RouteType(1) Length(1) Value(Length),
 * each preceded by a 4-octet path identifier under ADD-PATH (RFC 7911 §3).
 * An unknown route type is not an error: its Length still delimits it, and it
 * comes out as an 'unknown' route for the caller to discard (RFC 7606 §5.4)
 * or pass on. A known type whose fields don't add up is an error, since the
 * rest of the field can no longer be trusted (RFC 7606 §5.3).
 */
export function decodeEvpnNlri(r: Reader, addPath: boolean, out: EvpnRoute[]): Result<void, string> {
  while (r.left() > 0) {
    let pathId = 0;
    if (addPath) {
      if (r.left() < 4) return err('truncated ADD-PATH path identifier');
      pathId = r.u32();
    }
    if (r.left() < 2) return err('truncated EVPN route header');
    const type = r.u8();
    const len = r.u8();
    if (len > r.left()) return err(`EVPN route type ${type} of length ${len} overruns the field (${r.left()} octets left)`);
    if (type === EvpnRouteType.MacIp) {
      // Nearly every route of a fabric: it keeps nothing of the message, so no copy.
      const route = PackedMacIpRoute.decode(r.bytes(len), 0, len, pathId);
      if (typeof route === 'string') return err(route);
      out.push(route);
      continue;
    }
    // One copy per route: its fields are views into it and it outlives the message.
    const res = decodeEvpnRoute(type, Buffer.from(r.bytes(len)), pathId);
    if (!res.ok) return res;
    out.push(res.value);
  }
  return ok(undefined);
}

export function encodeEvpnNlri(w: Writer, route: EvpnRoute, addPath: boolean): void {
  if (addPath) w.u32(route.pathId);
  w.u8(route.routeType).u8(evpnRouteBodyLength(route));
  writeEvpnRouteBody(w, route);
}

/** Wire length of one route including its header (and path identifier under ADD-PATH). */
export function evpnNlriLength(route: EvpnRoute, addPath: boolean): number {
  return (addPath ? 4 : 0) + 2 + evpnRouteBodyLength(route);
}

/** One route as the octets of an NLRI field (RouteType, Length, Value), without a path identifier. */
export function evpnRouteBytes(route: EvpnRoute): Buffer {
  const w = new Writer(64);
  encodeEvpnNlri(w, route, false);
  return w.toBuffer();
}

function ip(b: Buffer): string {
  return bytesToIp(b);
}

/**
 * FRR's prefix text (lib/prefix.c prefix2str for AF_EVPN), without the RD:
 *   [1]:[tag]:[esi]                 [2]:[tag]:[48]:[mac][:[iplen]:[ip]]
 *   [3]:[tag]:[iplen]:[ip]          [4]:[esi]:[iplen]:[ip]
 *   [5]:[tag]:[plen]:[prefix]       [type]:[hex] for types we do not know
 */
export function formatEvpnRoute(r: EvpnRoute): string {
  switch (r.kind) {
    case 'ethernet-ad':
      return `[1]:[${r.tag}]:[${formatEsi(r.esi)}]`;
    case 'mac-ip': {
      const head = `[2]:[${r.tag}]:[48]:[${formatMac(r.mac)}]`;
      return r.ip === undefined ? head : `${head}:[${r.ip.length * 8}]:[${ip(r.ip)}]`;
    }
    case 'inclusive-multicast':
      return `[3]:[${r.tag}]:[${r.originator.length * 8}]:[${ip(r.originator)}]`;
    case 'ethernet-segment':
      return `[4]:[${formatEsi(r.esi)}]:[${r.originator.length * 8}]:[${ip(r.originator)}]`;
    case 'ip-prefix':
      return `[5]:[${r.tag}]:[${r.prefixLength}]:[${ip(r.prefix)}]`;
    case 'unknown':
      return `[${r.routeType}]:[${r.value.toString('hex')}]`;
  }
}

/** "RD 127.0.9.2:100 [2]:[0]:[48]:[52:54:00:aa:bb:01]:[32]:[10.1.1.10]", as FRR's debug logs print a route. */
export function formatEvpnNlri(r: EvpnRoute): string {
  return r.kind === 'unknown' ? formatEvpnRoute(r) : `RD ${formatRd(r.rd)} ${formatEvpnRoute(r)}`;
}

/** RFC 7432 §7 / RFC 4760 §3: IPv4 (4), IPv6 global (16) or global + link-local (32, RFC 2545 §3). */
const NEXT_HOP_LENGTHS: readonly number[] = [4, 16, 32];

export const evpnCodec: NlriCodec<EvpnRoute> = {
  afi: Afi.L2vpn,
  safi: Safi.Evpn,
  decode: decodeEvpnNlri,
  encode: encodeEvpnNlri,
  validNextHopLength: (l) => NEXT_HOP_LENGTHS.includes(l),
  format: formatEvpnNlri,
  // RFC 7606 §5.4: an EVPN route of a type we do not know is ignored, not installed.
  ignore: (r) => r.kind === 'unknown',
};

// ---------------------------------------------------------------------------------------------
// Builders. They take values already checked (config, API after parseMac/parseRd/parseEsi) or
// text for tests, and throw RangeError on bad input: a programming error at that point. Each one
// writes the wire octets and decodes them, so a built route is exactly what decoding gives.

type RdInput = RouteDistinguisher | string;
type MacInput = Uint8Array | string;
type IpInput = Uint8Array | string;
type LabelInput = Uint8Array;

function toRd(rd: RdInput): RouteDistinguisher {
  if (typeof rd !== 'string') return rd;
  const r = parseRd(rd);
  if (!r.ok) throw new RangeError(r.error);
  return r.value;
}

function toMac(mac: MacInput): Uint8Array {
  if (typeof mac !== 'string') {
    if (mac.length !== MAC_LENGTH) throw new RangeError(`a MAC address is ${MAC_LENGTH} octets, not ${mac.length}`);
    return mac;
  }
  const r = parseMac(mac);
  if (!r.ok) throw new RangeError(r.error);
  return r.value;
}

function toIp(addr: IpInput): Uint8Array {
  const b = typeof addr === 'string' ? ipToBytes(addr) : addr;
  if (b === undefined || (b.length !== 4 && b.length !== 16)) throw new RangeError(`"${String(addr)}" is not an IPv4 or IPv6 address`);
  return b;
}

function checkLabel(l: Uint8Array): Uint8Array {
  if (l.length !== LABEL_LENGTH) throw new RangeError(`a label field is ${LABEL_LENGTH} octets, not ${l.length}`);
  return l;
}

function checkTag(tag: number): number {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xffffffff) throw new RangeError(`Ethernet Tag ${tag} is not 0..4294967295`);
  return tag;
}

function build<K extends EvpnRoute['kind']>(kind: K, type: number, pathId: number, fill: (w: Writer) => void): Extract<EvpnRoute, { kind: K }> {
  const w = new Writer(64);
  fill(w);
  const r = decodeEvpnRoute(type, w.toBuffer(), pathId);
  if (!r.ok) throw new RangeError(r.error);
  const route = r.value;
  if (route.kind !== kind) throw new Error(`built a ${route.kind} route, wanted ${kind}`);
  return route as Extract<EvpnRoute, { kind: K }>;
}

export interface EthernetAdInput {
  readonly rd: RdInput;
  readonly esi: Esi;
  readonly tag: number;
  readonly label: LabelInput;
  readonly pathId?: number;
}

export function ethernetAdRoute(i: EthernetAdInput): EthernetAdRoute {
  return build('ethernet-ad', 1, i.pathId ?? 0, (w) => {
    w.bytes(toRd(i.rd).raw).bytes(i.esi.raw).u32(checkTag(i.tag)).bytes(checkLabel(i.label));
  });
}

export interface MacIpInput {
  readonly rd: RdInput;
  /** Default: the zero ESI (single-homed). */
  readonly esi?: Esi;
  readonly tag: number;
  readonly mac: MacInput;
  readonly ip?: IpInput;
  readonly label1: LabelInput;
  readonly label2?: LabelInput;
  readonly pathId?: number;
}

export function macIpRoute(i: MacIpInput): MacIpRoute {
  return build('mac-ip', 2, i.pathId ?? 0, (w) => {
    w.bytes(toRd(i.rd).raw).bytes((i.esi ?? ESI_ZERO).raw).u32(checkTag(i.tag)).u8(48).bytes(toMac(i.mac));
    const addr = i.ip === undefined ? undefined : toIp(i.ip);
    w.u8(addr === undefined ? 0 : addr.length * 8);
    if (addr !== undefined) w.bytes(addr);
    w.bytes(checkLabel(i.label1));
    if (i.label2 !== undefined) w.bytes(checkLabel(i.label2));
  });
}

export interface InclusiveMulticastInput {
  readonly rd: RdInput;
  readonly tag: number;
  readonly originator: IpInput;
  readonly pathId?: number;
}

export function inclusiveMulticastRoute(i: InclusiveMulticastInput): InclusiveMulticastRoute {
  return build('inclusive-multicast', 3, i.pathId ?? 0, (w) => {
    const addr = toIp(i.originator);
    w.bytes(toRd(i.rd).raw).u32(checkTag(i.tag)).u8(addr.length * 8).bytes(addr);
  });
}

export interface EthernetSegmentInput {
  readonly rd: RdInput;
  readonly esi: Esi;
  readonly originator: IpInput;
  readonly pathId?: number;
}

export function ethernetSegmentRoute(i: EthernetSegmentInput): EthernetSegmentRoute {
  return build('ethernet-segment', 4, i.pathId ?? 0, (w) => {
    const addr = toIp(i.originator);
    w.bytes(toRd(i.rd).raw).bytes(i.esi.raw).u8(addr.length * 8).bytes(addr);
  });
}

export interface IpPrefixInput {
  readonly rd: RdInput;
  readonly esi?: Esi;
  readonly tag: number;
  /** "10.20.0.0/24" or "2001:db8::/64". */
  readonly prefix: string;
  /** Default: all zero (no overlay gateway, RFC 9136 §3.1). */
  readonly gateway?: IpInput;
  /** Default: 0 (RFC 9136 §3.1: when the gateway, not the label, says where to go). */
  readonly label?: LabelInput;
  readonly pathId?: number;
}

export function ipPrefixRoute(i: IpPrefixInput): IpPrefixRoute {
  const slash = i.prefix.indexOf('/');
  const addr = slash < 0 ? undefined : ipToBytes(i.prefix.slice(0, slash));
  const lenText = slash < 0 ? '' : i.prefix.slice(slash + 1);
  if (addr === undefined || !/^\d+$/.test(lenText) || Number(lenText) > addr.length * 8) {
    throw new RangeError(`"${i.prefix}" is not an IP prefix`);
  }
  const gw = i.gateway === undefined ? Buffer.alloc(addr.length) : toIp(i.gateway);
  if (gw.length !== addr.length) throw new RangeError('the gateway and the prefix must be of the same address family');
  return build('ip-prefix', 5, i.pathId ?? 0, (w) => {
    w.bytes(toRd(i.rd).raw).bytes((i.esi ?? ESI_ZERO).raw).u32(checkTag(i.tag)).u8(Number(lenText)).bytes(addr).bytes(gw);
    w.bytes(checkLabel(i.label ?? Buffer.alloc(LABEL_LENGTH)));
  });
}

/**
 * The same route under another ADD-PATH path identifier. Routes are values
 * (a MAC/IP route keeps its fields packed, so `{ ...route }` would not copy
 * them): a changed one is built anew.
 */
export function withPathId<R extends EvpnRoute>(route: R, pathId: number): R {
  if (route.pathId === pathId) return route;
  const w = new Writer(64);
  writeEvpnRouteBody(w, route);
  const r = decodeEvpnRoute(route.routeType, w.toBuffer(), pathId);
  if (!r.ok) throw new Error(`re-decoding a route failed: ${r.error}`);
  return r.value as R;
}

/** A route of a type this codec does not decode, e.g. for tests of pass-through. */
export function unknownEvpnRoute(routeType: number, value: Uint8Array, pathId = 0): EvpnRoute {
  if (routeType >= 1 && routeType <= 5) throw new RangeError(`route type ${routeType} is decoded field by field; use its builder`);
  if (!Number.isInteger(routeType) || routeType < 0 || routeType > 255) throw new RangeError(`route type ${routeType} is not 0..255`);
  if (value.length > 255) throw new RangeError(`an EVPN route value is at most 255 octets, not ${value.length}`);
  return build('unknown', routeType, pathId, (w) => w.bytes(value));
}
