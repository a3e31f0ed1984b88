import { ipv4ToNumber, numberToIpv4 } from '../core/ip.js';
import { type Result, err, ok } from '../core/result.js';
import type { Label } from './label.js';
import { formatMac } from './mac.js';

/**
 * RFC 4360 §2 extended community: Type(1) SubType(1) Value(6). The typed
 * kinds below are what EVPN reads; everything else stays `unknown` with its
 * 8 octets. Reserved octets and undefined flag bits of the known kinds are
 * ignored on receipt and sent as zero, as their RFCs say; a route that is
 * passed on keeps the attribute's own bytes, not a re-encoding of this view.
 */
export type ExtCommunity =
  | RouteTarget
  | Encapsulation
  | DefaultGateway
  | MacMobility
  | EsiLabel
  | EsImportRouteTarget
  | RouterMac
  | ArpNd
  | UnknownExtCommunity;

/**
 * RFC 4360 §4 / RFC 5668 §2 Route Target (subtype 0x02), transitive only:
 *   type 0x00 'as2':  AS(2)   Assigned(4)
 *   type 0x01 'ipv4': IPv4(4) Assigned(2)
 *   type 0x02 'as4':  AS(4)   Assigned(2)
 */
export interface RouteTarget {
  readonly kind: 'route-target';
  readonly format: 'as2' | 'ipv4' | 'as4';
  /** The AS, or the IPv4 address as a number. */
  readonly admin: number;
  readonly assigned: number;
}

/** RFC 9012 §4.1 Encapsulation: 0x03 0x0c Reserved(4) TunnelType(2); 8 = VXLAN, 10 = MPLS (RFC 8365 §5.1.3). */
export interface Encapsulation {
  readonly kind: 'encapsulation';
  readonly tunnelType: number;
}

/** RFC 7432 §7.8 Default Gateway: 0x03 0x0d Reserved(6). */
export interface DefaultGateway {
  readonly kind: 'default-gateway';
}

/** RFC 7432 §7.7 MAC Mobility: 0x06 0x00 Flags(1) Reserved(1) Sequence(4); flag 0x01 = sticky/static. */
export interface MacMobility {
  readonly kind: 'mac-mobility';
  readonly sticky: boolean;
  readonly seq: number;
}

/** RFC 7432 §7.5 ESI Label: 0x06 0x01 Flags(1) Reserved(2) Label(3); flag 0x01 = single-active. */
export interface EsiLabel {
  readonly kind: 'esi-label';
  readonly singleActive: boolean;
  readonly label: Label;
}

/** RFC 7432 §7.6 ES-Import Route Target: 0x06 0x02 MAC(6). */
export interface EsImportRouteTarget {
  readonly kind: 'es-import';
  readonly mac: Buffer;
}

/** RFC 9135 §8.1 Router's MAC: 0x06 0x03 MAC(6). */
export interface RouterMac {
  readonly kind: 'router-mac';
  readonly mac: Buffer;
}

/** RFC 9047 §3 EVPN ARP/ND: 0x06 0x08 Flags(1) Reserved(5); flags R 0x01, O 0x02, I 0x08. */
export interface ArpNd {
  readonly kind: 'arp-nd';
  readonly router: boolean;
  readonly override: boolean;
  readonly immutable: boolean;
}

export interface UnknownExtCommunity {
  readonly kind: 'unknown';
  /** All 8 octets as received. */
  readonly raw: Buffer;
}

export const EXT_COMMUNITY_LENGTH = 8;

const RT_SUBTYPE = 0x02;
const TYPE_OPAQUE = 0x03;
const TYPE_EVPN = 0x06;
const ND_ROUTER = 0x01;
const ND_OVERRIDE = 0x02;
const ND_IMMUTABLE = 0x08;

