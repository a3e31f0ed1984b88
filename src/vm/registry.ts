/**
 * The VMs hypervisor agents announced, and the EVPN routes they become.
 *
 * An announcement is applied to the RIB at once (so the UPDATE leaves while
 * the store syncs) and acknowledged only once the store has it on disk. A VM
 * is in one place: announcing it at another VTEP withdraws what was
 * originated for the old one. Sequence numbers follow RFC 7432 §15 through
 * evpn/mobility.ts, the same rules route selection uses.
 */
import type { Subscription } from 'rxjs';
import { Subject } from '../core/rx.js';
import { bytesToIp, ipToBytes } from '../core/ip.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Log } from '../core/log.js';
import { L2VPN_EVPN } from '../bgp/wire/family.js';
import type { Nlri } from '../bgp/wire/nlri.js';
import { type ArpNd, routeTargets, decodeExtCommunities, sameRouteTarget } from '../evpn/ext-communities.js';
import { compareAddressBytes, compareSeq, isMacIpRoute, mobilityOf, nextLocalSeq } from '../evpn/mobility.js';
import { formatMac, parseMac } from '../evpn/mac.js';
import type { Path, PathSource } from '../rib/path.js';
import type { BestChange, Rib } from '../rib/rib.js';
import type { VmRecord, VmStore } from '../store/vm-store.js';
import { errorText } from '../core/errors.js';
import { notFound, precondition, unavailable } from './errors.js';
import { type DuplicateEvent, DuplicateDetector } from './duplicates.js';
import { MacIndex } from './mac-index.js';
import type { VmNetwork } from './network.js';
import { type OriginatedRoute, inclusiveMulticast, macIpRoutes } from './routes.js';

export type VmEventKind =
  | 'arrival' | 'departure' | 'move' | 'update' | 'moved-away' | 'conflict' | 'refused' | 'duplicate' | 'duplicate-cleared'
  | 'migration-prepared' | 'migration-committed' | 'migration-aborted';

export interface VmEvent {
  readonly kind: VmEventKind;
  readonly vmId: string;
  readonly network: string;
  readonly vni: number;
  readonly mac: string;
  readonly ips: readonly string[];
  readonly fromVtep?: string;
  readonly toVtep?: string;
  readonly seq: number;
  readonly time: number;
  /** The agent identity, or "bgp" when a peer's route caused it. */
  readonly agent: string;
  readonly sticky: boolean;
  /** Why, in words, for conflicts and refusals. */
  readonly detail?: string;
  /** The migration a migration-* event belongs to. */
  readonly migrationId?: string;
  /** When the API call that caused it arrived (ms), for move traces. */
  readonly requestedAt?: number;
}

/** What the EVPN table binds an IP to (RFC 9161). */
export interface Resolved {
  readonly mac: string;
  readonly vtep: string;
  readonly source: string;
  readonly seq: number;
  readonly arpNd?: ArpNd;
}

/** Checked, canonical input (see validate.ts). */
export interface AnnounceInput {
  readonly vmId: string;
  readonly network: VmNetwork;
  readonly mac: string;
  readonly ips: readonly string[];
  readonly vtep: string;
  readonly agent: string;
  /** RFC 7432 §15.2 static MAC. */
  readonly sticky?: boolean;
  /** Part of a committed migration: counted apart from unplanned moves by duplicate detection. */
  readonly planned?: boolean;
  /** When the API call arrived (ms since epoch). */
  readonly requestedAt?: number;
}

export interface AnnounceResult {
  readonly seq: number;
  /** The VM's routes, and the network's type-3 route at this VTEP when this VM brought it. */
  readonly routes: readonly Path[];
  readonly changed: boolean;
  readonly previousVtep?: string;
  /** The MAC is marked duplicate (RFC 7432 §15.1): stored, not advertised. */
  readonly duplicate: boolean;
}

export interface WithdrawInput {
  readonly network: VmNetwork;
  readonly mac: string;
  /** When given, must be the VM id the MAC was announced with. */
  readonly vmId?: string;
}

/** An address one VM took from another: what the other was before and after, to give it back. */
interface Released {
  readonly key: string;
  readonly ip: string;
  readonly before: VmRecord;
  readonly after: VmRecord;
}

const keyOf = (network: string, mac: string): string => `${network}|${mac}`;
const SWEEP_MS = 60_000;

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

