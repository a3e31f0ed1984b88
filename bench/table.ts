/**
 * A synthetic IPv4 table with an Internet-like shape, built from a seeded
 * PRNG so every run and every receiver sees the same routes in the same order.
 */
import '../src/bgp/wire/prefix.js';
import type { Aggregator, PathAttributes } from '../src/bgp/wire/attributes.js';
import { AsPathSegmentType, Origin } from '../src/bgp/wire/constants.js';
import { type FamilyKey, IPV4_UNICAST } from '../src/bgp/wire/family.js';
import type { Prefix } from '../src/bgp/wire/prefix.js';
import { type PackOptions, encodeAnnouncements, encodeEndOfRib } from '../src/bgp/wire/update-encode.js';

export interface AttrSet {
  readonly attrs: PathAttributes;
  readonly nlri: Prefix[];
}

export interface RouteTable {
  readonly routes: number;
  readonly sets: readonly AttrSet[];
  /** Share of /24s; the rest are shorter covering prefixes. */
  readonly slash24: number;
}

export interface TableOptions {
  /** The AS that sends the table: the first AS of every path (eBGP first-AS check). */
  readonly peerAs: number;
  /** How many routes share one attribute set on average. */
  readonly routesPerSet?: number;
  readonly seed?: number;
}

/** mulberry32: tiny, fast and good enough to scatter test data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Well-known transit ASes and a few 4-octet ones, so AS_PATHs have the widths seen on the Internet.
const TRANSIT = [
  174, 701, 1299, 2914, 3257, 3356, 3491, 6453, 6461, 6762, 6830, 6939, 7018, 9002, 12956, 20485, 31133, 262589, 263444, 328145,
];

// 10/8 holds the next hops, 127/8 is loopback, 224/3 is not unicast.
function usable(firstOctet: number): boolean {
  return firstOctet !== 0 && firstOctet !== 10 && firstOctet !== 127 && firstOctet < 224;
}

function prefixKey(addr: number, len: number): string {
  const n = (len + 7) >> 3;
  let s = String.fromCharCode(len);
  for (let i = 0; i < n; i++) s += String.fromCharCode((addr >>> (24 - 8 * i)) & 0xff);
  return s;
}

// Lengths of covering prefixes, weighted roughly as in the IPv4 DFZ (where /24s are about 60%).
const COVERING: readonly (readonly [number, number])[] = [
  [23, 9], [22, 13], [21, 5], [20, 5], [19, 3], [18, 2], [17, 1], [16, 1],
];
const COVERING_WEIGHT = COVERING.reduce((a, [, w]) => a + w, 0);

function coveringLength(rnd: () => number): number {
  let x = rnd() * COVERING_WEIGHT;
  for (const [len, w] of COVERING) if ((x -= w) < 0) return len;
  return 24;
}

/**
 * Walks the address space in /24 steps from 1.0.0.0. About a third of the
 * routes are covering /16../23 prefixes: the cursor moves up to the next
 * boundary of that length and the /24s after it fall inside, as
 * more-specifics under an aggregate do. A tenth of the /24s are left out so
 * the table has holes. About five /24s of space go by per route, so up to
 * about 2.9 million routes fit in the unicast space.
 */
interface PrefixList {
  readonly addr: Float64Array;
  readonly len: Uint8Array;
  readonly slash24: number;
}

function generatePrefixes(n: number, rnd: () => number): PrefixList {
  const addr = new Float64Array(n);
  const lens = new Uint8Array(n);
  let count = 0;
  const push = (a: number, l: number): void => {
    addr[count] = a;
    lens[count++] = l;
  };
  let cursor = 2 ** 24;
  // Covering lengths already given at this cursor: two of the same would be one prefix twice.
  let usedAt = -1;
  let usedLens = 0;
  let slash24 = 0;
  while (count < n) {
    let len = 24;
    if (rnd() < 0.35) {
      len = coveringLength(rnd);
      const size = 2 ** (32 - len);
      cursor = Math.ceil(cursor / size) * size;
    }
    const first = Math.floor(cursor / 2 ** 24);
    if (!usable(first)) {
      if (first >= 224) throw new Error(`the IPv4 unicast space ran out after ${count} prefixes`);
      cursor = (first + 1) * 2 ** 24;
      continue;
    }
    if (usedAt !== cursor) {
      usedAt = cursor;
      usedLens = 0;
    }
    if (len < 24 && (usedLens & (1 << len)) === 0) {
      usedLens |= 1 << len;
      push(cursor, len);
      continue;
    }
    if (rnd() < 0.9) {
      push(cursor, 24);
      slash24++;
    }
    cursor += 256;
  }
  return { addr, len: lens, slash24: slash24 / n };
}

function community(asn: number, value: number): number {
  return ((asn & 0xffff) * 65536 + value) >>> 0;
}

