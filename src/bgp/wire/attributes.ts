import { AttrFlag, AttrType, type Origin } from './constants.js';
import { type AsPath, encodeAsPath, needsAs4, withoutConfed } from './aspath.js';
import { AS_TRANS } from './constants.js';
import type { Writer } from './writer.js';

export interface Aggregator {
  readonly asn: number;
  readonly address: number;
}

/** An attribute kept as received: unknown optional transitive ones travel on like this. */
export interface RawAttribute {
  readonly flags: number;
  readonly type: number;
  readonly value: Buffer;
}

/**
 * The path attributes of a route, decoded (RFC 4271 §5, RFC 1997, RFC 4360,
 * RFC 4456, RFC 8092). MP_REACH/MP_UNREACH are not here: they carry NLRI, not
 * attributes of a path. `nextHop` is the 4-octet NEXT_HOP as received, or, in
 * a RIB path, the address bytes from MP_REACH_NLRI. ASNs are always 4-octet
 * values: AS4_PATH/AS4_AGGREGATOR are folded in on decode and made again on
 * encode for 2-octet peers. Objects are immutable so the RIB can intern them.
 */
export interface PathAttributes {
  readonly origin?: Origin;
  readonly asPath?: AsPath;
  readonly nextHop?: Buffer;
  readonly med?: number;
  readonly localPref?: number;
  readonly atomicAggregate?: boolean;
  readonly aggregator?: Aggregator;
  readonly communities?: readonly number[];
  readonly originatorId?: number;
  readonly clusterList?: readonly number[];
  /** RFC 4360: n × 8 octets, kept as received; typed views live with their users. */
  readonly extCommunities?: Buffer;
  /** RFC 8092: n × 12 octets. */
  readonly largeCommunities?: Buffer;
  /** RFC 6514 §5 PMSI Tunnel attribute value as received (src/evpn/pmsi.ts reads it). */
  readonly pmsiTunnel?: Buffer;
  readonly unknown?: readonly RawAttribute[];
}

/** The (Optional, Transitive) flag bits each known attribute must carry (RFC 4271 §5, RFC 7606 §3.c). */
export const EXPECTED_FLAGS: ReadonlyMap<number, number> = new Map([
  [AttrType.Origin, AttrFlag.Transitive],
  [AttrType.AsPath, AttrFlag.Transitive],
  [AttrType.NextHop, AttrFlag.Transitive],
  [AttrType.MultiExitDisc, AttrFlag.Optional],
  [AttrType.LocalPref, AttrFlag.Transitive],
  [AttrType.AtomicAggregate, AttrFlag.Transitive],
  [AttrType.Aggregator, AttrFlag.Optional | AttrFlag.Transitive],
  [AttrType.Communities, AttrFlag.Optional | AttrFlag.Transitive],
  [AttrType.OriginatorId, AttrFlag.Optional],
  [AttrType.ClusterList, AttrFlag.Optional],
  [AttrType.MpReachNlri, AttrFlag.Optional],
  [AttrType.MpUnreachNlri, AttrFlag.Optional],
  [AttrType.ExtendedCommunities, AttrFlag.Optional | AttrFlag.Transitive],
  [AttrType.As4Path, AttrFlag.Optional | AttrFlag.Transitive],
  [AttrType.As4Aggregator, AttrFlag.Optional | AttrFlag.Transitive],
  [AttrType.PmsiTunnel, AttrFlag.Optional | AttrFlag.Transitive],
  [AttrType.LargeCommunities, AttrFlag.Optional | AttrFlag.Transitive],
]);

/** Writes an attribute header and returns where its value starts; pair with `endAttr`. */
export function beginAttr(w: Writer, flags: number, type: number): number {
  w.u8(flags & ~AttrFlag.ExtendedLength).u8(type).u8(0);
  return w.pos;
}

/**
 * Patches the length, switching to the 2-octet form only when the value needs
 * it, or always when `extended` is set (FRR does so for AS_PATH and AS4_PATH).
 */
export function endAttr(w: Writer, valueStart: number, extended = false): void {
  const len = w.pos - valueStart;
  if (len <= 255 && !extended) {
    w.patchU8(valueStart - 1, len);
    return;
  }
  w.insertGap(valueStart, 1);
  const flagsAt = valueStart - 3;
  w.patchU8(flagsAt, w.view(flagsAt, flagsAt + 1)[0]! | AttrFlag.ExtendedLength);
  w.patchU16(valueStart - 1, len);
}

/**
 * Attribute order and length forms, which RFC 4271 leaves to the sender and
 * receivers must accept in any combination. The non-default layouts write
 * what FRR 8.4 and GoBGP 3.10 write, byte for byte, so captures of them can
 * be reproduced (test/vectors) and a peer sees what it would from them.
 * - 'default': ascending type order, MP_REACH_NLRI first; 2-octet lengths
 *   where the value needs one, and always for MP_REACH/MP_UNREACH_NLRI.
 * - 'frr' (bgp_packet_attribute): as 'default', but LARGE_COMMUNITY follows
 *   COMMUNITIES, and AS_PATH and AS4_PATH always take the 2-octet length.
 * - 'gobgp': ascending type order with MP_REACH/MP_UNREACH_NLRI at their own
 *   type code, 2-octet lengths only where needed. (GoBGP keeps the order a
 *   route's attributes were created in and sorts only when its export policy
 *   added one, so its locally originated routes can differ from this.)
 */