/** The typed view of one community at `at` (8 octets must be there). */
export function decodeExtCommunity(buf: Buffer, at = 0): ExtCommunity {
  const type = buf[at]!;
  const sub = buf[at + 1]!;
  if (sub === RT_SUBTYPE && type <= 0x02) {
    const format = type === 0 ? 'as2' : type === 1 ? 'ipv4' : 'as4';
    return type === 0
      ? { kind: 'route-target', format, admin: buf.readUInt16BE(at + 2), assigned: buf.readUInt32BE(at + 4) }
      : { kind: 'route-target', format, admin: buf.readUInt32BE(at + 2), assigned: buf.readUInt16BE(at + 6) };
  }
  if (type === TYPE_OPAQUE && sub === 0x0c) return { kind: 'encapsulation', tunnelType: buf.readUInt16BE(at + 6) };
  if (type === TYPE_OPAQUE && sub === 0x0d) return { kind: 'default-gateway' };
  if (type === TYPE_EVPN) {
    const flags = buf[at + 2]!;
    switch (sub) {
      case 0x00:
        return { kind: 'mac-mobility', sticky: (flags & 0x01) !== 0, seq: buf.readUInt32BE(at + 4) };
      case 0x01:
        return { kind: 'esi-label', singleActive: (flags & 0x01) !== 0, label: Buffer.from(buf.subarray(at + 5, at + 8)) };
      case 0x02:
        return { kind: 'es-import', mac: Buffer.from(buf.subarray(at + 2, at + 8)) };
      case 0x03:
        return { kind: 'router-mac', mac: Buffer.from(buf.subarray(at + 2, at + 8)) };
      case 0x08:
        return {
          kind: 'arp-nd',
          router: (flags & ND_ROUTER) !== 0,
          override: (flags & ND_OVERRIDE) !== 0,
          immutable: (flags & ND_IMMUTABLE) !== 0,
        };
    }
  }
  return { kind: 'unknown', raw: Buffer.from(buf.subarray(at, at + EXT_COMMUNITY_LENGTH)) };
}

/**
 * Every community of an EXTENDED_COMMUNITIES value (PathAttributes.extCommunities).
 * The attribute decoder already rejects lengths that are not a multiple of 8
 * (RFC 7606 §7.14); a trailing partial community is ignored here rather than thrown on.
 */
export function decodeExtCommunities(buf: Buffer): ExtCommunity[] {
  const n = Math.floor(buf.length / EXT_COMMUNITY_LENGTH);
  const out = new Array<ExtCommunity>(n);
  for (let i = 0; i < n; i++) out[i] = decodeExtCommunity(buf, i * EXT_COMMUNITY_LENGTH);
  return out;
}

/** Writes one community's 8 octets into `out` at `at`. */
export function writeExtCommunity(out: Buffer, at: number, ec: ExtCommunity): void {
  out.fill(0, at, at + EXT_COMMUNITY_LENGTH);
  switch (ec.kind) {
    case 'route-target':
      out[at + 1] = RT_SUBTYPE;
      if (ec.format === 'as2') {
        out.writeUInt16BE(ec.admin, at + 2);
        out.writeUInt32BE(ec.assigned, at + 4);
      } else {
        out[at] = ec.format === 'ipv4' ? 0x01 : 0x02;
        out.writeUInt32BE(ec.admin, at + 2);
        out.writeUInt16BE(ec.assigned, at + 6);
      }
      return;
    case 'encapsulation':
      out[at] = TYPE_OPAQUE;
      out[at + 1] = 0x0c;
      out.writeUInt16BE(ec.tunnelType, at + 6);
      return;
    case 'default-gateway':
      out[at] = TYPE_OPAQUE;
      out[at + 1] = 0x0d;
      return;
    case 'mac-mobility':
      out[at] = TYPE_EVPN;
      out[at + 2] = ec.sticky ? 0x01 : 0;
      out.writeUInt32BE(ec.seq, at + 4);
      return;
    case 'esi-label':
      out[at] = TYPE_EVPN;
      out[at + 1] = 0x01;
      out[at + 2] = ec.singleActive ? 0x01 : 0;
      out.set(ec.label.subarray(0, 3), at + 5);
      return;
    case 'es-import':
    case 'router-mac':
      out[at] = TYPE_EVPN;
      out[at + 1] = ec.kind === 'es-import' ? 0x02 : 0x03;
      out.set(ec.mac.subarray(0, 6), at + 2);
      return;
    case 'arp-nd':
      out[at] = TYPE_EVPN;
      out[at + 1] = 0x08;
      out[at + 2] = (ec.router ? ND_ROUTER : 0) | (ec.override ? ND_OVERRIDE : 0) | (ec.immutable ? ND_IMMUTABLE : 0);
      return;
    case 'unknown':
      ec.raw.copy(out, at, 0, EXT_COMMUNITY_LENGTH);
      return;
  }
}

