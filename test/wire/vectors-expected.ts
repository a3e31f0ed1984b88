/**
 * What each capture in test/vectors/bgp-messages.json must decode to, written
 * by hand from the vector's `notes` (tshark's dissection) and `how` (the
 * sender's configuration), never from our decoder's output. Keyed by name.
 */
import type { AsPath } from '../../src/bgp/wire/aspath.js';
import type { AttrLayout, PathAttributes } from '../../src/bgp/wire/attributes.js';
import type { AddPathFamily, Capability, GracefulRestartFamily } from '../../src/bgp/wire/capabilities.js';
import { AsPathSegmentType, CapabilityCode, Origin, RouteRefreshSubtype } from '../../src/bgp/wire/constants.js';
import {
  type FamilyKey,
  IPV4_UNICAST,
  IPV4_VPN,
  IPV6_UNICAST,
  IPV6_VPN,
  L2VPN_EVPN,
} from '../../src/bgp/wire/family.js';
import type { Nlri } from '../../src/bgp/wire/nlri.js';
import type { Open } from '../../src/bgp/wire/open.js';
import type { RouteRefresh } from '../../src/bgp/wire/route-refresh.js';
import { ipv6ToBytes } from '../../src/core/ip.js';
import { prefixNlri } from './helpers.js';

/** One direction of one lab session: what the receiver negotiated with the sender. */
export interface Session {
  readonly source: 'FRR 8.4.4' | 'GoBGP 3.10';
  /** The sender's implementation decides the attribute layout to reproduce. */
  readonly layout: AttrLayout;
  /** RFC 6793: both OPENs carried the 4-octet AS capability. */
  readonly fourOctetAs: boolean;
  /** The sender's AS when the session is eBGP (first-AS check, LOCAL_PREF discard). */
  readonly ebgpPeerAs?: number;
  /** RFC 7911: families in which the sender may send and the receiver receive path ids. */
  readonly addPath: readonly FamilyKey[];
  readonly families: readonly FamilyKey[];
  /** RFC 8654: both OPENs carried the extended message capability. */
  readonly extendedMessage: boolean;
}

const S1_FAMILIES = [IPV4_UNICAST, IPV6_UNICAST, IPV4_VPN, IPV6_VPN, L2VPN_EVPN];

// s1-ibgp: GoBGP sends no ADD-PATH or extended message capability, so neither is in use either way.
const S1_FRR: Session = { source: 'FRR 8.4.4', layout: 'frr', fourOctetAs: true, addPath: [], families: S1_FAMILIES, extendedMessage: false };
const S1_GOBGP: Session = { ...S1_FRR, source: 'GoBGP 3.10', layout: 'gobgp' };
// s2-ebgp: GoBGP offers ADD-PATH send/receive for IPv4 unicast, FRR only receive for IPv4 and IPv6 unicast.
const S2_FRR: Session = {
  source: 'FRR 8.4.4',
  layout: 'frr',
  fourOctetAs: true,
  ebgpPeerAs: 65001,
  addPath: [],
  families: [IPV4_UNICAST, IPV6_UNICAST],
  extendedMessage: false,
};
const S2_GOBGP: Session = { ...S2_FRR, source: 'GoBGP 3.10', layout: 'gobgp', ebgpPeerAs: 4200000001, addPath: [IPV4_UNICAST] };
// s3-as2: FRR's OPEN has no capabilities, so the session is 2-octet AS in both directions.
const S3_FRR: Session = {
  source: 'FRR 8.4.4',
  layout: 'frr',
  fourOctetAs: false,
  ebgpPeerAs: 65010,
  addPath: [],
  families: [IPV4_UNICAST],
  extendedMessage: false,
};
const S3_GOBGP: Session = { ...S3_FRR, source: 'GoBGP 3.10', layout: 'gobgp', ebgpPeerAs: 65020 };
// s4-frr-frr: A offers ADD-PATH send/receive, B only receive, so only A sends path ids.
const S4_A: Session = {
  source: 'FRR 8.4.4',
  layout: 'frr',
  fourOctetAs: true,
  addPath: [IPV4_UNICAST],
  families: [IPV4_UNICAST],
  extendedMessage: true,
};
const S4_B: Session = { ...S4_A, addPath: [] };
const S5_FRR: Session = { ...S4_B, extendedMessage: false };
const S5_GOBGP: Session = { ...S5_FRR, source: 'GoBGP 3.10', layout: 'gobgp' };
// s6-ipv6: FRR offers ADD-PATH receive only; both offer RFC 8950 extended next hop for IPv4 unicast.
const S6_FRR: Session = { ...S5_FRR, families: [IPV4_UNICAST, IPV6_UNICAST] };
const S6_GOBGP: Session = { ...S6_FRR, source: 'GoBGP 3.10', layout: 'gobgp' };

