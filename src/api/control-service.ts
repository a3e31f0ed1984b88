/**
 * vmmi.v1.ControlService: neighbours, RIB tables and best-path watches for
 * operators. Handlers check who calls, validate and translate; what they
 * change is done by the Speaker (addPeer, deletePeer, resetPeer).
 */
import { filter, map } from '../core/rx.js';
import { bytesToIp, ipToBytes, numberToIpv4 } from '../core/ip.js';
import type { Log } from '../core/log.js';
import type { Peer } from '../bgp/session/peer.js';
import { type FamilyKey, L2VPN_EVPN, familyName } from '../bgp/wire/family.js';
import type { ApiConfig, NeighborConfig } from '../config/types.js';
import { type FamilyName, isFamilyName } from '../config/families.js';
import type { BestChange } from '../rib/rib.js';
import type { PeerResetMode, Speaker } from '../speaker.js';
import type { AddPeerRequest__Output } from '../../gen/proto/vmmi/v1/AddPeerRequest.js';
import type { ControlServiceHandlers } from '../../gen/proto/vmmi/v1/ControlService.js';
import type { FamilyCount } from '../../gen/proto/vmmi/v1/FamilyCount.js';
import type { ListRoutesRequest__Output } from '../../gen/proto/vmmi/v1/ListRoutesRequest.js';
import type { Peer as PeerProto } from '../../gen/proto/vmmi/v1/Peer.js';
import type { ResetPeerRequest__Output } from '../../gen/proto/vmmi/v1/ResetPeerRequest.js';
import type { Route } from '../../gen/proto/vmmi/v1/Route.js';
import type { RouteEvent } from '../../gen/proto/vmmi/v1/RouteEvent.js';
import type { Authority, CallCredentials, Identity } from './auth.js';
import { nlriToProto, parseFamily, routeToProto, timestamp } from './convert.js';
import { type RoutePredicate, compileRouteFilter } from './route-filter.js';
import { alreadyExists, failedPrecondition, invalidArgument, notFound, serverStream, unary } from './status.js';
import { streamFrom, writeAll } from './watch.js';

/** A neighbour address as the Speaker keys it (RFC 5952 for IPv6); INVALID_ARGUMENT otherwise. */
function address(text: string, field = 'address'): string {
  if (text === '') throw invalidArgument(`${field} is required (the neighbour's IPv4 or IPv6 address)`);
  const b = ipToBytes(text.trim());
  if (!b) throw invalidArgument(`${field}: "${text}" is not an IPv4 or IPv6 address`);
  return bytesToIp(b);
}

function peerOf(speaker: Speaker, text: string, field = 'address'): Peer {
  const a = address(text, field);
  const p = speaker.peers.get(a);
  if (!p) throw notFound(`neighbor ${a} is not configured`);
  return p;
}

function counts(families: Iterable<FamilyKey>, count: (f: FamilyKey) => number): FamilyCount[] {
  return [...families].map((f) => ({ family: familyName(f), count: count(f) }));
}

function received(speaker: Speaker, p: Peer): FamilyCount[] {
  return counts(p.settings.families, (f) => speaker.rib.sourceCount(p.id, f));
}

function advertised(p: Peer): FamilyCount[] {
  return counts(p.negotiatedFamilies, (f) => p.advertisedCount(f));
}

export function peerToProto(speaker: Speaker, p: Peer): PeerProto {
  const s = p.settings;
  const st = p.status();
  const routerId = p.peerRouterId;
  return {
    address: s.address,
    remoteAs: s.remoteAs,
    description: s.description ?? '',
    state: p.state,
    routerId: routerId !== undefined ? numberToIpv4(routerId) : '',
    families: s.families.map(familyName),
    negotiatedFamilies: [...p.negotiatedFamilies].map(familyName),
    holdTime: p.holdTime,
    routeReflectorClient: s.rrClient,
    passive: s.passive,
    since: timestamp(p.since),
    received: received(speaker, p),
    advertised: advertised(p),
    lastError: st.lastError ?? '',
  };
}

/** RFC 4271 §4.2: 0 (no keepalives) or 3..65535 s. */
function holdTimeOf(v: number, fallback: number): number {
  if (v === 0) return fallback;
  if (v < 3 || v > 65535) throw invalidArgument(`hold_time: ${v} is not 3..65535 seconds (0: the global hold-time)`);
  return v;
}

