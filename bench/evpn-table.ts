/**
 * An EVPN type-2 table as PEs send it to a route reflector: MAC/IP routes in
 * MAC-VRFs of 1,000 hosts, one RD and one VNI per MAC-VRF, and every route of
 * a MAC-VRF sharing one attribute set (RT, VXLAN encapsulation, the PE's next
 * hop). The route's number is written into its MAC address, so a receiving
 * client can count distinct routes from two bytes' offset without decoding.
 */
import '../src/evpn/index.js';
import type { PathAttributes } from '../src/bgp/wire/attributes.js';
import { Origin } from '../src/bgp/wire/constants.js';
import { L2VPN_EVPN } from '../src/bgp/wire/family.js';
import { parseRd } from '../src/bgp/wire/rd.js';
import { encodeAnnouncements } from '../src/bgp/wire/update-encode.js';
import { type MacIpRoute, encodeExtCommunities, labelFromVni, macIpRoute, routeTarget } from '../src/evpn/index.js';
import { PACK, type WireStream, wireStream } from './table.js';

export const ROUTES_PER_RD = 1_000;
/** PEs whose routes the injector carries: next hops 10.0.0.1-250 (FRR drops 127/8 next hops). */
const PES = 250;
const RR_AS = 65000;
const FIRST_VNI = 10_000;
const VXLAN = 8;

/** MAC addresses 02:bb:NN:NN:NN:NN, NN the route number: locally administered, and ours. */
export const MAC_PREFIX = [0x02, 0xbb] as const;
/**
 * Where the route number sits in a MAC/IP NLRI, counted from its RouteType
 * octet: Type(1) Length(1) RD(8) ESI(10) Tag(4) MACLen(1), then the MAC,
 * whose last 4 octets are the number.
 */
export const MAC_AT = 25;
export const NUMBER_AT = MAC_AT + 2;

export const PROBE_CHANGES = 200;

/** One route changed again and again, each UPDATE with a next hop of its own. */
export interface Probe {
  readonly route: number;
  readonly messages: readonly Buffer[];
  /** The MP_REACH next hop of each message as a 32-bit number. */
  readonly nextHops: readonly number[];
}

export interface EvpnTable {
  readonly routes: number;
  readonly rds: number;
  readonly stream: WireStream;
  readonly probe: Probe;
}

function pe(rdIndex: number): number {
  return 1 + (rdIndex % PES);
}

function nextHop(a: number, b: number, c: number, d: number): Buffer {
  return Buffer.from([a, b, c, d]);
}

/** The attribute set a PE sends with every route of one MAC-VRF. */
function rdAttrs(rdIndex: number): PathAttributes {
  const vni = FIRST_VNI + rdIndex;
  return {
    origin: Origin.Igp,
    asPath: [],
    localPref: 100,
    extCommunities: encodeExtCommunities([routeTarget('as2', RR_AS, vni), { kind: 'encapsulation', tunnelType: VXLAN }]),
  };
}

function route(n: number): MacIpRoute {
  const rdIndex = Math.floor(n / ROUTES_PER_RD);
  const host = n % ROUTES_PER_RD;
  // Type 1 RDs, PE address : MAC-VRF number, as FRR auto-derives them.
  const rd = parseRd(`10.0.0.${pe(rdIndex)}:${1 + Math.floor(rdIndex / PES)}`);
  if (!rd.ok) throw new Error(rd.error);
  const mac = Buffer.from([MAC_PREFIX[0], MAC_PREFIX[1], (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
  const ip = 0xac100001 + host;
  return macIpRoute({
    rd: rd.value,
    tag: 0,
    mac,
    ip: Buffer.from([ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff]),
    label1: labelFromVni(FIRST_VNI + rdIndex),
  });
}

/**
 * The whole table encoded as the injector sends it, plus the probe's
 * UPDATEs. Route objects are made one MAC-VRF at a time and dropped once
 * encoded, so a million routes cost the bench only their wire bytes.
 */
export function buildEvpnTable(routes: number): EvpnTable {
  if (!Number.isInteger(routes) || routes < 1 || routes > 0xffffffff) throw new Error(`routes must be a positive integer, got ${routes}`);
  const rds = Math.ceil(routes / ROUTES_PER_RD);
  const messages: Buffer[] = [];
  for (let r = 0; r < rds; r++) {
    const batch: MacIpRoute[] = [];
    for (let n = r * ROUTES_PER_RD; n < Math.min(routes, (r + 1) * ROUTES_PER_RD); n++) batch.push(route(n));
    const p = pe(r);
    for (const m of encodeAnnouncements(L2VPN_EVPN, rdAttrs(r), batch, PACK, nextHop(10, 0, 0, p))) messages.push(m);
  }
  const stream = wireStream(messages, 1 << 20, L2VPN_EVPN);

  // The probe route keeps its MAC-VRF's attributes but moves to next hops no PE of the table uses.
  const probeRoute = Math.floor(routes / 2);
  const probeRd = Math.floor(probeRoute / ROUTES_PER_RD);
  const probeMessages: Buffer[] = [];
  const nextHops: number[] = [];
  for (let k = 0; k < PROBE_CHANGES; k++) {
    const nh = nextHop(10, 0, 1 + Math.floor(k / 250), 1 + (k % 250));
    const [m] = encodeAnnouncements(L2VPN_EVPN, rdAttrs(probeRd), [route(probeRoute)], PACK, nh);
    probeMessages.push(m!);
    nextHops.push(nh.readUInt32BE(0));
  }
  return { routes, rds, stream, probe: { route: probeRoute, messages: probeMessages, nextHops } };
}
