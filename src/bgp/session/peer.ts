import { type Socket, connect } from 'node:net';
import { Subject } from '../../core/rx.js';
import { type Result, err, ok } from '../../core/result.js';
import type { Clock } from '../../core/clock.js';
import { ipToBytes } from '../../core/ip.js';
import type { Log } from '../../core/log.js';
import type { PathAttributes } from '../wire/attributes.js';
import type { Nlri } from '../wire/nlri.js';
import type { PathSource } from '../../rib/path.js';
import type { Rib } from '../../rib/rib.js';
import { FsmRunner, rfc4271Jitter } from '../fsm/runner.js';
import { initialContext } from '../fsm/context.js';
import type { SessionEffect, State } from '../fsm/types.js';
import type { DecodeContext } from '../wire/attributes-decode.js';
import { CeaseSubcode, ErrorCode, MessageType, RouteRefreshSubtype } from '../wire/constants.js';
import type { FatalError, Notify } from '../wire/errors.js';
import { type FamilyKey, familyAfi, familyKey, familyName, familySafi } from '../wire/family.js';
import type { Frame } from '../wire/framer.js';
import { KEEPALIVE, decodeMessage, encodeMessage } from '../wire/message.js';
import { describeNotification, shutdownData } from '../wire/notification.js';
import { type Open, validateOpen } from '../wire/open.js';
import type { RouteRefresh } from '../wire/route-refresh.js';
import type { Update } from '../wire/update.js';
import { Connection } from './connection.js';
import { GracefulRestartHelper, type GracefulRestartCapability } from './graceful-restart.js';
import { applyUpdate } from './inbound.js';
import { type LocalCapabilities, type Negotiated, buildOpen, negotiate } from './negotiate.js';
import type { Membership, SessionGroups } from './groups.js';

export interface PeerSettings {
  readonly address: string;
  readonly port: number;
  readonly remoteAs: number;
  readonly localAddress?: string;
  readonly passive: boolean;
  readonly holdTime: number;
  readonly connectRetry: number;
  readonly families: readonly FamilyKey[];
  readonly shutdownMessage?: string;
  /** RFC 4456: this iBGP peer is a route-reflector client. */
  readonly rrClient: boolean;
  /** Free text from the config (`description:`), for people. */
  readonly description?: string;
}

export interface LocalSpeaker {
  readonly asn: number;
  readonly routerId: number;
  /** A DC gateway (RFC 9014): eBGP peers are the WAN and get only the gateway's own IP routes. */
  readonly gateway?: boolean;
  /** RFC 4456 §7; set only when this speaker reflects (has at least one client). */
  readonly clusterId?: number;
  readonly hostname?: string;
}

export type PeerEvent =
  | { readonly type: 'state'; readonly peer: string; readonly from: State; readonly to: State }
  | { readonly type: 'notification'; readonly peer: string; readonly direction: 'sent' | 'received'; readonly notify: Notify };

export interface PeerStatus {
  readonly address: string;
  readonly remoteAs: number;
  readonly state: State;
  readonly establishedAt?: number;
  readonly negotiated?: Negotiated;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly lastError?: string;
}

const DEFAULT_DECODE: DecodeContext = { fourOctetAs: false };
/** How long after a hard reset only the peer may open the connection (its idle hold is about 1 s). */
const RESET_QUIET_MS = 2_000;

/**
 * One configured neighbour: its FSM, its TCP connection(s) and the two RIB
 * directions once Established. Collisions (RFC 4271 §6.8) are resolved here,
 * on the first OPEN either connection delivers.
 */
export class Peer {
  readonly id: string;
  readonly events$ = new Subject<PeerEvent>();
  /** The held inbound connection (collision, RFC 4271 §6.8) has sent its OPEN. */
  private candidateOpened = false;
  private fsm!: FsmRunner;
  private conn?: Connection;
  /** An inbound connection held while ours is in OpenSent/OpenConfirm, until the collision is resolved. */
  private candidate?: Connection;
  private connecting?: Socket;
  private negotiated?: Negotiated;
  private decodeCtx: DecodeContext = DEFAULT_DECODE;
  private pendingUpdate?: Update;
  private pendingRefresh?: RouteRefresh;
  /** The sending side once Established: a place in an update group. */
  private membership?: Membership;
  private source?: PathSource;
  private establishedAt?: number;
  private stopped = true;
  private messagesIn = 0;
  private messagesOut = 0;
  private lastError?: string;
  private readonly ibgp: boolean;
  private readonly gr: GracefulRestartHelper;
  /** The peer's graceful restart capability in the current session. */
  private peerGr?: GracefulRestartCapability;
  /** A NOTIFICATION went either way in this session (RFC 4724 §4.2: then no graceful restart). */
  private notified = false;
  /** When the FSM entered its current state (clock time). */
  private stateSince: number;
  /** The Cease a ManualStop sends instead of Administrative Shutdown (RFC 4486 subcodes 3 and 4). */
  private ceaseAs?: Notify;
  /**
   * After a hard reset, no connection is opened before this time (clock ms):
   * the peer, back from Idle after its idle hold time, usually connects to us
   * first, and a connection of ours that met it still in Idle would be
   * refused (and both sides would back off).
   */
  private quietUntil = 0;

