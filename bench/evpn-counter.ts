/**
 * What a receiving client of the rr suite does with each UPDATE: finds
 * MP_REACH_NLRI / MP_UNREACH_NLRI of l2vpn-evpn and, for every NLRI in them,
 * reads the route number out of the MAC (see evpn-table.ts) and sets or
 * clears its flag. Nothing is decoded or allocated per route, so a client
 * costs far less than the reflector it watches; measureCounter() says how
 * much less.
 */
import { performance } from 'node:perf_hooks';
import { AttrFlag, AttrType } from '../src/bgp/wire/constants.js';
import { Framer } from '../src/bgp/wire/framer.js';
import { MessageType } from '../src/bgp/wire/constants.js';
import { MAC_AT, MAC_PREFIX, NUMBER_AT } from './evpn-table.js';
import type { WireStream } from './table.js';

const AFI_L2VPN = 25;
const SAFI_EVPN = 70;
const MAC_IP = 2;

/**
 * Finds the l2vpn-evpn NLRI fields of an UPDATE body in place: `field` gets
 * each MP_REACH / MP_UNREACH NLRI field's range, whether it announces, and
 * the next hop's first 4 octets as a number (0 for a withdrawal). Returns
 * whether the UPDATE is the family's End-of-RIB (an empty MP_UNREACH_NLRI,
 * RFC 4724 §2). A malformed body ends the walk where it stops making sense.
 */
export function walkEvpnUpdate(b: Buffer, field: (from: number, to: number, reach: boolean, nextHop: number) => void): boolean {
  if (b.length < 4) return false;
  let p = 2 + b.readUInt16BE(0);
  if (p + 2 > b.length) return false;
  const end = Math.min(b.length, p + 2 + b.readUInt16BE(p));
  p += 2;
  let reach = false;
  let emptyUnreach = false;
  while (p + 3 <= end) {
    const flags = b[p]!;
    const type = b[p + 1]!;
    const extended = (flags & AttrFlag.ExtendedLength) !== 0;
    const len = extended ? b.readUInt16BE(p + 2) : b[p + 2]!;
    const v = p + (extended ? 4 : 3);
    p = v + len;
    if (p > end) return false;
    if (type === AttrType.MpReachNlri) {
      if (len < 5 || b.readUInt16BE(v) !== AFI_L2VPN || b[v + 2] !== SAFI_EVPN) continue;
      const nhLen = b[v + 3]!;
      reach = true;
      field(v + 5 + nhLen, p, true, nhLen >= 4 ? b.readUInt32BE(v + 4) : 0);
    } else if (type === AttrType.MpUnreachNlri) {
      if (len < 3 || b.readUInt16BE(v) !== AFI_L2VPN || b[v + 2] !== SAFI_EVPN) continue;
      if (len === 3) emptyUnreach = true;
      else field(v + 3, p, false, 0);
    }
  }
  return emptyUnreach && !reach;
}

export class EvpnRouteCounter {
  /** One flag per route number: a route announced twice still counts once. */
  private readonly have: Uint8Array;
  held = 0;
  updates = 0;
  /** NLRI that are not routes of the table (another type, a foreign MAC, a number out of range). */
  foreign = 0;
  /** When the client first held every route. */
  doneAt?: number;
  /** When the reflector's End-of-RIB for l2vpn-evpn arrived. */
  endOfRibAt?: number;
  /** Called with the MP_REACH next hop whenever an UPDATE carries this route number. */
  watch?: { readonly route: number; readonly seen: (nextHop: number, at: number) => void };

  constructor(readonly routes: number) {
    this.have = new Uint8Array(routes);
  }

  onUpdate(b: Buffer, at: number): void {
    this.updates++;
    const eor = walkEvpnUpdate(b, (from, to, reach, nextHop) => this.walk(b, from, to, reach ? 1 : 0, nextHop, at));
    if (eor) this.endOfRibAt ??= at;
  }

  private walk(b: Buffer, from: number, to: number, value: 0 | 1, nextHop: number, at: number): void {
    const have = this.have;
    const watch = this.watch;
    for (let q = from; q + 2 <= to; q += 2 + b[q + 1]!) {
      if (b[q] !== MAC_IP || b[q + 1]! < NUMBER_AT + 2 || b[q + MAC_AT] !== MAC_PREFIX[0] || b[q + MAC_AT + 1] !== MAC_PREFIX[1]) {
        this.foreign++;
        continue;
      }
      const n = b.readUInt32BE(q + NUMBER_AT);
      if (n >= this.routes) {
        this.foreign++;
        continue;
      }
      if (have[n] !== value) {
        have[n] = value;
        this.held += value === 1 ? 1 : -1;
      }
      if (watch !== undefined && n === watch.route && value === 1) watch.seen(nextHop, at);
    }
    if (this.held === this.routes) this.doneAt ??= at;
  }
}

/** Routes per second one client frames and counts on one core, from memory: the ceiling of what it can take. */
export function measureCounter(stream: WireStream, routes: number, runs = 3): number {
  let best = Infinity;
  const CHUNK = 64 * 1024;
  for (let i = 0; i <= runs; i++) {
    const counter = new EvpnRouteCounter(routes);
    const framer = new Framer();
    const start = performance.now();
    for (const c of stream.chunks) {
      for (let at = 0; at < c.length; at += CHUNK) {
        framer.push(c.subarray(at, Math.min(at + CHUNK, c.length)));
        for (let f = framer.next(); f !== undefined; f = framer.next()) {
          if ('kind' in f) throw new Error(`receiver self-test: ${f.reason}`);
          if (f.type === MessageType.Update) counter.onUpdate(f.body, 0);
        }
      }
    }
    const ms = performance.now() - start;
    if (counter.held !== routes) throw new Error(`receiver self-test counted ${counter.held} of ${routes} routes`);
    // The first pass warms the JIT up.
    if (i > 0) best = Math.min(best, ms);
  }
  return routes / (best / 1000);
}
