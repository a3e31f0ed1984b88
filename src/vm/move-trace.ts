/**
 * What happened on the wire after a VM moved: when the API call arrived,
 * when each peer was sent the new location, when each was sent the
 * withdrawal of the old one, and when a peer withdrew its own route for the
 * old location (another PE yielding, RFC 7432 §15). Traces are watched for a
 * while after the move and the last ones are kept for GetMoveTrace.
 */
import type { Subscription } from 'rxjs';
import type { Clock, TimerHandle } from '../core/clock.js';
import { L2VPN_EVPN } from '../bgp/wire/family.js';
import type { SentEvent, SentProbe } from '../bgp/session/sent-probe.js';
import { isMacIpRoute } from '../evpn/mobility.js';
import { formatMac } from '../evpn/mac.js';
import type { Rib } from '../rib/rib.js';
import type { VmNetwork } from './network.js';
import type { VmEvent, VmRegistry } from './registry.js';
import { macIpRoutes } from './routes.js';

export interface PeerTime {
  readonly peer: string;
  readonly at: number;
}

export interface MoveTrace {
  readonly id: string;
  readonly network: string;
  readonly mac: string;
  readonly vmId: string;
  /** Empty when the VM came from a location vmmi did not hold (another PE). */
  readonly fromVtep: string;
  readonly toVtep: string;
  readonly seq: number;
  /** The API call's arrival; the announcement's time when unknown. */
  readonly requestedAt: number;
  readonly announcedAt: number;
  /** First UPDATE carrying the new location, per peer. */
  readonly updates: PeerTime[];
  /** Our withdrawal of the old location, per peer. */
  readonly withdrawals: PeerTime[];
  /** Peers withdrawing their own route for the MAC at the old location. */
  readonly peerWithdrawals: PeerTime[];
}

const KEEP = 1000;

export class MoveTracer {
  private readonly traces = new Map<string, MoveTrace>();
  /** Traces still recording, by MAC. */
  private readonly byMac = new Map<string, Set<MoveTrace>>();
  private readonly timers = new Set<TimerHandle>();
  private readonly subs: Subscription[] = [];
  private next = 1;

  constructor(
    private readonly vms: VmRegistry,
    private readonly probe: SentProbe,
    rib: Rib,
    private readonly clock: Clock,
    /** How long after a move its trace keeps recording. */
    private readonly windowMs = 30_000,
  ) {
    this.subs.push(vms.events$.subscribe((e) => this.onEvent(e)));
    this.subs.push(
      rib.changes$.subscribe((c) => {
        const gone = c.previous;
        // Nothing to do on the RIB's busiest path while no move is being traced.
        if (this.byMac.size === 0 || c.family !== L2VPN_EVPN || c.best || !gone || gone.source.local || !isMacIpRoute(c.nlri)) return;
        const traces = this.byMac.get(formatMac(c.nlri.mac));
        if (traces) for (const t of traces) record(t.peerWithdrawals, gone.source.id, this.clock.now());
      }),
    );
  }

  /** Newest first; filtered by network and MAC when given. */
  list(network?: string, mac?: string): MoveTrace[] {
    return [...this.traces.values()].filter((t) => (!network || t.network === network) && (!mac || t.mac === mac)).reverse();
  }

  close(): void {
    for (const s of this.subs) s.unsubscribe();
    for (const t of this.timers) t.cancel();
    this.timers.clear();
  }

  private onEvent(e: VmEvent): void {
    // A move, or an arrival of a MAC that was known elsewhere (sequence above 0).
    if (!(e.kind === 'move' || (e.kind === 'arrival' && e.seq > 0)) || !e.toVtep) return;
    const net = this.vms.network(e.network);
    if (!net) return;
    const now = this.clock.now();
    const t: MoveTrace = {
      id: `t-${(this.next++).toString(36)}`, network: e.network, mac: e.mac, vmId: e.vmId, fromVtep: e.fromVtep ?? '', toVtep: e.toVtep,
      seq: e.seq, requestedAt: e.requestedAt ?? now, announcedAt: now, updates: [], withdrawals: [], peerWithdrawals: [],
    };
    this.traces.set(t.id, t);
    if (this.traces.size > KEEP) this.traces.delete(this.traces.keys().next().value!);
    let open = this.byMac.get(e.mac);
    if (!open) {
      open = new Set();
      this.byMac.set(e.mac, open);
    }
    open.add(t);
    const stops = [
      ...this.keys(net, e, e.toVtep).map((k) => this.probe.watch(L2VPN_EVPN, k, (s) => this.sent(t.updates, s, false))),
      ...(e.fromVtep ? this.keys(net, e, e.fromVtep).map((k) => this.probe.watch(L2VPN_EVPN, k, (s) => this.sent(t.withdrawals, s, true))) : []),
    ];
    const timer = this.clock.setTimer(this.windowMs, () => {
      this.timers.delete(timer);
      for (const stop of stops) stop();
      open.delete(t);
      if (open.size === 0 && this.byMac.get(e.mac) === open) this.byMac.delete(e.mac);
    });
    this.timers.add(timer);
  }

  private keys(net: VmNetwork, e: VmEvent, vtep: string): string[] {
    return macIpRoutes(net, { mac: e.mac, ips: e.ips, vtep, seq: e.seq }).map((r) => r.nlri.key);
  }

  private sent(into: PeerTime[], s: SentEvent, withdrawn: boolean): void {
    if (s.withdrawn !== withdrawn) return;
    for (const peer of s.peers) record(into, peer, s.at);
  }
}

/** The first time per peer. */
function record(into: PeerTime[], peer: string, at: number): void {
  if (!into.some((p) => p.peer === peer)) into.push({ peer, at });
}
