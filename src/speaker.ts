/**
 * The composition root. A route flows:
 *
 *   socket → Connection.framer → decodeMessage → FSM (Peer) → applyUpdate
 *     → Rib (Adj-RIB-In, decision) → changes$ → each Peer's Outbound
 *     (export policy, Adj-RIB-Out, UPDATE packing) → socket
 *
 * Routes from the config enter the Rib as paths of the "local" source.
 */
import { hostname } from 'node:os';
// Registering the EVPN and VPN NLRI codecs is what lets sessions carry those families.
import './evpn/index.js';
import './vpn/index.js';
import { type Clock, systemClock } from './core/clock.js';
import { ipToBytes } from './core/ip.js';
import type { Log } from './core/log.js';
import type { Config, NeighborConfig, OriginateConfig } from './config/index.js';
import { type Endpoint, Listener } from './bgp/session/listener.js';
import { Subject } from 'rxjs';
import { Peer, type PeerEvent } from './bgp/session/peer.js';
import { AsPathSegmentType, Origin } from './bgp/wire/constants.js';
import type { PathAttributes } from './bgp/wire/attributes.js';
import { type FamilyKey, familyByName } from './bgp/wire/family.js';
import { parsePrefix } from './bgp/wire/prefix.js';
import { Rib } from './rib/rib.js';
import { SessionGroups } from './bgp/session/groups.js';
import { Metrics } from './metrics.js';
import { LOCAL_SOURCE_ID, type PathSource } from './rib/path.js';

export interface SpeakerEndpoints {
  readonly bgp?: Endpoint;
  readonly metrics?: Endpoint;
}

const ORIGINS = { igp: Origin.Igp, egp: Origin.Egp, incomplete: Origin.Incomplete } as const;

function familiesOf(n: NeighborConfig): FamilyKey[] {
  return n.families.map((f) => {
    const k = familyByName(f);
    if (k === undefined) throw new Error(`family ${f} has no codec`);
    return k;
  });
}

export class Speaker {
  readonly rib = new Rib();
  readonly peers = new Map<string, Peer>();
  readonly groups = new SessionGroups(this.rib);
  /** Every peer's state changes and NOTIFICATIONs, merged. */
  readonly peerEvents$ = new Subject<PeerEvent>();
  private readonly listener: Listener;
  private readonly localSource: PathSource;
  private metrics?: Metrics;

  constructor(
    readonly config: Config,
    private readonly log: Log,
    private readonly clock: Clock = systemClock,
  ) {
    this.listener = new Listener((addr, socket) => this.peers.get(addr)?.accept(socket) ?? false, log.child({ component: 'listener' }));
    this.localSource = {
      id: LOCAL_SOURCE_ID,
      address: ipToBytes(config.routerId) ?? Buffer.alloc(4),
      routerId: config.routerIdNumber,
      asn: config.asn,
      ibgp: false,
      local: true,
      rrClient: false,
    };
  }

  async start(): Promise<SpeakerEndpoints> {
    for (const o of this.config.originate) this.originate(o);
    for (const n of this.config.neighbors) this.addPeer(n);
    let bgp: Endpoint | undefined;
    const l = this.config.listen;
    if (l.enabled) bgp = await this.listener.listen(l.address, l.port);
    let metrics: Endpoint | undefined;
    const m = this.config.metrics;
    if (m.enabled) {
      this.metrics = new Metrics(this);
      metrics = await this.metrics.listen(m.address, m.port);
    }
    for (const p of this.peers.values()) p.start();
    return { bgp, metrics };
  }

  /** Cease / Administrative Shutdown to every peer, then close the listener. */
  async stop(): Promise<void> {
    await Promise.all([...this.peers.values()].map((p) => p.stop()));
    await this.listener.close();
    await this.metrics?.close();
  }

  addPeer(n: NeighborConfig): Peer {
    const peer = new Peer(
      {
        address: n.address,
        port: n.port,
        remoteAs: n.remoteAs,
        localAddress: n.localAddress,
        passive: n.passive,
        holdTime: n.holdTime,
        connectRetry: n.connectRetry,
        families: familiesOf(n),
        shutdownMessage: n.shutdownMessage,
        rrClient: n.routeReflectorClient,
      },
      {
        asn: this.config.asn,
        routerId: this.config.routerIdNumber,
        clusterId: this.config.neighbors.some((x) => x.routeReflectorClient) ? this.config.clusterId : undefined,
        hostname: hostname(),
      },
      this.rib,
      this.log.child({ peer: n.address }),
      this.clock,
      this.groups,
    );
    this.peers.set(n.address, peer);
    peer.events$.subscribe((e) => this.peerEvents$.next(e));
    return peer;
  }

  /** Withdraws a route this speaker originated; false if there was none. */
  withdrawOriginated(family: FamilyKey, prefix: string): boolean {
    const nlri = parsePrefix(prefix);
    if (!nlri.ok || !this.rib.pathOf(LOCAL_SOURCE_ID, family, nlri.value)) return false;
    this.rib.withdraw(LOCAL_SOURCE_ID, family, nlri.value);
    return true;
  }

  /** Originates a route as a config `originate:` entry would (replacing one for the same prefix). */
  originate(o: OriginateConfig): void {
    const family = familyByName(o.family);
    const nlri = parsePrefix(o.prefix);
    if (family === undefined || !nlri.ok) throw new Error(`originate ${o.prefix}: not a valid ${o.family} prefix`);
    const attrs: PathAttributes = {
      origin: ORIGINS[o.origin],
      asPath: o.asPath.length > 0 ? [{ type: AsPathSegmentType.AsSequence, asns: [...o.asPath] }] : [],
      nextHop: o.nextHop !== undefined ? ipToBytes(o.nextHop) : undefined,
      med: o.med,
      localPref: o.localPref,
      communities: o.communities.length > 0 ? [...o.communities] : undefined,
    };
    this.rib.announce(this.localSource, family, nlri.value, attrs);
  }
}