export interface ExpectedUpdate {
  readonly attrs: PathAttributes;
  readonly nlri?: readonly Nlri[];
  readonly withdrawn?: readonly Nlri[];
  readonly mpReach?: { readonly family: FamilyKey; readonly nextHop: Buffer; readonly nlri: readonly Nlri[] };
  readonly mpUnreach?: { readonly family: FamilyKey; readonly withdrawn: readonly Nlri[] };
  readonly endOfRib?: FamilyKey;
  /** From a 2-octet AS speaker: AS_PATH and AS4_PATH as they are on the wire, before RFC 6793 §4.2.3 merges them. */
  readonly wireAsPath?: AsPath;
  readonly wireAs4Path?: AsPath;
}

export type Expected =
  | { readonly type: 'open'; readonly open: Open }
  | { readonly type: 'keepalive' }
  | { readonly type: 'notification'; readonly code: number; readonly subcode: number; readonly shutdownText?: string }
  | { readonly type: 'route-refresh'; readonly refresh: RouteRefresh }
  | { readonly type: 'update'; readonly update: ExpectedUpdate };

export interface VectorExpectation {
  readonly session: Session;
  readonly expect: Expected;
}

// --- builders, each from the textual form tshark prints ---

function ip4(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}

function id(text: string): number {
  return ip4(text).readUInt32BE(0);
}

function ip6(text: string): Buffer {
  const b = ipv6ToBytes(text);
  if (b === undefined) throw new Error(`bad IPv6 address in the expectations: ${text}`);
  return b;
}

function pfx(text: string, pathId = 0): Nlri {
  const [addr, len] = text.split('/') as [string, string];
  return prefixNlri(Number(len), addr.includes(':') ? ip6(addr) : ip4(addr), pathId);
}

function seq(...asns: number[]): AsPath {
  return [{ type: AsPathSegmentType.AsSequence, asns }];
}

const NO_PATH: AsPath = [];

function comm(asn: number, value: number): number {
  return ((asn << 16) | value) >>> 0;
}

/** RFC 1997 well-known community. */
const NO_EXPORT = 0xffffff01;

function large(global: number, local1: number, local2: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(global, 0);
  b.writeUInt32BE(local1, 4);
  b.writeUInt32BE(local2, 8);
  return b;
}

/** RFC 4360 §4: Transitive Two-Octet AS-Specific (0x00), Route Target subtype (0x02). */
function rt(asn: number, value: number): Buffer {
  const b = Buffer.from([0x00, 0x02, 0, 0, 0, 0, 0, 0]);
  b.writeUInt16BE(asn, 2);
  b.writeUInt32BE(value, 4);
  return b;
}

const mp = (afi: number, safi: number): Capability => ({ code: CapabilityCode.Multiprotocol, afi, safi });
const RR: Capability = { code: CapabilityCode.RouteRefresh };
/** tshark's "Route refresh capability (Cisco)": the pre-standard code 128, which we keep as unknown. */
const CISCO_RR: Capability = { code: 'unknown', type: 128, value: Buffer.alloc(0) };
const ENHANCED_RR: Capability = { code: CapabilityCode.EnhancedRouteRefresh };
const EXT_MSG: Capability = { code: CapabilityCode.ExtendedMessage };
const as4 = (asn: number): Capability => ({ code: CapabilityCode.FourOctetAs, asn });
const fqdn = (hostname: string): Capability => ({ code: CapabilityCode.Fqdn, hostname, domain: '' });

