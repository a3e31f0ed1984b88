/**
 * Every EVPN MAC/IP destination in the RIB, by MAC, so a VM arrival finds the
 * sequence numbers already known for its MAC (RFC 7432 §15) without scanning
 * the table. Kept from the RIB's best-path changes: a destination exists
 * exactly while it has a best path.
 */
import type { Subscription } from 'rxjs';
import { L2VPN_EVPN } from '../bgp/wire/family.js';
import type { Path } from '../rib/path.js';
import type { Rib } from '../rib/rib.js';
import { isMacIpRoute } from '../evpn/mobility.js';

export class MacIndex {
  private readonly keys = new Map<string, Set<string>>();
  private readonly sub: Subscription;

  constructor(private readonly rib: Rib) {
    for (const d of rib.destinations(L2VPN_EVPN)) if (d.best) this.add(d.best);
    this.sub = rib.changes$.subscribe((c) => {
      if (c.family !== L2VPN_EVPN || !isMacIpRoute(c.nlri)) return;
      if (c.best && !c.previous) this.add(c.best);
      else if (!c.best && c.previous) this.remove(c.previous);
    });
  }

  /** Every path (any RD, any IP, any source) the RIB holds for MAC/IP routes of `mac`. */
  pathsFor(mac: Buffer): Path[] {
    const keys = this.keys.get(mac.toString('latin1'));
    if (!keys) return [];
    const out: Path[] = [];
    for (const k of keys) out.push(...(this.rib.destination(L2VPN_EVPN, k)?.paths ?? []));
    return out;
  }

  close(): void {
    this.sub.unsubscribe();
  }

  private add(p: Path): void {
    if (!isMacIpRoute(p.nlri)) return;
    const id = p.nlri.mac.toString('latin1');
    let set = this.keys.get(id);
    if (!set) {
      set = new Set();
      this.keys.set(id, set);
    }
    set.add(p.nlri.key);
  }

  private remove(p: Path): void {
    if (!isMacIpRoute(p.nlri)) return;
    const id = p.nlri.mac.toString('latin1');
    const set = this.keys.get(id);
    set?.delete(p.nlri.key);
    if (set?.size === 0) this.keys.delete(id);
  }
}
