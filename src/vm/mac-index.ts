/**
 * Every EVPN MAC/IP destination in the RIB, by MAC and by IP, so a VM arrival
 * finds the sequence numbers already known for its MAC (RFC 7432 §15) and an
 * ARP/ND question finds the MAC bound to an IP (RFC 9161), without scanning
 * the table. Kept from the RIB's best-path changes: a destination exists
 * exactly while it has a best path.
 */
import type { Subscription } from 'rxjs';
import { L2VPN_EVPN } from '../bgp/wire/family.js';
import type { Path } from '../rib/path.js';
import type { Rib } from '../rib/rib.js';
import { isMacIpRoute } from '../evpn/mobility.js';
import type { EvpnRoute, InclusiveMulticastRoute } from '../evpn/route.js';
import type { Nlri } from '../bgp/wire/nlri.js';

export class MacIndex {
  private readonly keys = new Map<string, Set<string>>();
  private readonly byIp = new Map<string, Set<string>>();
  /** Type-3 routes by originating router (RFC 7432 §7.3): where a network reaches. */
  private readonly imets = new Map<string, Set<string>>();
  private readonly sub: Subscription;

  constructor(private readonly rib: Rib) {
    for (const d of rib.destinations(L2VPN_EVPN)) if (d.best) this.add(d.best);
    this.sub = rib.changes$.subscribe((c) => {
      if (c.family !== L2VPN_EVPN) return;
      if (c.best && !c.previous) this.add(c.best);
      else if (!c.best && c.previous) this.remove(c.previous);
    });
  }

  /** Every path (any RD, any IP, any source) the RIB holds for MAC/IP routes of `mac`. */
  pathsFor(mac: Buffer): Path[] {
    return this.paths(this.keys.get(mac.toString('latin1')));
  }

  /** Every path of the type-3 routes originated by `originator` (4 or 16 bytes). */
  inclusiveMulticastFrom(originator: Buffer): Path[] {
    return this.paths(this.imets.get(originator.toString('latin1')));
  }

  /** Every path of MAC/IP routes that bind `ip` (4 or 16 bytes) to some MAC. */
  pathsForIp(ip: Buffer): Path[] {
    return this.paths(this.byIp.get(ip.toString('latin1')));
  }

  private paths(keys: Set<string> | undefined): Path[] {
    if (!keys) return [];
    const out: Path[] = [];
    for (const k of keys) out.push(...(this.rib.destination(L2VPN_EVPN, k)?.paths ?? []));
    return out;
  }

  close(): void {
    this.sub.unsubscribe();
  }

  private add(p: Path): void {
    if (isInclusiveMulticast(p.nlri)) addTo(this.imets, p.nlri.originator.toString('latin1'), p.nlri.key);
    if (!isMacIpRoute(p.nlri)) return;
    addTo(this.keys, p.nlri.mac.toString('latin1'), p.nlri.key);
    if (p.nlri.ip) addTo(this.byIp, p.nlri.ip.toString('latin1'), p.nlri.key);
  }

  private remove(p: Path): void {
    if (isInclusiveMulticast(p.nlri)) removeFrom(this.imets, p.nlri.originator.toString('latin1'), p.nlri.key);
    if (!isMacIpRoute(p.nlri)) return;
    removeFrom(this.keys, p.nlri.mac.toString('latin1'), p.nlri.key);
    if (p.nlri.ip) removeFrom(this.byIp, p.nlri.ip.toString('latin1'), p.nlri.key);
  }
}

function isInclusiveMulticast(n: Nlri): n is InclusiveMulticastRoute {
  return (n as Partial<EvpnRoute>).kind === 'inclusive-multicast';
}

function addTo(index: Map<string, Set<string>>, id: string, key: string): void {
  let set = index.get(id);
  if (!set) {
    set = new Set();
    index.set(id, set);
  }
  set.add(key);
}

function removeFrom(index: Map<string, Set<string>>, id: string, key: string): void {
  const set = index.get(id);
  set?.delete(key);
  if (set?.size === 0) index.delete(id);
}