  constructor(
    readonly settings: PeerSettings,
    private readonly local: LocalSpeaker,
    private readonly rib: Rib,
    private readonly log: Log,
    private readonly clock: Clock,
    private readonly groups: SessionGroups,
  ) {
    this.id = settings.address;
    this.ibgp = settings.remoteAs === local.asn;
    this.gr = new GracefulRestartHelper(rib, settings.address, clock, log);
    this.stateSince = clock.now();
    this.fsm = this.newFsm();
  }

  get state(): State {
    return this.fsm.state;
  }

  status(): PeerStatus {
    return {
      address: this.settings.address,
      remoteAs: this.settings.remoteAs,
      state: this.fsm.state,
      establishedAt: this.establishedAt,
      negotiated: this.negotiated,
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOut,
      lastError: this.lastError,
    };
  }

  /** Since when the session is in its current state (clock ms). */
  get since(): number {
    return this.stateSince;
  }

  /** The hold time in force: negotiated once the peer's OPEN arrived, else the configured one. */
  get holdTime(): number {
    const s = this.fsm.state;
    return s === 'OpenConfirm' || s === 'Established' ? this.fsm.context.negotiatedHoldTime : this.settings.holdTime;
  }

  /** Families both sides negotiated; empty until the peer's OPEN arrived. */
  get negotiatedFamilies(): ReadonlySet<FamilyKey> {
    return this.negotiated?.families ?? new Set();
  }

  /** The peer's BGP Identifier from its OPEN, while a session has one. */
  get peerRouterId(): number | undefined {
    return this.negotiated?.peerRouterId;
  }

  /** What this session has been sent of a family (its Adj-RIB-Out); nothing when not Established. */
  advertised(family: FamilyKey): Iterable<{ readonly nlri: Nlri; readonly attrs: PathAttributes }> {
    return this.membership?.outbound.adjOut.sent(family) ?? [];
  }

  /** How many routes of a family this session has been sent. */
  advertisedCount(family: FamilyKey): number {
    return this.membership?.outbound.adjOut.sentCount(family) ?? 0;
  }

  /**
   * Hard reset: Cease / Administrative Reset (RFC 4486 §4, with the RFC 9003
   * text), then the session starts again. For a while only the peer's
   * connection is taken (see `quietUntil`); after that we dial out as usual.
   */
  reset(message?: string): void {
    if (this.stopped) return;
    this.ceaseAs = this.cease(CeaseSubcode.AdministrativeReset, message);
    this.fsm.dispatch({ type: 'ManualStop' });
    this.ceaseAs = undefined;
    this.dropCandidate();
    this.connecting?.destroy();
    this.connecting = undefined;
    this.quietUntil = this.clock.now() + RESET_QUIET_MS;
    this.fsm.dispatch({ type: this.settings.passive ? 'ManualStartPassive' : 'ManualStart' });
  }

  /**
   * RFC 2918 soft reset inbound: asks the peer to send every negotiated
   * family again. Returns the families asked for; an error when the session
   * is not Established or the peer did not advertise route refresh.
   */
  requestRefresh(): Result<FamilyKey[], string> {
    const n = this.negotiated;
    if (this.fsm.state !== 'Established' || !n) return err(`session with ${this.id} is ${this.fsm.state}, not Established`);
    if (!n.routeRefresh) return err(`${this.id} did not advertise the route refresh capability (RFC 2918)`);
    const families = [...n.families];
    for (const f of families) {
      const refresh = { afi: familyAfi(f), safi: familySafi(f), subtype: RouteRefreshSubtype.Normal };
      this.send(encodeMessage({ type: MessageType.RouteRefresh, refresh }));
    }
    this.log.info(`route refresh requested for ${families.map(familyName).join(', ')}`);
    return ok(families);
  }