export class VmRegistry {
  readonly events$ = new Subject<VmEvent>();
  private readonly vms = new Map<string, VmRecord>();
  /** Which held VM an address belongs to, by "network|ip". */
  private readonly ipOwners = new Map<string, string>();
  /** VMs per (network, VTEP): the type-3 route lives while this is above zero. */
  private readonly perVtep = new Map<string, number>();
  /** The last store write of each VM, so a repeated call acknowledges only what is durable. */
  private readonly durable = new Map<string, Promise<void>>();
  private readonly macs: MacIndex;
  private readonly sub: Subscription;
  /** RFC 7432 §15.1: VMs whose MAC moved too often; kept, but their routes are withdrawn. */
  private readonly suppressed = new Set<string>();
  private readonly built = new WeakMap<VmRecord, readonly OriginatedRoute<Nlri>[]>();
  readonly duplicates: DuplicateDetector;
  private sweeper?: TimerHandle;

  constructor(
    private readonly networks: ReadonlyMap<string, VmNetwork>,
    private readonly rib: Rib,
    private readonly source: PathSource,
    private readonly store: VmStore,
    private readonly clock: Clock,
    private readonly log: Log,
  ) {
    this.macs = new MacIndex(rib);
    this.sub = rib.changes$.subscribe((c) => this.onBestChange(c));
    this.duplicates = new DuplicateDetector(clock, (e) => this.onDuplicate(e));
    this.sweepLater();
  }

  /** Drops the detector's idle keys now and then: a MAC that left is never looked up again. */
  private sweepLater(): void {
    this.sweeper = this.clock.setTimer(SWEEP_MS, () => {
      this.duplicates.sweep();
      this.sweepLater();
    });
  }

  network(name: string): VmNetwork | undefined {
    return this.networks.get(name);
  }

  networkByVni(vni: number): VmNetwork | undefined {
    for (const n of this.networks.values()) if (n.vni === vni) return n;
    return undefined;
  }

  /** Re-originates what the store holds, with the sequence numbers it was acknowledged with. */
  async restore(): Promise<number> {
    let n = 0;
    for (const r of await this.store.load()) {
      const net = this.networks.get(r.network);
      if (!net) {
        this.log.warn('stored VM belongs to a network no longer configured; not announced', { vm: r.vmId, network: r.network, mac: r.mac });
        continue;
      }
      this.setVm(keyOf(r.network, r.mac), r);
      this.originate(net, r);
      n++;
    }
    return n;
  }

