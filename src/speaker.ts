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
import { type Result, err, ok } from './core/result.js';
import type { Log } from './core/log.js';
import type { Config, NeighborConfig, OriginateConfig } from './config/index.js';
import { type Endpoint, Listener } from './bgp/session/listener.js';
import { Subject } from './core/rx.js';
import { Peer, type PeerEvent } from './bgp/session/peer.js';
import { AsPathSegmentType, CeaseSubcode, Origin } from './bgp/wire/constants.js';
import type { PathAttributes } from './bgp/wire/attributes.js';
import { type FamilyKey, familyByName } from './bgp/wire/family.js';
import { parsePrefix } from './bgp/wire/prefix.js';
import { Rib } from './rib/rib.js';
import { SessionGroups } from './bgp/session/groups.js';
import type { Metrics } from './metrics.js';
import { LOCAL_SOURCE_ID, type PathSource } from './rib/path.js';
import type { ApiServer } from './api/server.js';
import { MemoryVmStore, type VmStore, openJournalStore } from './store/vm-store.js';
import { VmNetwork } from './vm/network.js';
import { DcGateway } from './vm/gateway.js';
import { Migrations } from './vm/migrations.js';
import { MoveTracer } from './vm/move-trace.js';
import { VmRegistry } from './vm/registry.js';

export interface SpeakerEndpoints {
  readonly bgp?: Endpoint;
  readonly metrics?: Endpoint;
  readonly api?: Endpoint;
}

const ORIGINS = { igp: Origin.Igp, egp: Origin.Egp, incomplete: Origin.Incomplete } as const;

function familiesOf(n: NeighborConfig): FamilyKey[] {
  return n.families.map((f) => {
    const k = familyByName(f);
    if (k === undefined) throw new Error(`family ${f} has no codec`);
    return k;
  });
}

export type PeerResetMode = 'hard' | 'soft-in' | 'soft-out' | 'soft-both';