  /** Soft reset outbound: the Adj-RIB-Out of every negotiated family is sent again. */
  resendAll(): Result<FamilyKey[], string> {
    const n = this.negotiated;
    if (this.fsm.state !== 'Established' || !n || !this.membership) {
      return err(`session with ${this.id} is ${this.fsm.state}, not Established`);
    }
    const families = [...n.families];
    for (const f of families) this.sendFamilyAgain(f, n);
    this.log.info(`Adj-RIB-Out sent again for ${families.map(familyName).join(', ')}`);
    return ok(families);
  }

  private cease(subcode: CeaseSubcode, message?: string): Notify {
    const text = message ?? (subcode === CeaseSubcode.AdministrativeShutdown ? this.settings.shutdownMessage : undefined);
    return { code: ErrorCode.Cease, subcode, data: text ? shutdownData(text) : Buffer.alloc(0) };
  }

  start(): void {
    this.stopped = false;
    this.fsm.dispatch({ type: this.settings.passive ? 'ManualStartPassive' : 'ManualStart' });
  }

  /**
   * ManualStop: Cease / Administrative Shutdown (with the RFC 9003 text if
   * configured), or another Cease subcode such as Peer De-configured (RFC
   * 4486). Resolves once the socket is closed.
   */
  async stop(cease?: { readonly subcode: CeaseSubcode; readonly message?: string }): Promise<void> {
    this.stopped = true;
    const sock = this.conn?.socket;
    if (cease) this.ceaseAs = this.cease(cease.subcode, cease.message);
    this.fsm.dispatch({ type: 'ManualStop' });
    this.ceaseAs = undefined;
    this.dropCandidate();
    this.connecting?.destroy();
    if (sock && !sock.destroyed) await new Promise<void>((resolve) => sock.once('close', () => resolve()));
    this.fsm.dispose();
    this.gr.dispose();
  }

  /** An inbound TCP connection from this peer's address. Returns false if it was refused. */
  accept(socket: Socket): boolean {
    const state = this.fsm.state;
    if (this.stopped || state === 'Idle' || state === 'Established' || this.candidate) {
      this.log.info(`inbound connection refused in ${state}`);
      this.watch(new Connection(socket, true));
      this.refuse(socket, CeaseSubcode.ConnectionRejected);
      return false;
    }
    const c = new Connection(socket, true);
    this.watch(c);
    if (state === 'Connect' || state === 'Active') {
      this.connecting?.destroy();
      this.connecting = undefined;
      this.conn = c;
      this.fsm.dispatch({ type: 'TcpConnectionConfirmed' });
    } else {
      // OpenSent/OpenConfirm: hold it until an OPEN tells us whose connection survives.
      this.candidate = c;
      this.candidateOpened = false;
    }
    return true;
  }

  private newFsm(): FsmRunner {
    const fsm = new FsmRunner({
      context: initialContext({
        passive: this.settings.passive,
        holdTime: this.settings.holdTime,
        connectRetryTime: this.settings.connectRetry,
      }),
      clock: this.clock,
      execute: (e) => this.execute(e),
      jitter: rfc4271Jitter(),
    });
    fsm.onTransition((from, to) => {
      this.stateSince = this.clock.now();
      this.log.info(`${from} -> ${to}`, { event: 'state', from, to });
      this.events$.next({ type: 'state', peer: this.id, from, to });
    });
    return fsm;
  }

  private execute(e: SessionEffect): void {
    switch (e.type) {
      case 'connect':
        this.openConnection();
        break;
      case 'drop':
        this.conn?.close();
        this.conn = undefined;
        this.connecting?.destroy();
        this.connecting = undefined;
        this.negotiated = undefined;
        this.decodeCtx = DEFAULT_DECODE;
        break;
      case 'sendOpen':
        this.send(encodeMessage({ type: MessageType.Open, open: buildOpen(this.localCapabilities()) }));
        break;
      case 'sendKeepalive':
        this.send(KEEPALIVE);
        break;
      case 'sendNotification':
        this.sendNotification(e.notify);
        break;
      case 'established':
        this.onEstablished();
        break;
      case 'down':
        this.onDown(e.reason);
        break;
      case 'processUpdate':
        if (this.pendingUpdate) this.onUpdate(this.pendingUpdate);
        break;
      case 'processRouteRefresh':
        if (this.pendingRefresh) this.onRouteRefresh(this.pendingRefresh);
        break;
    }
  }