  async announce(i: AnnounceInput): Promise<AnnounceResult> {
    const key = keyOf(i.network.name, i.mac);
    const old = this.vms.get(key);
    if (old && old.vmId !== i.vmId) {
      throw precondition(`MAC ${i.mac} in network ${i.network.name} belongs to VM "${old.vmId}"; withdraw it first or use that vm_id`);
    }
    if (old?.sticky && old.vtep !== i.vtep) {
      const detail = `MAC ${i.mac} in network ${i.network.name} is sticky (static) at ${old.vtep}; it does not move (RFC 7432 §15.2)`;
      this.emit('refused', old, old.vtep, i.vtep, detail, i.agent);
      throw precondition(`${detail}: withdraw it first`);
    }
    if (old && old.vtep === i.vtep && sameSet(old.ips, i.ips) && (old.sticky === true) === (i.sticky === true)) {
      await this.durable.get(key)?.catch((e: unknown) => {
        throw unavailable(`the VM store could not record an earlier identical announcement: ${errorText(e)}`);
      });
      const duplicate = this.suppressed.has(key);
      return { seq: old.seq, routes: duplicate ? [] : this.pathsOf(i.network, old, true), changed: false, duplicate };
    }
    const moved = old !== undefined && old.vtep !== i.vtep;
    const known = this.knownPaths(i.network, i.mac);
    // §15.2: a MAC another PE advertises as static is not learned here; the operator is told.
    const theirSticky = known.find((p) => p.source.id !== this.source.id && mobilityOf(p.attrs).sticky);
    if (theirSticky && !old) {
      const there = theirSticky.attrs.nextHop ? bytesToIp(theirSticky.attrs.nextHop) : '?';
      const detail = `MAC ${i.mac} is sticky (static) at ${there}, advertised by ${theirSticky.source.id} (RFC 7432 §15.2)`;
      this.emit('conflict', { vmId: i.vmId, network: i.network.name, mac: i.mac, ips: i.ips, vtep: i.vtep, seq: 0, agent: i.agent, since: this.clock.now() }, i.vtep, there, detail, i.agent);
      throw precondition(`${detail}: it cannot be announced at ${i.vtep}`);
    }
    // RFC 7432 §15: a new location takes one above every number known for the MAC; new addresses at the same
    // place keep it; §15.2: a static MAC is advertised with sequence 0.
    const seq = i.sticky ? 0 : old && !moved ? old.seq : this.nextSeq(i.network, i.mac, old, known);
    // Arriving where another PE had it is a move too (§15.1 counts them all).
    const movedHere = moved || (old === undefined && known.some((p) => p.source.id !== this.source.id));
    const record: VmRecord = {
      vmId: i.vmId, network: i.network.name, mac: i.mac, ips: [...i.ips], vtep: i.vtep, seq, agent: i.agent,
      since: old && !moved ? old.since : this.clock.now(),
      ...(i.sticky === true ? { sticky: true } : {}),
    };
    // RFC 9135 §4 / RFC 7432 §15: an address now bound to this MAC leaves the VM that had it.
    const released: Released[] = [];
    for (const ip of record.ips) {
      const owner = this.ipOwners.get(`${record.network}|${ip}`);
      const r = owner !== undefined && owner !== key ? this.releaseIp(i.network, owner, ip, i.agent) : undefined;
      if (r) released.push(r);
    }
    this.setVm(key, record);
    let broughtImet = false;
    if (!this.suppressed.has(key)) {
      broughtImet = this.originate(i.network, record);
      if (old) this.retire(i.network, old, record);
    }
    this.emit(old === undefined ? 'arrival' : moved ? 'move' : 'update', record, old?.vtep, record.vtep, undefined, i.agent, i.requestedAt);
    if (movedHere) this.duplicates.recordMove(key, i.network.duplicatePolicy, i.planned === true);
    // Marked duplicate by this move or before (a withdraw does not clear the mark): withdraw what was just originated.
    this.suppressIfDuplicate(i.network, key);
    // What this announcement put out, before a later call (in flight while we wait for the disk) changes it.
    const originated = this.suppressed.has(key) ? [] : this.pathsOf(i.network, record, broughtImet);
    try {
      await this.persist(key, this.store.put(record));
    } catch (e) {
      this.undo(i.network, key, record, old);
      this.giveBack(i.network, released);
      throw unavailable(`the VM store could not record the announcement, which was undone: ${errorText(e)}`);
    }
    return { seq, routes: originated, changed: true, previousVtep: moved ? old.vtep : undefined, duplicate: this.suppressed.has(key) };
  }

  async withdraw(i: WithdrawInput): Promise<readonly Path[]> {
    const key = keyOf(i.network.name, i.mac);
    const old = this.vms.get(key);
    if (!old) throw notFound(`no VM with MAC ${i.mac} in network ${i.network.name}`);
    if (i.vmId !== undefined && i.vmId !== old.vmId) {
      throw precondition(`MAC ${i.mac} in network ${i.network.name} belongs to VM "${old.vmId}", not "${i.vmId}"`);
    }
    const hidden = this.suppressed.has(key);
    const gone = hidden ? [] : this.pathsOf(i.network, old, this.count(i.network.name, old.vtep) === 1);
    this.deleteVm(key);
    if (!hidden) this.retire(i.network, old, undefined);
    this.emit('departure', old, old.vtep, undefined);
    try {
      await this.persist(key, this.store.remove(old.network, old.mac));
    } catch (e) {
      this.undo(i.network, key, undefined, old);
      throw unavailable(`the VM store could not record the withdrawal, which was undone: ${errorText(e)}`);
    }
    // Only now: an undone withdrawal must find the MAC still marked duplicate.
    if (!this.vms.has(key)) this.suppressed.delete(key);
    return gone;
  }

