/**
 * A minimal BGP speaker for interop tests, built on the project's own codec:
 * it opens one session, sends the UPDATEs it was given once the peer has
 * accepted its OPEN, keeps the session alive and answers nothing else. The
 * gobgp CLI cannot set a MAC Mobility sequence number or an ES-Import route
 * target and ExaBGP 4.2 cannot announce EVPN, so tests that need those send
 * them with this.
 */
import { type Socket, connect } from 'node:net';
import { ipv4ToBytes, ipv4ToNumber } from '../../src/core/ip.js';
import type { PathAttributes } from '../../src/bgp/wire/attributes.js';
import { AsPathSegmentType, CeaseSubcode, ErrorCode, MAX_EXTENDED_MESSAGE_LENGTH, MessageType } from '../../src/bgp/wire/constants.js';
import { type FamilyKey, L2VPN_EVPN } from '../../src/bgp/wire/family.js';
import { Framer } from '../../src/bgp/wire/framer.js';
import { KEEPALIVE, encodeMessage } from '../../src/bgp/wire/message.js';
import { decodeNotification } from '../../src/bgp/wire/notification.js';
import { encodeAnnouncements } from '../../src/bgp/wire/update-encode.js';
import { buildOpen } from '../../src/bgp/session/negotiate.js';
import {
  type EvpnRoute,
  type ExtCommunity,
  type MacIpRoute,
  TunnelType,
  encodeExtCommunities,
  labelFromVni,
  macIpRoute,
  parseRouteTarget,
} from '../../src/evpn/index.js';

export interface InjectorOptions {
  /** Our address: the socket is bound to it and it is our BGP identifier unless routerId says otherwise. */
  readonly local: string;
  readonly peer: string;
  readonly port?: number;
  readonly asn: number;
  readonly routerId?: string;
  readonly families?: readonly FamilyKey[];
  /** Offered in OPEN; the peer's own (vmmi tests use 9 s) usually wins. */
  readonly holdTime?: number;
  readonly keepaliveMs?: number;
  /** Whole UPDATE messages, sent in order once the peer's first KEEPALIVE shows it took our OPEN. */
  readonly updates: readonly Buffer[];
}

export interface Injector {
  readonly local: string;
  /** Resolves when the UPDATEs are on the wire; rejects if the session ends first. */
  readonly sent: Promise<void>;
  /** NOTIFICATIONs the peer sent, as "code/subcode". */
  readonly notifications: readonly string[];
  /** Sends a Cease (Administrative Shutdown) and closes; the peer then drops our routes. */
  close(): Promise<void>;
}

function ipv4(text: string): Buffer {
  const b = ipv4ToBytes(text);
  if (b === undefined) throw new RangeError(`"${text}" is not an IPv4 address`);
  return b;
}

export async function startInjector(o: InjectorOptions): Promise<Injector> {
  const routerId = ipv4ToNumber(o.routerId ?? o.local);
  if (routerId === undefined) throw new RangeError(`router id ${o.routerId ?? o.local} is not an IPv4 address`);
  const open = encodeMessage({
    type: MessageType.Open,
    open: buildOpen({
      asn: o.asn,
      routerId,
      holdTime: o.holdTime ?? 90,
      families: o.families ?? [L2VPN_EVPN],
      gracefulRestartTime: 0,
    }),
  });
  const socket: Socket = connect({ host: o.peer, port: o.port ?? 179, localAddress: o.local });
  socket.setNoDelay(true);
  const notifications: string[] = [];
  const framer = new Framer();
  // Our OPEN offers RFC 8654 extended messages, so the peer may send up to 64 KiB.
  framer.maxLength = MAX_EXTENDED_MESSAGE_LENGTH;
  let keepalives: NodeJS.Timeout | undefined;
  let closed = false;
  let resolveSent!: () => void;
  let rejectSent!: (e: Error) => void;
  const sent = new Promise<void>((res, rej) => {
    resolveSent = res;
    rejectSent = rej;
  });
  // A caller that only awaits close() must not see an unhandled rejection.
  sent.catch(() => undefined);
  let updatesSent = false;
  const ended = new Promise<void>((res) => socket.once('close', () => res()));

  socket.once('connect', () => {
    socket.write(open);
    keepalives = setInterval(() => socket.write(KEEPALIVE), o.keepaliveMs ?? 3_000);
  });
  socket.on('data', (chunk: Buffer) => {
    framer.push(chunk);
    for (;;) {
      const f = framer.next();
      if (f === undefined) break;
      if ('kind' in f) {
        rejectSent(new Error(`injector ${o.local}: bad message from ${o.peer}: ${JSON.stringify(f)}`));
        socket.destroy();
        return;
      }
      // RFC 4271 §8: a KEEPALIVE accepts the peer's OPEN. The peer's first KEEPALIVE accepts ours,
      // and our answer to its OPEN is already ahead on the stream, so the UPDATEs land in Established.
      if (f.type === MessageType.Open) {
        socket.write(KEEPALIVE);
      } else if (f.type === MessageType.Keepalive && !updatesSent) {
        updatesSent = true;
        for (const u of o.updates) socket.write(u);
        resolveSent();
      } else if (f.type === MessageType.Notification) {
        const n = decodeNotification(f.body);
        notifications.push(n.ok ? `${n.value.code}/${n.value.subcode}` : 'undecodable');
      }
    }
  });
  socket.on('error', (e) => rejectSent(new Error(`injector ${o.local} → ${o.peer}: ${e.message}`)));
  socket.once('close', () => {
    clearInterval(keepalives);
    closed = true;
    rejectSent(new Error(`injector ${o.local} → ${o.peer}: session closed${notifications.length > 0 ? ` (NOTIFICATION ${notifications.join(', ')})` : ''}`));
  });

  return {
    local: o.local,
    sent,
    notifications,
    async close(): Promise<void> {
      clearInterval(keepalives);
      if (!closed) {
        const cease = encodeMessage({
          type: MessageType.Notification,
          notification: { code: ErrorCode.Cease, subcode: CeaseSubcode.AdministrativeShutdown, data: Buffer.alloc(0) },
        });
        socket.end(cease);
        // end() waits for the peer's FIN; a peer that keeps the socket open must not hang the test.
        const timer = setTimeout(() => socket.destroy(), 2_000);
        await ended;
        clearTimeout(timer);
      }
    },
  };
}