  private localCapabilities(): LocalCapabilities {
    return {
      asn: this.local.asn,
      routerId: this.local.routerId,
      holdTime: this.settings.holdTime,
      families: this.settings.families,
      gracefulRestartTime: 120,
      hostname: this.local.hostname,
    };
  }

  private openConnection(): void {
    if (this.conn || this.connecting || this.clock.now() < this.quietUntil) return;
    const s = this.settings;
    const socket = connect({ host: s.address, port: s.port, localAddress: s.localAddress });
    this.connecting = socket;
    socket.once('connect', () => {
      if (this.connecting !== socket) return;
      this.connecting = undefined;
      const c = new Connection(socket, false);
      this.watch(c);
      this.conn = c;
      this.fsm.dispatch({ type: 'TcpCRAcked' });
    });
    socket.once('error', (err) => {
      if (this.connecting !== socket) return;
      this.connecting = undefined;
      this.log.debug(`connect failed: ${err.message}`);
      socket.destroy();
      this.fsm.dispatch({ type: 'TcpConnectionFails' });
    });
  }

  private watch(c: Connection): void {
    c.socket.on('data', (chunk: Buffer) => this.onData(c, chunk));
    c.socket.on('error', (err) => this.log.debug(`socket error: ${err.message}`));
    c.socket.on('close', () => {
      c.closed = true;
      if (this.candidate === c) this.candidate = undefined;
      if (this.conn !== c) return;
      this.conn = undefined;
      this.fsm.dispatch({ type: 'TcpConnectionFails' });
    });
  }