  /**
   * A change the store refused is taken back, so what is advertised is what
   * was acknowledged (unless a later call has replaced it meanwhile).
   */
  private undo(net: VmNetwork, key: string, made: VmRecord | undefined, before: VmRecord | undefined): void {
    if (this.vms.get(key) !== made) return;
    const hidden = this.suppressed.has(key);
    if (made && !hidden) this.retire(net, made, before);
    if (before) {
      this.setVm(key, before);
      if (!hidden) this.originate(net, before);
      this.emit('update', before, made?.vtep ?? before.vtep, before.vtep, 'the store failed: the last change was undone');
    } else {
      this.deleteVm(key);
      this.suppressed.delete(key);
      this.emit('departure', made!, made!.vtep, undefined, 'the store failed: the announcement was undone');
    }
    this.log.error(`VM store failed: ${before ? 'restored' : 'dropped'} MAC ${(made ?? before)!.mac} in network ${net.name}`, { mac: (made ?? before)!.mac });
  }

  list(filter: { network?: string; vtep?: string } = {}): VmRecord[] {
    return [...this.vms.values()].filter(
      (v) => (!filter.network || v.network === filter.network) && (!filter.vtep || v.vtep === filter.vtep),
    );
  }

  get size(): number {
    return this.vms.size;
  }

  /**
   * RFC 9161: the MAC bound to `ip` in `net`, from the MAC/IP route with the
   * newest sequence number among every source's (a VM that just moved has two
   * for a moment).
   */
  resolve(net: VmNetwork, ip: Buffer): Resolved | undefined {
    let found: Path | undefined;
    for (const p of this.macs.pathsForIp(ip)) {
      if (!isMacIpRoute(p.nlri) || !this.inNetwork(net, p)) continue;
      if (!found || compareSeq(mobilityOf(p.attrs).seq, mobilityOf(found.attrs).seq) > 0) found = p;
    }
    if (!found || !isMacIpRoute(found.nlri)) return undefined;
    const ecs = found.attrs.extCommunities ? decodeExtCommunities(found.attrs.extCommunities) : [];
    return {
      mac: formatMac(found.nlri.mac),
      vtep: found.attrs.nextHop ? bytesToIp(found.attrs.nextHop) : '',
      source: found.source.id,
      seq: mobilityOf(found.attrs).seq,
      arpNd: ecs.find((e): e is ArpNd => e.kind === 'arp-nd'),
    };
  }

  /** The addresses of the VM holding `mac` in `network` that are advertised from here ([] when none or duplicate). */
  advertisedIps(network: string, mac: string): readonly string[] {
    const key = keyOf(network, mac);
    return this.suppressed.has(key) ? [] : (this.vms.get(key)?.ips ?? []);
  }

  /** The VM holding `mac` in `net`, if any. */
  get(net: VmNetwork, mac: string): VmRecord | undefined {
    return this.vms.get(keyOf(net.name, mac));
  }

  isDuplicate(net: VmNetwork, mac: string): boolean {
    return this.duplicates.isDuplicate(keyOf(net.name, mac));
  }

  /**
   * Whether the network reaches `vtep`: a type-3 route of the network (its
   * route target) from that VTEP is in the RIB, ours or a peer's (RFC 7432 §11).
   */
  hasInclusiveMulticast(net: VmNetwork, vtep: string): boolean {
    if (this.count(net.name, vtep) > 0) return true;
    const ip = ipToBytes(vtep);
    return ip !== undefined && this.macs.inclusiveMulticastFrom(ip).some((p) => this.inNetwork(net, p));
  }


  /** Puts a migration event on the same stream as the rest, in order. */
  notify(kind: 'migration-prepared' | 'migration-committed' | 'migration-aborted', vm: VmRecord, from: string, to: string, migrationId: string, agent: string, detail?: string): void {
    this.events$.next({
      kind, vmId: vm.vmId, network: vm.network, vni: this.networks.get(vm.network)?.vni ?? 0, mac: vm.mac, ips: vm.ips,
      fromVtep: from, toVtep: to, seq: vm.seq, time: this.clock.now(), agent, sticky: vm.sticky === true, detail, migrationId,
    });
  }

  private setVm(key: string, vm: VmRecord): void {
    const old = this.vms.get(key);
    if (old) for (const ip of old.ips) this.ipOwners.delete(`${old.network}|${ip}`);
    this.vms.set(key, vm);
    for (const ip of vm.ips) this.ipOwners.set(`${vm.network}|${ip}`, key);
  }

  private deleteVm(key: string): void {
    const old = this.vms.get(key);
    if (!old) return;
    for (const ip of old.ips) if (this.ipOwners.get(`${old.network}|${ip}`) === key) this.ipOwners.delete(`${old.network}|${ip}`);
    this.vms.delete(key);
  }