/** An AddPeerRequest checked field by field, as the config loader checks a `neighbors:` entry. */
export function neighborFromRequest(r: AddPeerRequest__Output, speaker: Speaker): NeighborConfig {
  const addr = address(r.address);
  if (!Number.isInteger(r.remoteAs) || r.remoteAs < 1 || r.remoteAs > 0xffffffff) {
    throw invalidArgument(`remote_as: expected an AS number 1..4294967295, got ${r.remoteAs}`);
  }
  if (r.port > 65535) throw invalidArgument(`port: expected 1..65535 (0: 179), got ${r.port}`);
  let localAddress: string | undefined;
  if (r.localAddress !== '') {
    localAddress = address(r.localAddress, 'local_address');
    if (ipToBytes(localAddress)!.length !== ipToBytes(addr)!.length) {
      throw invalidArgument(`local_address: ${localAddress} is not of the same family as address ${addr}`);
    }
  }
  const names: FamilyName[] = [];
  r.families.forEach((f, i) => {
    const name = familyName(parseFamily(f, `families[${i}]`));
    if (!isFamilyName(name)) throw invalidArgument(`families[${i}]: "${f}" cannot be configured on a neighbour`);
    if (names.includes(name)) throw invalidArgument(`families[${i}]: duplicate family "${f}"`);
    names.push(name);
  });
  const [first, ...rest] = names;
  const ibgp = r.remoteAs === speaker.config.asn;
  if (r.routeReflectorClient && !ibgp) {
    throw invalidArgument(`route_reflector_client applies to iBGP neighbours only (RFC 4456: remote_as must be ${speaker.config.asn})`);
  }
  return {
    address: addr,
    remoteAs: r.remoteAs,
    ibgp,
    port: r.port === 0 ? 179 : r.port,
    ...(localAddress !== undefined ? { localAddress } : {}),
    passive: r.passive,
    holdTime: holdTimeOf(r.holdTime, speaker.config.holdTime),
    connectRetry: speaker.config.connectRetry,
    families: first !== undefined ? [first, ...rest] : ['ipv4-unicast'],
    routeReflectorClient: r.routeReflectorClient,
    ...(r.description !== '' ? { description: r.description } : {}),
  };
}

const RESET_MODES: Readonly<Record<ResetPeerRequest__Output['mode'], PeerResetMode>> = {
  HARD: 'hard',
  SOFT_IN: 'soft-in',
  SOFT_OUT: 'soft-out',
  SOFT_BOTH: 'soft-both',
};

const TABLES: readonly ListRoutesRequest__Output['table'][] = ['LOC', 'ADJ_IN', 'ADJ_OUT'];

/** The routes of one table, filtered, lazily (a listing is written as the client reads). */
function* tableRoutes(speaker: Speaker, r: ListRoutesRequest__Output, family: FamilyKey, keep: RoutePredicate): Generator<Route> {
  const rib = speaker.rib;
  switch (r.table) {
    case 'LOC':
      for (const d of rib.destinations(family)) {
        for (const p of [...d.paths]) {
          if (r.bestOnly && p !== d.best) continue;
          if (keep(p)) yield routeToProto(p, p === d.best);
        }
      }
      return;
    case 'ADJ_IN': {
      const peer = peerOf(speaker, r.peer, 'peer');
      for (const d of rib.destinations(family)) {
        for (const p of [...d.paths]) if (p.source.id === peer.id && keep(p)) yield routeToProto(p, p === d.best);
      }
      return;
    }
    case 'ADJ_OUT': {
      const peer = peerOf(speaker, r.peer, 'peer');
      for (const e of [...peer.advertised(family)]) {
        const subject = { family, nlri: e.nlri, attrs: e.attrs };
        if (!keep(subject)) continue;
        // What was sent is the export of a Loc-RIB best; its source is that best's.
        const best = rib.best(family, e.nlri.key);
        yield nlriToProto(family, e.nlri, e.attrs, { source: best?.source.id ?? '', best: true, stale: false });
      }
      return;
    }
  }
}

function routeEvent(ch: BestChange, keep: RoutePredicate): RouteEvent | undefined {
  const now = timestamp(Date.now());
  if (ch.best && keep(ch.best)) return { route: routeToProto(ch.best, true), withdrawn: false, time: now };
  // Gone, or no longer matching the filter: the watcher's view loses the route it had.
  if (ch.previous && keep(ch.previous)) return { route: routeToProto(ch.previous, false), withdrawn: true, time: now };
  return undefined;
}