function attrSet(i: number, peerAs: number, rnd: () => number): PathAttributes {
  const r = rnd();
  const origin = r < 0.9 ? Origin.Igp : r < 0.92 ? Origin.Egp : Origin.Incomplete;
  const path = [peerAs];
  const transit = Math.floor(rnd() * 5);
  for (let k = 0; k < transit; k++) path.push(TRANSIT[Math.floor(rnd() * TRANSIT.length)]!);
  // A distinct origin AS per set keeps every set distinct, as an Internet table's origins mostly are.
  const originAs = 131072 + i;
  const prepend = rnd() < 0.1 ? 1 + Math.floor(rnd() * 3) : 0;
  for (let k = 0; k <= prepend; k++) path.push(originAs);
  const communities: number[] = [];
  const nComm = Math.floor(rnd() * 7);
  for (let k = 0; k < nComm; k++) {
    const owner = k === 0 ? peerAs : TRANSIT[Math.floor(rnd() * TRANSIT.length)]!;
    communities.push(community(owner, Math.floor(rnd() * 4000)));
  }
  const aggregated = rnd() < 0.05;
  const aggregator: Aggregator | undefined = aggregated ? { asn: originAs, address: (0x0a000000 | (i & 0xffff)) >>> 0 } : undefined;
  return {
    origin,
    asPath: [{ type: AsPathSegmentType.AsSequence, asns: path }],
    nextHop: Buffer.from([10, 0, 0, 1 + (i % 4)]),
    med: rnd() < 0.5 ? Math.floor(rnd() * 1000) : undefined,
    atomicAggregate: aggregated ? true : undefined,
    aggregator,
    communities: communities.length > 0 ? communities : undefined,
  };
}

export function generateTable(routes: number, o: TableOptions): RouteTable {
  if (!Number.isInteger(routes) || routes < 1) throw new Error(`routes must be a positive integer, got ${routes}`);
  const rnd = prng(o.seed ?? 0x5eed);
  const prefixes = generatePrefixes(routes, rnd);
  const nSets = Math.max(1, Math.round(routes / (o.routesPerSet ?? 100)));
  // Sets are scattered over the address space, as origins are.
  const setOf = new Uint32Array(routes);
  const sizes = new Uint32Array(nSets);
  for (let i = 0; i < routes; i++) {
    const s = Math.floor(rnd() * nSets);
    setOf[i] = s;
    sizes[s]!++;
  }
  const members: number[][] = Array.from({ length: nSets }, (_, s) => new Array<number>(sizes[s]!));
  const fill = new Uint32Array(nSets);
  for (let i = 0; i < routes; i++) {
    const s = setOf[i]!;
    members[s]![fill[s]!++] = i;
  }
  const sets: AttrSet[] = [];
  for (let s = 0; s < nSets; s++) {
    const attrs = attrSet(s, o.peerAs, rnd);
    // Allocated set by set, as a receiving speaker allocates routes in the order UPDATEs bring them:
    // built in address order instead, encoding runs several times slower on cache misses alone.
    const nlri = members[s]!.map((i): Prefix => ({ key: prefixKey(prefixes.addr[i]!, prefixes.len[i]!), pathId: 0 }));
    if (nlri.length > 0) sets.push({ attrs, nlri });
  }
  return { routes, sets, slash24: prefixes.slash24 };
}

export const PACK: PackOptions = { maxLength: 4096, fourOctetAs: true, addPath: false };

/** Every UPDATE of the table, one attribute set after another. */
export function encodeTable(t: RouteTable, opt: PackOptions = PACK): Buffer[] {
  const out: Buffer[] = [];
  for (const s of t.sets) {
    for (const m of encodeAnnouncements(IPV4_UNICAST, s.attrs, s.nlri, opt)) out.push(m);
  }
  return out;
}

/** The table on the wire: whole messages joined into large buffers, so the sender makes few writes. */
export interface WireStream {
  readonly chunks: readonly Buffer[];
  readonly endOfRib: Buffer;
  readonly messages: number;
  readonly bytes: number;
}

export function wireStream(messages: readonly Buffer[], chunkBytes = 1 << 20, family: FamilyKey = IPV4_UNICAST): WireStream {
  const chunks: Buffer[] = [];
  let pending: Buffer[] = [];
  let size = 0;
  let bytes = 0;
  for (const m of messages) {
    if (size + m.length > chunkBytes && pending.length > 0) {
      chunks.push(Buffer.concat(pending, size));
      pending = [];
      size = 0;
    }
    pending.push(m);
    size += m.length;
    bytes += m.length;
  }
  if (pending.length > 0) chunks.push(Buffer.concat(pending, size));
  return { chunks, endOfRib: encodeEndOfRib(family), messages: messages.length, bytes };
}