  /** Another VM took `ip`: this one keeps its MAC and other addresses; the MAC+IP route of `ip` goes. */
  private releaseIp(net: VmNetwork, key: string, ip: string, agent: string): Released | undefined {
    const vm = this.vms.get(key);
    if (!vm) return undefined;
    const now: VmRecord = { ...vm, ips: vm.ips.filter((x) => x !== ip) };
    this.setVm(key, now);
    if (!this.suppressed.has(key)) {
      this.originate(net, now);
      this.retire(net, vm, now);
    }
    this.emit('update', now, now.vtep, now.vtep, `address ${ip} moved to another MAC`, agent);
    this.persist(key, this.store.put(now)).catch((e: unknown) => {
      this.log.error(`VM store: could not record that ${vm.mac} lost ${ip}: ${errorText(e)}`, { mac: vm.mac });
    });
    return { key, ip, before: vm, after: now };
  }

  /**
   * The announcement that took these addresses was undone, so the VMs they
   * were taken from have them again: each address that nobody holds now goes
   * back onto its VM's record, as long as that record is still one these
   * releases made (a VM changed since by its own announcement keeps its word).
   */
  private giveBack(net: VmNetwork, released: readonly Released[]): void {
    const ours = new Set(released.map((r) => r.after));
    for (const r of [...released].reverse()) {
      const now = this.vms.get(r.key);
      if (now === undefined || !ours.has(now) || this.ipOwners.has(`${now.network}|${r.ip}`)) continue;
      // In the order the VM listed them before.
      const back: VmRecord = { ...now, ips: r.before.ips.filter((x) => x === r.ip || now.ips.includes(x)) };
      ours.add(back);
      this.setVm(r.key, back);
      if (!this.suppressed.has(r.key)) {
        this.originate(net, back);
        this.retire(net, now, back);
      }
      this.emit('update', back, back.vtep, back.vtep, `address ${r.ip} given back: the store failed to record the announcement that took it`, 'vmmi');
      this.persist(r.key, this.store.put(back)).catch((e: unknown) => {
        this.log.error(`VM store: could not record that ${back.mac} has ${r.ip} again: ${errorText(e)}`, { mac: back.mac });
      });
    }
  }

  /** Withdraws a held VM's routes if its MAC is marked duplicate and they are still out. */
  private suppressIfDuplicate(net: VmNetwork, key: string): void {
    const vm = this.vms.get(key);
    const state = this.duplicates.state(key);
    if (!vm || !state || this.suppressed.has(key)) return;
    this.suppressed.add(key);
    this.retire(net, vm, undefined);
    const window = net.duplicatePolicy.windowMs / 1000;
    const until = state.until !== undefined ? `until ${new Date(state.until).toISOString()}` : 'until cleared (ClearDuplicate)';
    this.emit('duplicate', vm, vm.vtep, undefined, `${state.moves} moves within ${window} s: not advertised ${until}`, 'vmmi');
    this.log.warn(`MAC ${vm.mac} in network ${vm.network} is duplicate: ${state.moves} moves within ${window} s`, { event: 'duplicate-mac', mac: vm.mac, network: vm.network });
  }

  /** ClearDuplicate: false when the MAC was not marked duplicate. */
  clearDuplicate(net: VmNetwork, mac: string): boolean {
    return this.duplicates.clear(keyOf(net.name, mac));
  }

  /**
   * RFC 7432 §15.1: a MAC that moved too often stops being advertised from
   * here until its freeze ends or an operator clears it; then it is
   * advertised again with a sequence number above every one known, so it wins.
   */
  private onDuplicate(e: DuplicateEvent): void {
    const vm = this.vms.get(e.key);
    const net = vm && this.networks.get(vm.network);
    if (!vm || !net) return;
    if (e.kind === 'duplicate') {
      this.suppressIfDuplicate(net, e.key);
      return;
    }
    if (!this.suppressed.delete(e.key)) return;
    const again: VmRecord = { ...vm, seq: this.nextSeq(net, vm.mac, vm) };
    this.setVm(e.key, again);
    this.originate(net, again);
    this.emit('duplicate-cleared', again, undefined, again.vtep, e.by === 'api' ? 'cleared by the API' : 'freeze time over', e.by === 'api' ? 'api' : 'vmmi');
    this.persist(e.key, this.store.put(again)).catch((err: unknown) => {
      this.log.error(`VM store: could not record ${vm.mac} advertised again: ${err instanceof Error ? err.message : String(err)}`, { mac: vm.mac });
    });
  }