function addPath(...families: [afi: number, safi: number, sendReceive: number][]): Capability {
  const list: AddPathFamily[] = families.map(([afi, safi, sendReceive]) => ({ afi, safi, sendReceive }));
  return { code: CapabilityCode.AddPath, families: list };
}

/** "Restart Timers: 0xc078, Restart state, Graceful notification" is R and N set, 120 s. */
function gr(restarting: boolean, notification: boolean, restartTime: number, ...families: [afi: number, safi: number][]): Capability {
  const list: GracefulRestartFamily[] = families.map(([afi, safi]) => ({ afi, safi, forwarding: false }));
  return { code: CapabilityCode.GracefulRestart, restarting, notification, restartTime, families: list };
}

/** RFC 8950 §3 (code 5), kept as unknown: AFI(2) SAFI(2) Next Hop AFI(2) per entry. */
function extendedNextHop(...entries: [afi: number, safi: number, nextHopAfi: number][]): Capability {
  const b = Buffer.alloc(entries.length * 6);
  entries.forEach(([afi, safi, nh], i) => {
    b.writeUInt16BE(afi, i * 6);
    b.writeUInt16BE(safi, i * 6 + 2);
    b.writeUInt16BE(nh, i * 6 + 4);
  });
  return { code: 'unknown', type: CapabilityCode.ExtendedNextHop, value: b };
}

/** RFC 9494 LLGR (code 71), kept as unknown: AFI(2) SAFI(1) Flags(1) Stale Time(3) per family; FRR sets F, time 0. */
function llgr(...families: [afi: number, safi: number][]): Capability {
  const b = Buffer.alloc(families.length * 7);
  families.forEach(([afi, safi], i) => {
    b.writeUInt16BE(afi, i * 7);
    b[i * 7 + 2] = safi;
    b[i * 7 + 3] = 0x80;
  });
  return { code: 'unknown', type: 71, value: b };
}

function open(session: Session, o: Omit<Open, 'version'>): VectorExpectation {
  return { session, expect: { type: 'open', open: { version: 4, ...o } } };
}

function update(session: Session, u: ExpectedUpdate): VectorExpectation {
  return { session, expect: { type: 'update', update: u } };
}

function notification(session: Session, code: number, subcode: number, shutdownText?: string): VectorExpectation {
  return { session, expect: shutdownText === undefined ? { type: 'notification', code, subcode } : { type: 'notification', code, subcode, shutdownText } };
}

function refresh(session: Session, afi: number, subtype: RouteRefreshSubtype, safi: number): VectorExpectation {
  return { session, expect: { type: 'route-refresh', refresh: { afi, subtype, safi } } };
}

const AS_TRANS = 23456;

