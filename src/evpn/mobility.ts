/**
 * Every RFC 7432 §15 MAC-mobility rule in one place. Route selection (the
 * RIB's EVPN decision step) and, later, VM-arrival origination both ask this
 * module, so the two can never disagree about which location is newest.
 */
import type { PathAttributes } from '../bgp/wire/attributes.js';
import type { Nlri } from '../bgp/wire/nlri.js';
import { decodeExtCommunities, macMobility } from './ext-communities.js';
import { isZeroEsi } from './esi.js';
import type { EvpnRoute, MacIpRoute } from './route.js';

/** RFC 7432 §7.7: a route without the MAC Mobility community counts as sequence 0, not sticky. */
export interface Mobility {
  readonly seq: number;
  readonly sticky: boolean;
}

const NONE: Mobility = { seq: 0, sticky: false };
const byAttrs = new WeakMap<PathAttributes, Mobility>();

/** The MAC Mobility of a path's attributes, decoded once per interned attribute set. */
export function mobilityOf(attrs: PathAttributes): Mobility {
  let m = byAttrs.get(attrs);
  if (m === undefined) {
    m = attrs.extCommunities ? (macMobility(decodeExtCommunities(attrs.extCommunities)) ?? NONE) : NONE;
    byAttrs.set(attrs, m);
  }
  return m;
}

export function isMacIpRoute(n: Nlri): n is MacIpRoute {
  return (n as Partial<EvpnRoute>).kind === 'mac-ip';
}

/**
 * RFC 7432 §15 sequence numbers are 32-bit and wrap: compared in serial
 * number arithmetic (RFC 1982), so 0 is newer than 4294967295.
 * Positive when a is newer than b.
 */
export function compareSeq(a: number, b: number): number {
  if (a === b) return 0;
  const d = (a - b) >>> 0;
  return d < 0x80000000 ? 1 : -1;
}

export interface MobilityCandidate {
  readonly nlri: Nlri;
  readonly attrs: PathAttributes;
}

/** §15.1's "lower IP address" order: IPv4 before IPv6, then byte by byte; 0 when either is missing. */
export function compareAddressBytes(a: Buffer | undefined, b: Buffer | undefined): number {
  if (!a || !b) return 0;
  return a.length !== b.length ? a.length - b.length : Buffer.compare(a, b);
}

/*
 * The three RFC 7432 §15 preferences between advertisements of one MAC/IP,
 * applied in this order ahead of the usual BGP decision. Each keeps the
 * candidates it prefers and leaves non-MAC/IP routes alone.
 */

/** §15.2: a sticky (static) MAC wins over any advertisement that is not. */
export function keepSticky<T extends MobilityCandidate>(c: readonly T[]): readonly T[] {
  if (!isMacIpRoute(c[0]!.nlri)) return c;
  const sticky = c.filter((p) => mobilityOf(p.attrs).sticky);
  return sticky.length > 0 ? sticky : c;
}

/** §15: the highest sequence number is the MAC's current location. */
export function keepNewest<T extends MobilityCandidate>(c: readonly T[]): readonly T[] {
  if (!isMacIpRoute(c[0]!.nlri)) return c;
  let newest = mobilityOf(c[0]!.attrs).seq;
  for (const p of c) if (compareSeq(mobilityOf(p.attrs).seq, newest) > 0) newest = mobilityOf(p.attrs).seq;
  return c.filter((p) => mobilityOf(p.attrs).seq === newest);
}

/**
 * §15.1: at equal sequence numbers from different PEs the lowest originating
 * (next hop) address wins. Advertisements from one multihomed Ethernet
 * segment (the same non-zero ESI) are not a conflict and are all kept.
 */
export function keepLowestOriginator<T extends MobilityCandidate>(c: readonly T[]): readonly T[] {
  if (!isMacIpRoute(c[0]!.nlri)) return c;
  const esis = new Set(c.map((p) => (isMacIpRoute(p.nlri) && !isZeroEsi(p.nlri.esi) ? p.nlri.esi.raw.toString('hex') : '')));
  if (esis.size === 1 && !esis.has('')) return c;
  let low = c[0]!;
  for (const p of c) if (compareAddressBytes(p.attrs.nextHop, low.attrs.nextHop) < 0) low = p;
  return c.filter((p) => compareAddressBytes(p.attrs.nextHop, low.attrs.nextHop) === 0);
}

/** RFC 7432 §15: a MAC learned locally takes one above the highest sequence number known for it. */
export function nextLocalSeq(known: readonly MobilityCandidate[]): number {
  let seq: number | undefined;
  for (const p of known) {
    const s = mobilityOf(p.attrs).seq;
    if (seq === undefined || compareSeq(s, seq) > 0) seq = s;
  }
  return seq === undefined ? 0 : (seq + 1) >>> 0;
}