export interface EvpnUpdateOptions {
  readonly nextHop: string;
  readonly extCommunities: readonly ExtCommunity[];
  /** iBGP by default: empty AS_PATH and LOCAL_PREF 100; an eBGP sender passes its AS and no LOCAL_PREF. */
  readonly asPath?: readonly number[];
  readonly localPref?: number;
}

/** The UPDATE(s) announcing EVPN routes with one attribute set, as the codec packs them for a 4-octet-AS session. */
export function evpnUpdates(routes: readonly EvpnRoute[], o: EvpnUpdateOptions): Buffer[] {
  const asPath = o.asPath ?? [];
  const attrs: PathAttributes = {
    origin: 0,
    asPath: asPath.length === 0 ? [] : [{ type: AsPathSegmentType.AsSequence, asns: asPath }],
    localPref: o.asPath === undefined ? (o.localPref ?? 100) : o.localPref,
    extCommunities: encodeExtCommunities(o.extCommunities),
  };
  return encodeAnnouncements(L2VPN_EVPN, attrs, routes, { maxLength: 4096, fourOctetAs: true, addPath: false }, ipv4(o.nextHop));
}

export interface MacIpAnnouncement {
  readonly rd: string;
  readonly mac: string;
  readonly ip?: string;
  readonly vni?: number;
  readonly nextHop: string;
  readonly rt?: string;
  /** RFC 7432 §7.7 MAC Mobility sequence number; no community when undefined. */
  readonly seq?: number;
  readonly sticky?: boolean;
}

/** A type-2 route with RT, VXLAN encapsulation and (optionally) MAC Mobility, and the UPDATE that announces it. */
export function macIpAnnouncement(a: MacIpAnnouncement): { readonly route: MacIpRoute; readonly updates: Buffer[] } {
  const route = macIpRoute({
    rd: a.rd,
    tag: 0,
    mac: a.mac,
    ...(a.ip !== undefined ? { ip: a.ip } : {}),
    label1: labelFromVni(a.vni ?? 10100),
  });
  const rt = parseRouteTarget(a.rt ?? '65000:100');
  if (!rt.ok) throw new RangeError(rt.error);
  const ecs: ExtCommunity[] = [rt.value, { kind: 'encapsulation', tunnelType: TunnelType.Vxlan }];
  if (a.seq !== undefined) ecs.push({ kind: 'mac-mobility', sticky: a.sticky ?? false, seq: a.seq });
  return { route, updates: evpnUpdates([route], { nextHop: a.nextHop, extCommunities: ecs }) };
}

/** Waits for the injector's UPDATEs to go out, failing at once if its session ends first. */
export async function sentWithin(injector: Injector, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`injector ${injector.local}: no KEEPALIVE from the peer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([injector.sent, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** An iBGP injector (AS 65000 unless given) announcing one MAC/IP route; resolves once the UPDATE is sent. */
export async function injectMacIp(
  session: { readonly local: string; readonly peer: string; readonly port?: number; readonly asn?: number },
  a: MacIpAnnouncement,
): Promise<{ readonly injector: Injector; readonly route: MacIpRoute }> {
  const { route, updates } = macIpAnnouncement(a);
  const injector = await startInjector({ local: session.local, peer: session.peer, port: session.port, asn: session.asn ?? 65000, updates });
  try {
    await sentWithin(injector, 20_000);
  } catch (e) {
    await injector.close();
    throw e;
  }
  return { injector, route };
}