export type AttrLayout = 'default' | 'frr' | 'gobgp';

export interface AttrEncodeOptions {
  /** The peer understands 4-octet ASNs (RFC 6793); otherwise AS4_PATH/AS4_AGGREGATOR are added when needed. */
  readonly fourOctetAs: boolean;
  /** Write the NEXT_HOP attribute (IPv4 unicast NLRI in the UPDATE's own NLRI field). */
  readonly withNextHop: boolean;
  /** Undefined is 'default'. */
  readonly layout?: AttrLayout;
}

function u32Attr(w: Writer, flags: number, type: number, v: number): void {
  const at = beginAttr(w, flags, type);
  w.u32(v);
  endAttr(w, at);
}

function largeCommunities(w: Writer, a: PathAttributes): void {
  if (a.largeCommunities === undefined || a.largeCommunities.length === 0) return;
  const at = beginAttr(w, AttrFlag.Optional | AttrFlag.Transitive, AttrType.LargeCommunities);
  w.bytes(a.largeCommunities);
  endAttr(w, at);
}

/** Writes every attribute but MP_REACH/MP_UNREACH, in ascending type order (RFC 4271 §5) unless `opt.layout` says otherwise. */
export function encodeAttributes(w: Writer, a: PathAttributes, opt: AttrEncodeOptions): void {
  const T = AttrFlag.Transitive;
  const OT = AttrFlag.Optional | AttrFlag.Transitive;
  const O = AttrFlag.Optional;
  const frr = opt.layout === 'frr';
  if (a.origin !== undefined) {
    const at = beginAttr(w, T, AttrType.Origin);
    w.u8(a.origin);
    endAttr(w, at);
  }
  const path = a.asPath ?? [];
  let at = beginAttr(w, T, AttrType.AsPath);
  encodeAsPath(w, path, opt.fourOctetAs ? 4 : 2);
  endAttr(w, at, frr);
  if (opt.withNextHop && a.nextHop !== undefined && a.nextHop.length === 4) {
    at = beginAttr(w, T, AttrType.NextHop);
    w.bytes(a.nextHop);
    endAttr(w, at);
  }
  if (a.med !== undefined) u32Attr(w, O, AttrType.MultiExitDisc, a.med);
  if (a.localPref !== undefined) u32Attr(w, T, AttrType.LocalPref, a.localPref);
  if (a.atomicAggregate) endAttr(w, beginAttr(w, T, AttrType.AtomicAggregate));
  const aggAs4 = a.aggregator !== undefined && !opt.fourOctetAs && a.aggregator.asn > 0xffff;
  if (a.aggregator !== undefined) {
    at = beginAttr(w, OT, AttrType.Aggregator);
    if (opt.fourOctetAs) w.u32(a.aggregator.asn);
    else w.u16(aggAs4 ? AS_TRANS : a.aggregator.asn);
    w.u32(a.aggregator.address);
    endAttr(w, at);
  }
  if (a.communities !== undefined && a.communities.length > 0) {
    at = beginAttr(w, OT, AttrType.Communities);
    for (const c of a.communities) w.u32(c);
    endAttr(w, at);
  }
  if (frr) largeCommunities(w, a);
  if (a.originatorId !== undefined) u32Attr(w, O, AttrType.OriginatorId, a.originatorId);
  if (a.clusterList !== undefined && a.clusterList.length > 0) {
    at = beginAttr(w, O, AttrType.ClusterList);
    for (const c of a.clusterList) w.u32(c);
    endAttr(w, at);
  }
  if (a.extCommunities !== undefined && a.extCommunities.length > 0) {
    at = beginAttr(w, OT, AttrType.ExtendedCommunities);
    w.bytes(a.extCommunities);
    endAttr(w, at);
  }
  const as4Path = opt.fourOctetAs ? path : withoutConfed(path);
  if (!opt.fourOctetAs && needsAs4(as4Path)) {
    // RFC 6793 §4.2.2: a 2-octet peer gets AS_TRANS in AS_PATH and the real path
    // here, minus confederation segments, which must not leave the confederation.
    at = beginAttr(w, OT, AttrType.As4Path);
    encodeAsPath(w, as4Path, 4);
    endAttr(w, at, frr);
  }
  if (aggAs4 && a.aggregator !== undefined) {
    at = beginAttr(w, OT, AttrType.As4Aggregator);
    w.u32(a.aggregator.asn).u32(a.aggregator.address);
    endAttr(w, at);
  }
  if (a.pmsiTunnel !== undefined) {
    at = beginAttr(w, OT, AttrType.PmsiTunnel);
    w.bytes(a.pmsiTunnel);
    endAttr(w, at);
  }
  if (!frr) largeCommunities(w, a);
  for (const u of a.unknown ?? []) {
    // RFC 4271 §5: an unrecognized optional transitive attribute is passed on with Partial set.
    at = beginAttr(w, u.flags | AttrFlag.Partial, u.type);
    w.bytes(u.value);
    endAttr(w, at);
  }
}