  close(): void {
    this.sweeper?.cancel();
    this.duplicates.close();
    this.sub.unsubscribe();
    this.macs.close();
    this.events$.complete();
  }

  /**
   * RFC 7432 §15: a peer's route for a MAC we hold. A newer sequence number
   * means the VM is now behind that PE: we withdraw ours. At an equal number
   * the lower VTEP address wins (§15.1). A sticky MAC of ours stays (§15.2).
   * Checked after the RIB update that brought it has finished.
   */
  private onBestChange(c: BestChange): void {
    const remote = c.best;
    if (c.family !== L2VPN_EVPN || !remote || remote.source.id === this.source.id || !isMacIpRoute(c.nlri)) return;
    const mac = formatMac(c.nlri.mac);
    const ip = c.nlri.ip ? bytesToIp(c.nlri.ip) : undefined;
    for (const net of this.networks.values()) {
      const key = keyOf(net.name, mac);
      // RFC 9135 §4: a peer now binds one of our VMs' addresses to another MAC; the newer binding wins.
      const owner = ip !== undefined ? this.ipOwners.get(`${net.name}|${ip}`) : undefined;
      if (owner !== undefined && owner !== key && this.inNetwork(net, remote)) {
        const held = this.vms.get(owner);
        const dest = c.nlri.key;
        queueMicrotask(() => {
          // Only if nothing changed meanwhile: the same record still holds it, the peer's binding is still there.
          if (this.vms.get(owner) === held && this.rib.best(L2VPN_EVPN, dest) === remote) this.releaseIp(net, owner, ip!, 'bgp');
        });
      }
      // §15.1: a duplicate MAC's routes are neither sent nor processed until it is cleared.
      if (this.vms.has(key) && !this.suppressed.has(key) && this.inNetwork(net, remote)) queueMicrotask(() => this.contest(net, key, remote));
    }
  }

  private contest(net: VmNetwork, key: string, remote: Path): void {
    const vm = this.vms.get(key);
    const theirVtep = remote.attrs.nextHop ? bytesToIp(remote.attrs.nextHop) : '';
    if (!vm || theirVtep === vm.vtep || this.suppressed.has(key)) return;
    const theirs = mobilityOf(remote.attrs);
    const order = compareSeq(theirs.seq, vm.seq);
    const who = `${remote.source.id} advertises it from ${theirVtep} with sequence ${theirs.seq}${theirs.sticky ? ' (sticky)' : ''}`;
    if (vm.sticky) {
      if (order >= 0 || theirs.sticky) this.emit('conflict', vm, vm.vtep, theirVtep, `sticky MAC kept at ${vm.vtep}; ${who}`, 'bgp');
      return;
    }
    const lowerThere = order === 0 && compareAddressBytes(remote.attrs.nextHop, ipToBytes(vm.vtep)) < 0;
    if (theirs.sticky || order > 0 || lowerThere) {
      this.deleteVm(key);
      this.retire(net, vm, undefined);
      // A MAC going back and forth between here and another PE is what §15.1 detects.
      this.duplicates.recordMove(key, net.duplicatePolicy);
      const detail = theirs.sticky ? `${who}: a sticky MAC wins` : order > 0 ? `${who}: newer` : `${who}: same sequence, lower VTEP address wins`;
      if (lowerThere) this.emit('conflict', vm, vm.vtep, theirVtep, detail, 'bgp');
      this.emit('moved-away', { ...vm, seq: theirs.seq }, vm.vtep, theirVtep, detail, 'bgp');
      this.persist(key, this.store.remove(vm.network, vm.mac)).catch((e: unknown) => {
        this.log.error(`VM store: could not record that ${vm.mac} moved away: ${e instanceof Error ? e.message : String(e)}`, { mac: vm.mac });
      });
    } else if (order === 0) {
      this.emit('conflict', vm, vm.vtep, theirVtep, `${who}: same sequence, ours (${vm.vtep}) is the lower VTEP address and stays`, 'bgp');
    }
  }