export function createControlService(speaker: Speaker, authority: Authority, log: Log, api: ApiConfig): ControlServiceHandlers {
  const rib = speaker.rib;
  const operator = (call: CallCredentials): Identity => {
    const id = authority.identify(call);
    authority.requireOperator(id);
    return id;
  };

  return {
    ListPeers: unary(log, 'ListPeers', async (call) => {
      operator(call);
      return { peers: [...speaker.peers.values()].map((p) => peerToProto(speaker, p)) };
    }),

    GetPeer: unary(log, 'GetPeer', async (call) => {
      operator(call);
      return peerToProto(speaker, peerOf(speaker, call.request.address));
    }),

    AddPeer: unary(log, 'AddPeer', async (call) => {
      const id = operator(call);
      const n = neighborFromRequest(call.request, speaker);
      if (speaker.peers.has(n.address)) throw alreadyExists(`neighbor ${n.address} already exists`);
      const peer = speaker.addPeer(n);
      peer.start();
      log.info(`neighbor ${n.address} added by ${id.name}`, { peer: n.address, by: id.name });
      return peerToProto(speaker, peer);
    }),

    DeletePeer: unary(log, 'DeletePeer', async (call) => {
      const id = operator(call);
      const peer = peerOf(speaker, call.request.address);
      if (!(await speaker.deletePeer(peer.id))) throw notFound(`neighbor ${peer.id} is not configured`);
      log.info(`neighbor ${peer.id} deleted by ${id.name}`, { peer: peer.id, by: id.name });
      return {};
    }),

    ResetPeer: unary(log, 'ResetPeer', async (call) => {
      const id = operator(call);
      const r = call.request;
      const peer = peerOf(speaker, r.address);
      const bytes = Buffer.byteLength(r.message, 'utf8');
      if (bytes > 255) throw invalidArgument(`message: at most 255 UTF-8 bytes (RFC 9003), got ${bytes}`);
      const mode: PeerResetMode | undefined = RESET_MODES[r.mode];
      if (mode === undefined) throw invalidArgument(`mode: unknown reset mode ${String(r.mode)} (HARD, SOFT_IN, SOFT_OUT or SOFT_BOTH)`);
      const res = speaker.resetPeer(peer.id, mode, r.message !== '' ? r.message : undefined);
      if (!res.ok) {
        if (res.error.kind === 'not-found') throw notFound(res.error.message);
        throw failedPrecondition(`${r.mode} reset: ${res.error.message}`);
      }
      log.info(`neighbor ${peer.id}: ${r.mode} reset by ${id.name}`, { peer: peer.id, by: id.name });
      return {};
    }),

    ListRoutes: serverStream(log, 'ListRoutes', async (call) => {
      operator(call);
      const r = call.request;
      const family = r.family === '' ? L2VPN_EVPN : parseFamily(r.family, 'family');
      const keep = compileRouteFilter(r.filter);
      if (!TABLES.includes(r.table)) throw invalidArgument(`table: unknown table ${String(r.table)} (LOC, ADJ_IN or ADJ_OUT)`);
      if (r.table === 'LOC') {
        if (r.peer !== '') throw invalidArgument('peer: only for the ADJ_IN and ADJ_OUT tables (LOC is every neighbour\'s)');
      } else {
        if (r.peer === '') throw invalidArgument(`peer is required for table ${r.table}`);
        if (r.bestOnly) throw invalidArgument('best_only: only for the LOC table');
        peerOf(speaker, r.peer, 'peer');
      }
      if (await writeAll(call, tableRoutes(speaker, r, family, keep))) call.end();
    }),

    WatchRoutes: serverStream(log, 'WatchRoutes', async (call) => {
      operator(call);
      const r = call.request;
      const family = r.family === '' ? undefined : parseFamily(r.family, 'family');
      const keep = compileRouteFilter(r.filter);
      const events = rib.changes$.pipe(
        filter((ch) => family === undefined || ch.family === family),
        map((ch) => routeEvent(ch, keep)),
        filter((e): e is RouteEvent => e !== undefined),
      );
      const initial = r.initial ? currentBests(speaker, family, keep) : undefined;
      streamFrom(events, call, api.watchBuffer, log, initial ? { initial } : {});
    }),

    GetRibSummary: unary(log, 'GetRibSummary', async (call) => {
      operator(call);
      const families = rib.families().map((f) => {
        let paths = 0;
        for (const d of rib.destinations(f)) paths += d.paths.length;
        return { family: familyName(f), destinations: rib.count(f), paths };
      });
      const peers = [...speaker.peers.values()].map((p) => ({
        address: p.id,
        state: p.state,
        received: received(speaker, p),
        advertised: advertised(p),
      }));
      return { families, peers };
    }),
  };
}

/** Loc-RIB bests as watch events, read lazily while the watch starts. */
function* currentBests(speaker: Speaker, family: FamilyKey | undefined, keep: RoutePredicate): Generator<RouteEvent> {
  const families = family !== undefined ? [family] : speaker.rib.families();
  for (const f of families) {
    for (const d of speaker.rib.destinations(f)) {
      if (d.best && keep(d.best)) yield { route: routeToProto(d.best, true), withdrawn: false, time: timestamp(Date.now()) };
    }
  }
}