  private onData(c: Connection, chunk: Buffer): void {
    if (c.closed) return;
    try {
      this.readFrames(c, chunk);
    } catch (e) {
      // Decoders never throw, so this is a bug of ours: reset this session, keep the daemon.
      this.log.error(`internal error while reading from peer: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      const notify: Notify = { code: ErrorCode.Cease, subcode: CeaseSubcode.OutOfResources, data: Buffer.alloc(0) };
      if (c === this.conn) this.fsm.dispatch({ type: 'BGPHeaderErr', notify });
      else c.close();
    }
  }

  private readFrames(c: Connection, chunk: Buffer): void {
    c.framer.push(chunk);
    for (;;) {
      if (c !== this.conn && c !== this.candidate) return;
      const frame = c.framer.next();
      if (frame === undefined) return;
      if ('kind' in frame) {
        this.protocolError(c, frame, 'BGPHeaderErr');
        return;
      }
      this.messagesIn++;
      if (c === this.candidate) this.onCandidateFrame(c, frame);
      else this.onFrame(frame);
    }
  }

  private onFrame(frame: Frame): void {
    const m = decodeMessage(frame, this.decodeCtx);
    if (!m.ok) {
      const ev = frame.type === MessageType.Open ? 'BGPOpenMsgErr' : frame.type === MessageType.Update ? 'UpdateMsgErr' : 'BGPHeaderErr';
      this.protocolError(this.conn!, m.error, ev);
      return;
    }
    const msg = m.value;
    switch (msg.type) {
      case MessageType.Open:
        this.onOpen(msg.open);
        return;
      case MessageType.Update:
        this.pendingUpdate = msg.update;
        this.fsm.dispatch({ type: 'UpdateMsg' });
        this.pendingUpdate = undefined;
        return;
      case MessageType.Keepalive:
        this.fsm.dispatch({ type: 'KeepAliveMsg' });
        return;
      case MessageType.Notification:
        this.lastError = `received ${describeNotification(msg.notification)}`;
        this.notified = true;
        this.log.warn(`NOTIFICATION received: ${describeNotification(msg.notification)}`, { event: 'notification' });
        this.events$.next({ type: 'notification', peer: this.id, direction: 'received', notify: msg.notification });
        this.fsm.dispatch({ type: msg.notification.code === ErrorCode.Open && msg.notification.subcode === 1 ? 'NotifMsgVerErr' : 'NotifMsg' });
        return;
      case MessageType.RouteRefresh:
        this.pendingRefresh = msg.refresh;
        this.fsm.dispatch({ type: 'RouteRefreshMsg' });
        this.pendingRefresh = undefined;
        return;
    }
  }

  private protocolError(c: Connection, e: FatalError, event: 'BGPHeaderErr' | 'BGPOpenMsgErr' | 'UpdateMsgErr'): void {
    this.log.warn(`protocol error: ${e.reason}`);
    if (c === this.candidate) {
      this.sendOn(c, e.notify);
      c.close();
      this.candidate = undefined;
      return;
    }
    this.fsm.dispatch({ type: event, notify: e.notify });
  }

  private checkOpen(open: Open): Negotiated | FatalError {
    const bad = validateOpen(open, { localBgpId: this.local.routerId, peerAs: this.settings.remoteAs, ibgp: this.ibgp });
    if (bad) return bad;
    const n = negotiate(this.localCapabilities(), open);
    return n.ok ? n.value : n.error;
  }

  private onOpen(open: Open): void {
    const n = this.checkOpen(open);
    if ('kind' in n) {
      this.protocolError(this.conn!, n, 'BGPOpenMsgErr');
      return;
    }
    this.negotiated = n;
    // RFC 4271 §6.8 compares connections that have each carried an OPEN: a held inbound
    // connection that has not sent one yet may be a socket the peer already gave up on,
    // so it is resolved when (if) its own OPEN arrives.
    if (this.candidate && this.candidateOpened && this.resolveCollision(n.peerRouterId) === 'switched') return;
    this.dispatchOpen(open, n);
  }

  private dispatchOpen(open: Open, n: Negotiated): void {
    this.decodeCtx = {
      fourOctetAs: n.fourOctetAs,
      ebgpPeerAs: this.ibgp ? undefined : this.settings.remoteAs,
      families: n.families,
      addPathReceive: n.addPathReceive,
    };
    this.conn!.framer.maxLength = n.maxMessageLength;
    this.fsm.dispatch({ type: 'BGPOpen', holdTime: open.holdTime });
  }

  /** Frames on a held inbound connection: only its OPEN matters, to resolve the collision. */
  private onCandidateFrame(c: Connection, frame: Frame): void {
    if (frame.type !== MessageType.Open) {
      this.dropCandidate();
      return;
    }
    const m = decodeMessage(frame, DEFAULT_DECODE);
    if (!m.ok || m.value.type !== MessageType.Open) {
      if (!m.ok) this.protocolError(c, m.error, 'BGPOpenMsgErr');
      return;
    }
    const open = m.value.open;
    const n = this.checkOpen(open);
    if ('kind' in n) {
      this.protocolError(c, n, 'BGPOpenMsgErr');
      return;
    }
    this.candidateOpened = true;
    if (this.resolveCollision(open.bgpId) === 'switched') {
      this.negotiated = n;
      this.dispatchOpen(open, n);
    }
  }

  /**
   * RFC 4271 §6.8: keep the connection opened by the speaker with the higher
   * BGP Identifier. Returns 'switched' when the held inbound connection won
   * and now carries the session (a fresh FSM that has sent its OPEN).
   */
  private resolveCollision(peerRouterId: number): 'switched' | 'kept' {
    const cand = this.candidate;
    const cur = this.conn;
    if (!cand) return 'kept';
    // §6.8: an Established session is kept whatever the identifiers say.
    const inboundWins =
      this.fsm.state !== 'Established' && this.local.routerId >>> 0 < peerRouterId >>> 0 && cur !== undefined && !cur.inbound;
    if (!inboundWins || !cur) {
      this.log.info('connection collision: keeping our connection');
      this.dropCandidate();
      return 'kept';
    }
    this.log.info('connection collision: keeping the peer\'s connection');
    this.sendOn(cur, { code: ErrorCode.Cease, subcode: CeaseSubcode.ConnectionCollisionResolution, data: Buffer.alloc(0) });
    cur.close();
    this.conn = undefined;
    this.fsm.dispose();
    this.fsm = this.newFsm();
    this.candidate = undefined;
    this.candidateOpened = false;
    this.conn = cand;
    this.negotiated = undefined;
    this.fsm.dispatch({ type: this.settings.passive ? 'ManualStartPassive' : 'ManualStart' });
    this.fsm.dispatch({ type: 'TcpConnectionConfirmed' });
    return 'switched';
  }

  private dropCandidate(): void {
    const c = this.candidate;
    if (!c) return;
    this.candidate = undefined;
    this.candidateOpened = false;
    this.refuse(c.socket, CeaseSubcode.ConnectionCollisionResolution);
  }

  private refuse(socket: Socket, subcode: CeaseSubcode): void {
    const n: Notify = { code: ErrorCode.Cease, subcode, data: Buffer.alloc(0) };
    socket.end(encodeMessage({ type: MessageType.Notification, notification: n }));
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  private send(buf: Buffer): void {
    const c = this.conn;
    if (!c || c.closed) return;
    this.messagesOut++;
    c.socket.write(buf);
  }

  private sendOn(c: Connection, n: Notify): void {
    this.log.warn(`NOTIFICATION sent: ${describeNotification(n)}`, { event: 'notification' });
    this.events$.next({ type: 'notification', peer: this.id, direction: 'sent', notify: n });
    if (!c.closed) c.socket.write(encodeMessage({ type: MessageType.Notification, notification: n }));
  }

  private sendNotification(notify: Notify): void {
    let n = notify;
    const msg = this.settings.shutdownMessage;
    const adminShutdown = n.code === ErrorCode.Cease && n.subcode === CeaseSubcode.AdministrativeShutdown && n.data.length === 0;
    if (adminShutdown && this.ceaseAs) n = this.ceaseAs;
    else if (adminShutdown && msg) n = { ...n, data: shutdownData(msg) };
    this.lastError = `sent ${describeNotification(n)}`;
    this.notified = true;
    if (this.conn) {
      this.messagesOut++;
      this.sendOn(this.conn, n);
    }
  }

  private onEstablished(): void {
    const n = this.negotiated;
    const c = this.conn;
    if (!n || !c) return;
    this.establishedAt = this.clock.now();
    this.notified = false;
    this.peerGr = n.peerGracefulRestart;
    this.gr.sessionUp(n.peerGracefulRestart);
    const local = ipToBytes(c.socket.localAddress?.replace(/^::ffff:/, '') ?? '') ?? Buffer.alloc(4);
    const routerId = Buffer.alloc(4);
    routerId.writeUInt32BE(this.local.routerId >>> 0);
    this.source = {
      id: this.id,
      address: ipToBytes(this.settings.address) ?? Buffer.alloc(4),
      routerId: n.peerRouterId,
      asn: n.peerAsn,
      ibgp: this.ibgp,
      local: false,
      rrClient: this.settings.rrClient,
    };
    this.membership = this.groups.open(
      this.id,
      {
        id: this.id,
        ibgp: this.ibgp,
        localAsn: this.local.asn,
        localAddress: local,
        routerId,
        rrClient: this.settings.rrClient,
        clusterId: this.local.clusterId,
        wan: this.local.gateway === true && !this.ibgp,
      },
      c.socket,
      n.families,
      { maxLength: n.maxMessageLength, fourOctetAs: n.fourOctetAs, addPath: false },
    );
    this.log.info(`session established, families ${[...n.families].map(familyName).join(', ')}`);
  }

  private onDown(reason: string): void {
    this.membership?.close();
    this.membership = undefined;
    const wasUp = this.establishedAt !== undefined;
    this.establishedAt = undefined;
    if (wasUp && !this.stopped && this.gr.sessionDown(this.peerGr, this.notified)) {
      this.log.info(`session down (${reason}); routes kept for graceful restart`);
      return;
    }
    const removed = this.rib.dropSource(this.id);
    this.log.info(`session down (${reason}); ${removed} routes removed`);
  }

  private onUpdate(u: Update): void {
    if (!this.source) return;
    const policy = { localAsn: this.local.asn, routerId: this.local.routerId, clusterId: this.local.clusterId };
    const r = applyUpdate(this.rib, this.source, u, policy, this.log);
    if (r.endOfRib !== undefined) this.gr.endOfRib(r.endOfRib);
  }

  /** RFC 2918 §4 / RFC 7313 §4: send the family again, framed by BoRR/EoRR when enhanced refresh is on. */
  private onRouteRefresh(rr: RouteRefresh): void {
    const family = familyKey(rr.afi, rr.safi);
    const n = this.negotiated;
    if (!n || !n.families.has(family) || rr.subtype !== RouteRefreshSubtype.Normal) return;
    this.sendFamilyAgain(family, n);
    this.log.info(`route refresh for ${familyName(family)} answered`);
  }

  /** The family's table once more, framed by BoRR/EoRR when enhanced refresh was negotiated (RFC 7313 §4). */
  private sendFamilyAgain(family: FamilyKey, n: Negotiated): void {
    const marker = (subtype: RouteRefreshSubtype): Buffer =>
      encodeMessage({ type: MessageType.RouteRefresh, refresh: { afi: familyAfi(family), safi: familySafi(family), subtype } });
    if (n.enhancedRouteRefresh) this.send(marker(RouteRefreshSubtype.BeginningOfRouteRefresh));
    this.membership?.refresh(family, n.enhancedRouteRefresh ? marker(RouteRefreshSubtype.EndOfRouteRefresh) : undefined);
  }
}