export const EXPECTED: ReadonlyMap<string, VectorExpectation> = new Map<string, VectorExpectation>([
  [
    'frr-ibgp-open',
    open(S1_FRR, {
      myAs: 65000,
      holdTime: 180,
      bgpId: id('127.0.9.1'),
      paramLayout: 'per-capability',
      capabilities: [
        mp(1, 1),
        mp(1, 128),
        mp(2, 1),
        mp(2, 128),
        mp(25, 70),
        CISCO_RR,
        RR,
        ENHANCED_RR,
        as4(65000),
        EXT_MSG,
        addPath([1, 1, 3], [1, 128, 3], [2, 1, 3], [2, 128, 3], [25, 70, 3]),
        fqdn('frr-ibgp'),
        gr(true, true, 120, [1, 1], [1, 128], [2, 1], [2, 128], [25, 70]),
        llgr([1, 1], [1, 128], [2, 1], [2, 128], [25, 70]),
      ],
    }),
  ],
  [
    'gobgp-ibgp-open',
    open(S1_GOBGP, {
      myAs: 65000,
      holdTime: 90,
      bgpId: id('127.0.9.2'),
      capabilities: [
        RR,
        fqdn('gobgp-ibgp'),
        mp(1, 1),
        mp(2, 1),
        mp(1, 128),
        mp(2, 128),
        mp(25, 70),
        as4(65000),
        gr(false, false, 90, [1, 1], [2, 1]),
        extendedNextHop([1, 1, 2], [1, 128, 2], [2, 128, 2], [25, 70, 2]),
      ],
    }),
  ],
  ['frr-ibgp-keepalive', { session: S1_FRR, expect: { type: 'keepalive' } }],
  ['frr-ibgp-eor-ipv4-unicast', update(S1_FRR, { attrs: {}, endOfRib: IPV4_UNICAST })],
  ['frr-ibgp-eor-ipv6-unicast', update(S1_FRR, { attrs: {}, mpUnreach: { family: IPV6_UNICAST, withdrawn: [] }, endOfRib: IPV6_UNICAST })],
  [
    'gobgp-ibgp-update-ipv4-unicast-10.66.0.0/24',
    update(S1_GOBGP, {
      attrs: {
        origin: Origin.Egp,
        asPath: seq(65001, 65002),
        med: 10,
        localPref: 200,
        communities: [comm(65000, 1)],
        largeCommunities: large(65000, 1, 2),
        nextHop: ip4('10.0.0.2'),
      },
      nlri: [pfx('10.66.0.0/24')],
    }),
  ],
  [
    'frr-ibgp-update-ipv6-unicast-nh32-2001:db8:55::/48',
    update(S1_FRR, {
      attrs: { origin: Origin.Igp, asPath: NO_PATH, med: 0, localPref: 100 },
      mpReach: {
        family: IPV6_UNICAST,
        nextHop: Buffer.concat([ip6('::ffff:127.0.9.1'), ip6('fe80::1')]),
        nlri: [pfx('2001:db8:55::/48')],
      },
    }),
  ],
  [
    'frr-ibgp-update-ipv4-unicast-10.55.0.0/24',
    update(S1_FRR, {
      attrs: {
        origin: Origin.Egp,
        asPath: seq(65100, 65200),
        nextHop: ip4('10.0.0.1'),
        med: 50,
        localPref: 250,
        communities: [comm(65000, 100), comm(65000, 200), NO_EXPORT],
        largeCommunities: large(65000, 1, 2),
        extCommunities: rt(65000, 7),
      },
      nlri: [pfx('10.55.0.0/24')],
    }),
  ],
  [
    'gobgp-ibgp-update-ipv4-unicast-aggregator-10.67.0.0/24',
    update(S1_GOBGP, {
      attrs: {
        origin: Origin.Incomplete,
        asPath: NO_PATH,
        nextHop: ip4('10.0.0.2'),
        localPref: 100,
        aggregator: { asn: 65001, address: id('10.0.0.9') },
        extCommunities: rt(65000, 67),
      },
      nlri: [pfx('10.67.0.0/24')],
    }),
  ],
  [
    'gobgp-ibgp-update-ipv6-unicast-nh16-2001:db8:66::/48',
    update(S1_GOBGP, {
      attrs: { origin: Origin.Incomplete, asPath: NO_PATH, localPref: 100 },
      mpReach: { family: IPV6_UNICAST, nextHop: ip6('2001:db8::2'), nlri: [pfx('2001:db8:66::/48')] },
    }),
  ],
  ['gobgp-ibgp-withdraw-ipv4-unicast-10.66.0.0/24', update(S1_GOBGP, { attrs: {}, withdrawn: [pfx('10.66.0.0/24')] })],
  [
    'gobgp-ibgp-withdraw-ipv6-unicast-2001:db8:66::/48',
    update(S1_GOBGP, { attrs: {}, mpUnreach: { family: IPV6_UNICAST, withdrawn: [pfx('2001:db8:66::/48')] } }),
  ],
  [
    'frr-ibgp-withdraw-ipv6-unicast-2001:db8:55::/48',
    update(S1_FRR, { attrs: {}, mpUnreach: { family: IPV6_UNICAST, withdrawn: [pfx('2001:db8:55::/48')] } }),
  ],
  ['frr-ibgp-withdraw-ipv4-unicast-10.55.0.0/24', update(S1_FRR, { attrs: {}, withdrawn: [pfx('10.55.0.0/24')] })],
  ['frr-ibgp-route-refresh-ipv4-unicast', refresh(S1_FRR, 1, RouteRefreshSubtype.Normal, 1)],
  [
    'frr-ibgp-notification-cease-admin-shutdown-with-message',
    notification(S1_FRR, 6, 2, 'vmmi test vector: planned maintenance'),
  ],
  [
    'gobgp-ebgp-open',
    open(S2_GOBGP, {
      myAs: AS_TRANS,
      holdTime: 90,
      bgpId: id('127.0.9.4'),
      capabilities: [RR, fqdn('gobgp-ebgp'), mp(1, 1), mp(2, 1), as4(4200000001), extendedNextHop([1, 1, 2]), addPath([1, 1, 3])],
    }),
  ],
  [
    'frr-ebgp-open',
    open(S2_FRR, {
      myAs: 65001,
      holdTime: 180,
      bgpId: id('127.0.9.3'),
      paramLayout: 'per-capability',
      capabilities: [
        mp(1, 1),
        mp(2, 1),
        CISCO_RR,
        RR,
        ENHANCED_RR,
        as4(65001),
        EXT_MSG,
        addPath([1, 1, 1], [2, 1, 1]),
        fqdn('frr-ebgp'),
        gr(true, true, 120),
        llgr([1, 1], [2, 1]),
      ],
    }),
  ],
  [
    'gobgp-ebgp-update-ipv4-unicast-addpath-10.88.0.0/24-path1',
    update(S2_GOBGP, {
      attrs: {
        origin: Origin.Incomplete,
        asPath: seq(4200000001, 4200000099),
        communities: [comm(65000, 88)],
        nextHop: ip4('10.0.0.4'),
      },
      nlri: [pfx('10.88.0.0/24', 1)],
    }),
  ],
  [
    'frr-ebgp-update-ipv4-unicast-atomic-aggregate-10.77.0.0/16',
    update(S2_FRR, {
      attrs: {
        origin: Origin.Igp,
        asPath: seq(65001),
        nextHop: ip4('10.0.0.3'),
        med: 0,
        atomicAggregate: true,
        aggregator: { asn: 65001, address: id('127.0.9.3') },
      },
      nlri: [pfx('10.77.0.0/16')],
    }),
  ],
  [
    'frr-ebgp-update-ipv6-unicast-nh16-2001:db8:77::/48',
    update(S2_FRR, {
      attrs: { origin: Origin.Igp, asPath: seq(65001), med: 0 },
      mpReach: { family: IPV6_UNICAST, nextHop: ip6('2001:db8::3'), nlri: [pfx('2001:db8:77::/48')] },
    }),
  ],
  [
    'frr-ebgp-update-ipv4-unicast-10.88.0.0/24',
    update(S2_FRR, {
      attrs: {
        origin: Origin.Incomplete,
        asPath: seq(65001, 4200000001, 4200000099),
        nextHop: ip4('10.0.0.3'),
        communities: [comm(65000, 88)],
      },
      nlri: [pfx('10.88.0.0/24')],
    }),
  ],
  [
    'gobgp-ebgp-update-ipv4-unicast-addpath-10.88.0.0/24-path2',
    update(S2_GOBGP, {
      attrs: { origin: Origin.Incomplete, asPath: seq(4200000001, 4200000098, 65003), nextHop: ip4('10.0.0.5') },
      nlri: [pfx('10.88.0.0/24', 2)],
    }),
  ],
  [
    'gobgp-ebgp-update-ipv6-unicast-nh16-2001:db8:88::/48',
    update(S2_GOBGP, {
      attrs: { origin: Origin.Incomplete, asPath: seq(4200000001), med: 5 },
      mpReach: { family: IPV6_UNICAST, nextHop: ip6('2001:db8::4'), nlri: [pfx('2001:db8:88::/48')] },
    }),
  ],
  [
    'frr-ebgp-update-ipv6-unicast-nh16-2001:db8:88::/48',
    update(S2_FRR, {
      attrs: { origin: Origin.Incomplete, asPath: seq(65001, 4200000001) },
      mpReach: { family: IPV6_UNICAST, nextHop: ip6('2001:db8::3'), nlri: [pfx('2001:db8:88::/48')] },
    }),
  ],
  [
    'gobgp-ebgp-withdraw-ipv4-unicast-addpath-10.88.0.0/24-path2',
    update(S2_GOBGP, { attrs: {}, withdrawn: [pfx('10.88.0.0/24', 2)] }),
  ],
  [
    'gobgp-ebgp-notification-cease-admin-shutdown-with-message',
    notification(S2_GOBGP, 6, 2, 'gobgp vector: planned maintenance'),
  ],
  [
    'gobgp-to-as2-open',
    open(S3_GOBGP, {
      myAs: 65020,
      holdTime: 90,
      bgpId: id('127.0.9.6'),
      capabilities: [RR, fqdn('gobgp-as2'), mp(1, 1), as4(65020), extendedNextHop([1, 1, 2])],
    }),
  ],
  // No optional parameters at all: that is what 'per-capability' gives for no capabilities.
  ['frr-as2-open', open(S3_FRR, { myAs: 65010, holdTime: 180, bgpId: id('127.0.9.5'), paramLayout: 'per-capability', capabilities: [] })],
  [
    'gobgp-to-as2-update-ipv4-unicast-as4path-10.90.0.0/24',
    update(S3_GOBGP, {
      attrs: { origin: Origin.Incomplete, asPath: seq(65020, 4200000020, 65030), nextHop: ip4('10.0.0.6') },
      nlri: [pfx('10.90.0.0/24')],
      wireAsPath: seq(65020, AS_TRANS, 65030),
      wireAs4Path: seq(65020, 4200000020, 65030),
    }),
  ],
  [
    // FRR dropped the AS4_PATH it received (README caveats): AS_TRANS stays in the path.
    'frr-as2-update-ipv4-unicast-10.90.0.0/24',
    update(S3_FRR, {
      attrs: { origin: Origin.Incomplete, asPath: seq(65010, 65020, AS_TRANS, 65030), nextHop: ip4('10.0.0.5') },
      nlri: [pfx('10.90.0.0/24')],
      wireAsPath: seq(65010, 65020, AS_TRANS, 65030),
    }),
  ],
  [
    'frr-as2-update-ipv4-unicast-as4path-10.89.0.0/24',
    update(S3_FRR, {
      attrs: { origin: Origin.Igp, asPath: seq(65010, 4200000010), nextHop: ip4('10.0.0.5'), med: 0 },
      nlri: [pfx('10.89.0.0/24')],
      wireAsPath: seq(65010, AS_TRANS),
      wireAs4Path: seq(65010, 4200000010),
    }),
  ],
  ['frr-as2-notification-cease-peer-deconfigured', notification(S3_FRR, 6, 3)],
  ['frr-as2-notification-cease-admin-shutdown', notification(S3_FRR, 6, 2)],
  [
    'frr-b-open',
    open(S4_B, {
      myAs: AS_TRANS,
      holdTime: 180,
      bgpId: id('127.0.9.8'),
      paramLayout: 'per-capability',
      capabilities: [
        mp(1, 1),
        CISCO_RR,
        RR,
        ENHANCED_RR,
        as4(4200000100),
        EXT_MSG,
        addPath([1, 1, 1]),
        fqdn('frr-b'),
        gr(true, true, 120),
        llgr([1, 1]),
      ],
    }),
  ],
  [
    'frr-a-open',
    open(S4_A, {
      myAs: AS_TRANS,
      holdTime: 180,
      bgpId: id('127.0.9.7'),
      paramLayout: 'per-capability',
      capabilities: [
        mp(1, 1),
        CISCO_RR,
        RR,
        ENHANCED_RR,
        as4(4200000100),
        EXT_MSG,
        addPath([1, 1, 3]),
        fqdn('frr-a'),
        gr(true, true, 120),
        llgr([1, 1]),
      ],
    }),
  ],
  ['frr-a-borr-ipv4-unicast', refresh(S4_A, 1, RouteRefreshSubtype.BeginningOfRouteRefresh, 1)],
  [
    'frr-a-update-ipv4-unicast-addpath-10.44.0.0/24-path2',
    update(S4_A, {
      attrs: { origin: Origin.Igp, asPath: NO_PATH, nextHop: ip4('10.0.0.7'), med: 0, localPref: 100 },
      nlri: [pfx('10.44.0.0/24', 2), pfx('10.44.1.0/24', 3)],
    }),
  ],
  ['frr-a-eorr-ipv4-unicast', refresh(S4_A, 1, RouteRefreshSubtype.EndOfRouteRefresh, 1)],
  [
    'frr-b-update-ipv4-unicast-10.45.0.0/24',
    update(S4_B, {
      attrs: { origin: Origin.Igp, asPath: NO_PATH, nextHop: ip4('10.0.0.8'), med: 0, localPref: 100 },
      nlri: [pfx('10.45.0.0/24')],
    }),
  ],
  ['frr-a-withdraw-ipv4-unicast-addpath-10.44.1.0/24-path3', update(S4_A, { attrs: {}, withdrawn: [pfx('10.44.1.0/24', 3)] })],
  [
    'gobgp-hold-open',
    open(S5_GOBGP, {
      myAs: 65000,
      holdTime: 3,
      bgpId: id('127.0.9.10'),
      capabilities: [RR, fqdn('gobgp-hold'), mp(1, 1), as4(65000), extendedNextHop([1, 1, 2])],
    }),
  ],
  [
    'frr-hold-open',
    open(S5_FRR, {
      myAs: 65000,
      holdTime: 3,
      bgpId: id('127.0.9.9'),
      paramLayout: 'per-capability',
      capabilities: [
        mp(1, 1),
        CISCO_RR,
        RR,
        ENHANCED_RR,
        as4(65000),
        EXT_MSG,
        addPath([1, 1, 1]),
        fqdn('frr-hold'),
        gr(true, true, 120),
        llgr([1, 1]),
      ],
    }),
  ],
  ['frr-hold-notification-hold-timer-expired', notification(S5_FRR, 4, 0)],
  [
    'frr-v6-open',
    open(S6_FRR, {
      myAs: 65000,
      holdTime: 180,
      bgpId: id('127.0.9.11'),
      paramLayout: 'per-capability',
      capabilities: [
        mp(1, 1),
        extendedNextHop([1, 1, 2]),
        mp(2, 1),
        CISCO_RR,
        RR,
        ENHANCED_RR,
        as4(65000),
        EXT_MSG,
        addPath([1, 1, 1], [2, 1, 1]),
        fqdn('frr-v6'),
        gr(true, true, 120),
        llgr([1, 1], [2, 1]),
      ],
    }),
  ],
  [
    'gobgp-v6-open',
    open(S6_GOBGP, {
      myAs: 65000,
      holdTime: 90,
      bgpId: id('127.0.9.12'),
      capabilities: [RR, fqdn('gobgp-v6'), mp(1, 1), mp(2, 1), as4(65000), extendedNextHop([1, 1, 2])],
    }),
  ],
  [
    // RFC 8950: IPv4 NLRI in MP_REACH_NLRI with a 16-byte IPv6 next hop.
    'frr-v6-update-ipv4-unicast-nh16-10.56.0.0/24',
    update(S6_FRR, {
      attrs: { origin: Origin.Igp, asPath: NO_PATH, med: 0, localPref: 100 },
      mpReach: { family: IPV4_UNICAST, nextHop: ip6('::1'), nlri: [pfx('10.56.0.0/24')] },
    }),
  ],
  [
    'frr-v6-update-ipv6-unicast-nh16-2001:db8:56::/48',
    update(S6_FRR, {
      attrs: { origin: Origin.Igp, asPath: NO_PATH, med: 0, localPref: 100 },
      mpReach: { family: IPV6_UNICAST, nextHop: ip6('::1'), nlri: [pfx('2001:db8:56::/48')] },
    }),
  ],
  [
    'gobgp-v6-update-ipv6-unicast-nh16-2001:db8:57::/48',
    update(S6_GOBGP, {
      attrs: { origin: Origin.Incomplete, asPath: NO_PATH, localPref: 100 },
      mpReach: { family: IPV6_UNICAST, nextHop: ip6('2001:db8::12'), nlri: [pfx('2001:db8:57::/48')] },
    }),
  ],
  [
    'gobgp-v6-update-ipv4-unicast-10.57.0.0/24',
    update(S6_GOBGP, {
      attrs: { origin: Origin.Incomplete, asPath: NO_PATH, nextHop: ip4('10.0.0.12'), localPref: 100 },
      nlri: [pfx('10.57.0.0/24')],
    }),
  ],
]);