export function encodeExtCommunity(ec: ExtCommunity): Buffer {
  const out = Buffer.alloc(EXT_COMMUNITY_LENGTH);
  writeExtCommunity(out, 0, ec);
  return out;
}

/** The value of an EXTENDED_COMMUNITIES attribute, in the order given. */
export function encodeExtCommunities(list: readonly ExtCommunity[]): Buffer {
  const out = Buffer.alloc(list.length * EXT_COMMUNITY_LENGTH);
  for (let i = 0; i < list.length; i++) writeExtCommunity(out, i * EXT_COMMUNITY_LENGTH, list[i]!);
  return out;
}

/** FRR's `show bgp` text (bgpd/bgp_ecommunity.c ecommunity_ecom2str, ECOMMUNITY_FORMAT_DISPLAY). */
export function formatExtCommunity(ec: ExtCommunity): string {
  switch (ec.kind) {
    case 'route-target':
      return `RT:${formatRouteTarget(ec)}`;
    case 'encapsulation':
      return `ET:${ec.tunnelType}`;
    case 'default-gateway':
      return 'Default Gateway';
    case 'mac-mobility':
      return ec.sticky ? `MM:${ec.seq}, sticky MAC` : `MM:${ec.seq}`;
    case 'esi-label':
      // FRR prints only the mode, not the label.
      return `ESI-label-Rt:${ec.singleActive ? 'SA' : 'AA'}`;
    case 'es-import':
      return `ES-Import-Rt:${formatMac(ec.mac)}`;
    case 'router-mac':
      return `Rmac:${formatMac(ec.mac)}`;
    case 'arp-nd': {
      const f = [ec.router ? 'Router Flag' : '', ec.override ? 'Override Flag' : '', ec.immutable ? 'Immutable' : ''].filter((s) => s);
      return f.length > 0 ? `ND:${f.join(', ')}` : 'ND';
    }
    case 'unknown':
      return `UNK:${ec.raw[0]}, ${ec.raw[1]}`;
  }
}

/** Space-separated, as FRR's `extendedCommunity.string` ("RT:65000:100 ET:8 MM:7"). */
export function formatExtCommunities(list: readonly ExtCommunity[]): string {
  return list.map(formatExtCommunity).join(' ');
}

/** "65000:100", "10.0.0.1:100", "4200000000:100". */
export function formatRouteTarget(rt: RouteTarget): string {
  return `${rt.format === 'ipv4' ? numberToIpv4(rt.admin) : rt.admin}:${rt.assigned}`;
}

/** A route target from checked numbers; throws RangeError when a field does not fit its format. */
export function routeTarget(format: RouteTarget['format'], admin: number, assigned: number): RouteTarget {
  const adminMax = format === 'as2' ? 0xffff : 0xffffffff;
  const assignedMax = format === 'as2' ? 0xffffffff : 0xffff;
  const okNum = (v: number, max: number): boolean => Number.isInteger(v) && v >= 0 && v <= max;
  if (!okNum(admin, adminMax) || !okNum(assigned, assignedMax)) {
    throw new RangeError(`route target ${admin}:${assigned} does not fit the ${format} format`);
  }
  return { kind: 'route-target', format, admin, assigned };
}