export interface PeerResetError {
  readonly kind: 'not-found' | 'not-established' | 'unsupported';
  readonly message: string;
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
  /** VMs hypervisor agents announced: set by start() when networks or the API are configured. */
  vms?: VmRegistry;
  migrations?: Migrations;
  tracer?: MoveTracer;
  /** Set when the config has dc-gateway: VM host routes towards the WAN. */
  gateway?: DcGateway;
  private store?: VmStore;
  private api?: ApiServer;

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
    // Stored VMs are back in the RIB before any session opens, so peers get them in their first UPDATEs.
    await this.startVms();
    for (const n of this.config.neighbors) this.addPeer(n);
    let bgp: Endpoint | undefined;
    const l = this.config.listen;
    if (l.enabled) bgp = await this.listener.listen(l.address, l.port);
    let metrics: Endpoint | undefined;
    const m = this.config.metrics;
    if (m.enabled) {
      const { Metrics } = await import('./metrics.js');
      this.metrics = new Metrics(this);
      metrics = await this.metrics.listen(m.address, m.port);
    }
    if (this.config.api.enabled) this.api = await this.startApi();
    for (const p of this.peers.values()) p.start();
    return { bgp, metrics, api: this.api?.endpoint };
  }

  /**
   * Watches of VM events end (with OK), the API closes, then Cease /
   * Administrative Shutdown to every peer, the listener, the store.
   */
  async stop(): Promise<void> {
    this.migrations?.close();
    this.tracer?.close();
    this.vms?.close();
    await this.api?.close();
    await Promise.all([...this.peers.values()].map((p) => p.stop()));
    await this.listener.close();
    await this.metrics?.close();
    await this.store?.close();
  }

  private async startVms(): Promise<void> {
    // Without networks there are no VMs; the API's MobilityService then answers UNIMPLEMENTED.
    if (this.config.networks.length === 0) return;
    const log = this.log.child({ component: 'vms' });
    this.store = this.config.store !== undefined ? await openJournalStore(this.config.store, log) : new MemoryVmStore();
    const networks = new Map(this.config.networks.map((n) => [n.name, new VmNetwork(n, this.config.routerId)]));
    this.vms = new VmRegistry(networks, this.rib, this.localSource, this.store, this.clock, log);
    this.migrations = new Migrations(this.vms, this.clock, this.config.migrationTimeoutMs, log);
    this.tracer = new MoveTracer(this.vms, this.groups.probe, this.rib, this.clock);
    const restored = await this.vms.restore();
    if (this.config.dcGateway) {
      const gw = new DcGateway(this.config.dcGateway, networks, this.rib, this.localSource);
      gw.start(this.vms.list());
      const vms = this.vms;
      vms.events$.subscribe((e) => gw.onEvent(e, (n, m) => vms.advertisedIps(n, m)));
      this.gateway = gw;
    }
    if (this.config.store !== undefined) log.info(`${restored} VM(s) restored from ${this.config.store}`, { event: 'vms-restored', count: restored });
  }

  /** Loaded only when configured: a route reflector without an API does not carry gRPC's memory. */
  private async startApi(): Promise<ApiServer> {
    const [{ Authority }, { createControlService }, { createMobilityService }, { startApiServer }] = await Promise.all([
      import('./api/auth.js'),
      import('./api/control-service.js'),
      import('./api/mobility-service.js'),
      import('./api/server.js'),
    ]);
    const api = this.config.api;
    const log = this.log.child({ component: 'api' });
    const authority = new Authority(api);
    return startApiServer(
      api,
      {
        control: createControlService(this, authority, log, api),
        mobility: this.vms && this.migrations && this.tracer && createMobilityService(this.vms, this.migrations, this.tracer, authority, api, log),
      },
      log,
    );
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
        description: n.description,
      },
      {
        asn: this.config.asn,
        routerId: this.config.routerIdNumber,
        // Always known: reflection is decided per path by the client flags
        // (RFC 4456 §6), so a client added at run time (AddPeer) is reflected
        // to and from the peers that were there before it.
        clusterId: this.config.clusterId,
        gateway: this.config.dcGateway !== undefined,
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

  /**
   * Removes a neighbour at run time: Cease / Peer De-configured (RFC 4486
   * §4) on its session, then every path it sent leaves the RIB. False if
   * there was no such neighbour.
   */
  async deletePeer(address: string): Promise<boolean> {
    const peer = this.peers.get(address);
    if (!peer) return false;
    // Out of the map first, so the listener refuses the peer's reconnection attempts.
    this.peers.delete(address);
    await peer.stop({ subcode: CeaseSubcode.PeerDeconfigured });
    // An AddPeer for the address may have come while we waited: its routes are its own.
    if (!this.peers.has(address)) this.rib.dropSource(address);
    this.log.info(`neighbor ${address} removed`, { peer: address });
    return true;
  }

  /**
   * Resets a neighbour's session. 'hard': Cease / Administrative Reset (RFC
   * 4486, `message` as RFC 9003 text), then it reconnects. 'soft-in':
   * ROUTE-REFRESH for every negotiated family (RFC 2918). 'soft-out': our
   * Adj-RIB-Out sent again. Soft resets need an Established session.
   */
  resetPeer(address: string, mode: PeerResetMode, message?: string): Result<void, PeerResetError> {
    const peer = this.peers.get(address);
    if (!peer) return err({ kind: 'not-found', message: `neighbor ${address} is not configured` });
    if (mode === 'hard') {
      peer.reset(message);
      return ok(undefined);
    }
    if (peer.state !== 'Established') {
      return err({ kind: 'not-established', message: `session with ${address} is ${peer.state}, not Established` });
    }
    if (mode === 'soft-in' || mode === 'soft-both') {
      const r = peer.requestRefresh();
      if (!r.ok) return err({ kind: 'unsupported', message: r.error });
    }
    if (mode === 'soft-out' || mode === 'soft-both') {
      const r = peer.resendAll();
      if (!r.ok) return err({ kind: 'not-established', message: r.error });
    }
    return ok(undefined);
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