  private inNetwork(net: VmNetwork, p: Path): boolean {
    const rts = p.attrs.extCommunities ? routeTargets(decodeExtCommunities(p.attrs.extCommunities)) : [];
    return rts.some((rt) => net.routeTargets.some((mine) => sameRouteTarget(rt, mine)));
  }

  /** Puts the VM's routes in the RIB; true when it also brought its (network, VTEP)'s type-3 route. */
  private originate(net: VmNetwork, vm: VmRecord): boolean {
    for (const r of this.routesOf(net, vm)) this.announceRoute(r);
    const k = `${net.name}|${vm.vtep}`;
    const n = this.perVtep.get(k) ?? 0;
    this.perVtep.set(k, n + 1);
    if (n === 0) this.announceRoute(inclusiveMulticast(net, vm.vtep));
    return n === 0;
  }

  /** Withdraws what `old` had that `now` does not, and the type-3 route its VTEP no longer needs. */
  private retire(net: VmNetwork, old: VmRecord, now: VmRecord | undefined): void {
    const keep = new Set(now ? this.routesOf(net, now).map((r) => r.nlri.key) : []);
    for (const r of this.routesOf(net, old)) if (!keep.has(r.nlri.key)) this.rib.withdraw(this.source.id, L2VPN_EVPN, r.nlri);
    const k = `${net.name}|${old.vtep}`;
    const n = (this.perVtep.get(k) ?? 1) - 1;
    if (n > 0) this.perVtep.set(k, n);
    else {
      this.perVtep.delete(k);
      this.rib.withdraw(this.source.id, L2VPN_EVPN, inclusiveMulticast(net, old.vtep).nlri);
    }
  }

  /** A record's MAC/IP routes, built once: announce, retire and the reply all need them. */
  private routesOf(net: VmNetwork, vm: VmRecord): readonly OriginatedRoute<Nlri>[] {
    let routes = this.built.get(vm);
    if (!routes) {
      routes = macIpRoutes(net, vm);
      this.built.set(vm, routes);
    }
    return routes;
  }

  private announceRoute(r: OriginatedRoute<Nlri>): void {
    this.rib.announce(this.source, L2VPN_EVPN, r.nlri, r.attrs);
  }

  private count(network: string, vtep: string): number {
    return this.perVtep.get(`${network}|${vtep}`) ?? 0;
  }

  private pathsOf(net: VmNetwork, vm: VmRecord, withImet: boolean): Path[] {
    const routes: OriginatedRoute<Nlri>[] = [...this.routesOf(net, vm)];
    if (withImet) routes.push(inclusiveMulticast(net, vm.vtep));
    return routes.flatMap((r) => this.rib.pathOf(this.source.id, L2VPN_EVPN, r.nlri) ?? []);
  }

  /**
   * RFC 7432 §15: one above the highest number known for the MAC, counting
   * the one we hold even while its routes are not in the RIB (a duplicate).
   */
  private nextSeq(net: VmNetwork, mac: string, mine: VmRecord | undefined, known = this.knownPaths(net, mac)): number {
    const next = nextLocalSeq(known);
    if (!mine) return next;
    const after = (mine.seq + 1) >>> 0;
    return known.length === 0 || compareSeq(after, next) > 0 ? after : next;
  }

  /** MAC/IP paths of this MAC in this network (a route target of the network), from every source including ours. */
  private knownPaths(net: VmNetwork, mac: string): Path[] {
    const bytes = parseMac(mac);
    if (!bytes.ok) return [];
    return this.macs.pathsFor(bytes.value).filter((p) => this.inNetwork(net, p));
  }

  private emit(
    kind: VmEventKind, vm: VmRecord, fromVtep: string | undefined, toVtep: string | undefined, detail?: string, agent = vm.agent, requestedAt?: number,
  ): void {
    this.events$.next({
      kind, vmId: vm.vmId, network: vm.network, vni: this.networks.get(vm.network)?.vni ?? 0, mac: vm.mac, ips: vm.ips,
      fromVtep, toVtep, seq: vm.seq, time: this.clock.now(), agent, sticky: vm.sticky === true, detail, requestedAt,
    });
  }

  /** Chains the write after the VM's previous one and waits for it. */
  private async persist(key: string, write: Promise<void>): Promise<void> {
    this.durable.set(key, write);
    try {
      await write;
    } finally {
      if (this.durable.get(key) === write) this.durable.delete(key);
    }
  }
}