/**
 * "65000:100" (2-octet AS), "10.0.0.1:100" (IPv4), "4200000000:100" or the
 * asdot "64086.59904:100" (4-octet AS), optionally after "RT:". An AS that fits
 * in 2 octets gives the 2-octet form, as FRR and GoBGP choose.
 */
export function parseRouteTarget(text: string): Result<RouteTarget, string> {
  const t = text.trim().replace(/^RT:/i, '');
  const i = t.lastIndexOf(':');
  const adminText = t.slice(0, i);
  const numText = t.slice(i + 1);
  if (i <= 0 || !/^\d+$/.test(numText)) return err(`route target "${text}" is not ADMIN:NUMBER`);
  const assigned = Number(numText);
  const ip = ipv4ToNumber(adminText);
  if (ip !== undefined) {
    if (assigned > 0xffff) return err(`route target "${text}": the number after an IPv4 address is 0..65535`);
    return ok(routeTarget('ipv4', ip, assigned));
  }
  const asdot = /^(\d+)\.(\d+)$/.exec(adminText);
  let admin: number;
  if (asdot) {
    const hi = Number(asdot[1]);
    const lo = Number(asdot[2]);
    if (hi > 0xffff || lo > 0xffff) return err(`route target "${text}": "${adminText}" is not an asdot AS number`);
    admin = hi * 0x10000 + lo;
  } else if (/^\d+$/.test(adminText)) {
    admin = Number(adminText);
  } else {
    return err(`route target "${text}": "${adminText}" is neither an AS number nor an IPv4 address`);
  }
  if (admin <= 0xffff && !asdot) {
    if (assigned > 0xffffffff) return err(`route target "${text}": the number after a 2-octet AS is 0..4294967295`);
    return ok(routeTarget('as2', admin, assigned));
  }
  if (admin > 0xffffffff) return err(`route target "${text}": AS ${admin} is over 4294967295`);
  if (assigned > 0xffff) return err(`route target "${text}": the number after a 4-octet AS is 0..65535`);
  return ok(routeTarget('as4', admin, assigned));
}

/** Same route target, whatever else the objects carry. */
export function sameRouteTarget(a: RouteTarget, b: RouteTarget): boolean {
  return a.format === b.format && a.admin === b.admin && a.assigned === b.assigned;
}

export function routeTargets(list: readonly ExtCommunity[]): RouteTarget[] {
  return list.filter((e): e is RouteTarget => e.kind === 'route-target');
}

/**
 * RFC 7432 §7.7 allows one MAC Mobility community per route; should a peer
 * send several, the highest sequence number is taken so that a move is not
 * missed, and the route is sticky if any of them says so.
 */
export function macMobility(list: readonly ExtCommunity[]): { readonly seq: number; readonly sticky: boolean } | undefined {
  let found: { seq: number; sticky: boolean } | undefined;
  for (const e of list) {
    if (e.kind !== 'mac-mobility') continue;
    if (found === undefined) found = { seq: e.seq, sticky: e.sticky };
    else found = { seq: Math.max(found.seq, e.seq), sticky: found.sticky || e.sticky };
  }
  return found;
}

/** RFC 9135 §8.1: the first Router's MAC community (a route carries at most one). */
export function routerMac(list: readonly ExtCommunity[]): Buffer | undefined {
  for (const e of list) if (e.kind === 'router-mac') return e.mac;
  return undefined;
}

/** RFC 9012 §4.1 / RFC 8365 §5.1.3: the tunnel types the route may use, in order. */
export function tunnelTypes(list: readonly ExtCommunity[]): number[] {
  return list.flatMap((e) => (e.kind === 'encapsulation' ? [e.tunnelType] : []));
}

/** RFC 9012 §4.1 / IANA "BGP Tunnel Encapsulation Attribute Tunnel Types". */
export const TunnelType = { Vxlan: 8, Nvgre: 9, Mpls: 10, MplsInGre: 11, VxlanGpe: 12, MplsInUdp: 13, Geneve: 19 } as const;
