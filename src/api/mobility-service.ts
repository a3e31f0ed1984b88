/**
 * MobilityService: translates agents' calls into VmRegistry calls and its
 * answers and events into proto messages. Checks who may speak for which
 * VTEP and network; the rules of what a VM becomes live in src/vm.
 */
import * as grpc from '@grpc/grpc-js';
import { filter, map } from '../core/rx.js';
import { ipToBytes } from '../core/ip.js';
import type { Log } from '../core/log.js';
import type { ApiConfig } from '../config/types.js';
import type { MobilityEvent } from '../../gen/proto/vmmi/v1/MobilityEvent.js';
import type { MobilityServiceHandlers } from '../../gen/proto/vmmi/v1/MobilityService.js';
import type { NetworkRef__Output } from '../../gen/proto/vmmi/v1/NetworkRef.js';
import type { Vm } from '../../gen/proto/vmmi/v1/Vm.js';
import type { VmRecord } from '../store/vm-store.js';
import { VmError } from '../vm/errors.js';
import type { VmNetwork } from '../vm/network.js';
import type { Migration, Migrations } from '../vm/migrations.js';
import type { MoveTrace, MoveTracer, PeerTime } from '../vm/move-trace.js';
import type { MoveTrace as MoveTraceMessage } from '../../gen/proto/vmmi/v1/MoveTrace.js';
import type { AnnounceResult, VmEvent, VmRegistry } from '../vm/registry.js';
import type { Migration as MigrationMessage } from '../../gen/proto/vmmi/v1/Migration.js';
import { checkHostIp, checkIps, checkMac, checkVmId, checkVni, checkVtep } from '../vm/validate.js';
import type { Authority, Identity } from './auth.js';
import type { AnnounceVmRequest__Output } from '../../gen/proto/vmmi/v1/AnnounceVmRequest.js';
import { routeToProto, timestamp } from './convert.js';
import { ApiError, invalidArgument, notFound, serverStream, toStatus, unary } from './status.js';
import { streamFrom } from './watch.js';

/** VMs per AnnounceVms call: a rack, with room; the reply stays far below gRPC's 4 MiB. */
const MAX_BATCH = 10_000;

const STATUS_OF: Record<VmError['kind'], grpc.status> = {
  'invalid-argument': grpc.status.INVALID_ARGUMENT,
  'not-found': grpc.status.NOT_FOUND,
  'failed-precondition': grpc.status.FAILED_PRECONDITION,
  unavailable: grpc.status.UNAVAILABLE,
};

/** A domain VmError with its gRPC status; anything else unchanged. */
function withStatus(e: unknown): unknown {
  return e instanceof VmError ? new ApiError(STATUS_OF[e.kind], e.message) : e;
}

/** Field checks throw VmError; give them their status right where the field is read. */
function domainCheck<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw withStatus(e);
  }
}

const EVENT_KIND = {
  arrival: 'ARRIVAL', departure: 'DEPARTURE', move: 'MOVE', update: 'UPDATE', 'moved-away': 'MOVED_AWAY', conflict: 'CONFLICT', refused: 'REFUSED',
  duplicate: 'DUPLICATE', 'duplicate-cleared': 'DUPLICATE_CLEARED',
  'migration-prepared': 'MIGRATION_PREPARED', 'migration-committed': 'MIGRATION_COMMITTED', 'migration-aborted': 'MIGRATION_ABORTED',
} as const;

export function eventToProto(e: VmEvent): MobilityEvent {
  return {
    kind: EVENT_KIND[e.kind], vmId: e.vmId, network: e.network, vni: e.vni, mac: e.mac, ips: [...e.ips],
    fromVtep: e.fromVtep ?? '', toVtep: e.toVtep ?? '', sequence: e.seq, time: timestamp(e.time), agent: e.agent,
    detail: e.detail ?? '', sticky: e.sticky, migrationId: e.migrationId ?? '',
  };
}

export function migrationToProto(m: Migration): MigrationMessage {
  return {
    id: m.id, network: m.network, mac: m.mac, vmId: m.vmId, sourceVtep: m.sourceVtep, targetVtep: m.targetVtep, state: m.state,
    agent: m.agent, preparedAt: timestamp(m.preparedAt), endedAt: m.endedAt !== undefined ? timestamp(m.endedAt) : null, reason: m.reason ?? '',
  };
}

export function traceToProto(t: MoveTrace): MoveTraceMessage {
  const times = (list: readonly PeerTime[]) => list.map((p) => ({ peer: p.peer, at: timestamp(p.at), afterMs: p.at - t.requestedAt }));
  return {
    id: t.id, network: t.network, mac: t.mac, vmId: t.vmId, fromVtep: t.fromVtep, toVtep: t.toVtep, sequence: t.seq,
    requestedAt: timestamp(t.requestedAt), announcedAt: timestamp(t.announcedAt),
    updates: times(t.updates), withdrawals: times(t.withdrawals), peerWithdrawals: times(t.peerWithdrawals),
  };
}

export function createMobilityService(
  vms: VmRegistry,
  migrations: Migrations,
  tracer: MoveTracer,
  authority: Authority,
  api: ApiConfig,
  log: Log,
): MobilityServiceHandlers {
  const network = (ref: NetworkRef__Output | null): VmNetwork => {
    if (ref?.ref === 'name') {
      const n = vms.network(ref.name ?? '');
      if (!n) throw notFound(`network "${ref.name}" is not configured (networks: in the config)`);
      return n;
    }
    if (ref?.ref === 'vni') {
      const vni = domainCheck(() => checkVni(ref.vni ?? 0));
      const n = vms.networkByVni(vni);
      if (!n) throw notFound(`no network has VNI ${vni} (networks: in the config)`);
      return n;
    }
    throw invalidArgument('network is required: set network.name or network.vni');
  };
  const vmToProto = (v: VmRecord): Vm => ({
    vmId: v.vmId, network: v.network, vni: vms.network(v.network)?.vni ?? 0, mac: v.mac, ips: [...v.ips], vtep: v.vtep,
    sequence: v.seq, agent: v.agent, since: timestamp(v.since), sticky: v.sticky === true,
  });

  /** One announcement, checked field by field and against the caller's authority. */
  const announceOne = async (id: Identity, r: AnnounceVmRequest__Output, requestedAt: number): Promise<AnnounceResult> => {
    const vmId = domainCheck(() => checkVmId(r.vmId));
    const net = network(r.network);
    const mac = domainCheck(() => checkMac(r.mac));
    const ips = domainCheck(() => checkIps(r.ips));
    const vtep = domainCheck(() => checkVtep(r.vtep));
    authority.requireAgent(id, net.name, vtep);
    return vms.announce({ vmId, network: net, mac, ips, vtep, agent: id.name, sticky: r.sticky, requestedAt }).catch((e: unknown) => {
      throw withStatus(e);
    });
  };

  return {
    AnnounceVm: unary(log, 'AnnounceVm', async (call) => {
      const requestedAt = Date.now();
      const res = await announceOne(authority.identify(call), call.request, requestedAt);
      return {
        sequence: res.seq,
        routes: res.routes.map((p) => routeToProto(p, true)),
        changed: res.changed,
        previousVtep: res.previousVtep ?? '',
        duplicate: res.duplicate,
      };
    }),

    AnnounceVms: unary(log, 'AnnounceVms', async (call) => {
      const requestedAt = Date.now();
      const id = authority.identify(call);
      const list = call.request.vms;
      if (list.length > MAX_BATCH) throw invalidArgument(`vms has ${list.length} entries; at most ${MAX_BATCH} per call`);
      // All applied in order now; one store flush acknowledges them together.
      const settled = await Promise.allSettled(list.map((r) => announceOne(id, r, requestedAt)));
      return {
        results: settled.map((s) => {
          if (s.status === 'fulfilled') {
            const v = s.value;
            return { sequence: v.seq, changed: v.changed, previousVtep: v.previousVtep ?? '', duplicate: v.duplicate, routes: v.routes.length, code: 'OK', message: '' };
          }
          const st = toStatus(withStatus(s.reason), log, 'AnnounceVms');
          return { sequence: 0, changed: false, previousVtep: '', duplicate: false, routes: 0, code: grpc.status[st.code], message: st.details };
        }),
      };
    }),

    WithdrawVm: unary(log, 'WithdrawVm', async (call) => {
      const id = authority.identify(call);
      const r = call.request;
      const net = network(r.network);
      const mac = domainCheck(() => checkMac(r.mac));
      // Only an agent of the network learns whether a VM exists in it.
      authority.requireNetwork(id, net.name);
      const vmId = r.vmId.trim() === '' ? undefined : domainCheck(() => checkVmId(r.vmId));
      const held = vms.get(net, mac);
      // The agent must hold the VM's VTEP; it need not be configured any more (a VM left behind by a config change).
      if (held) authority.requireHolder(id, held.vtep);
      const gone = await vms.withdraw({ network: net, mac, vmId }).catch((e: unknown) => {
        throw withStatus(e);
      });
      return { routes: gone.map((p) => routeToProto(p, true)) };
    }),

    ListVms: unary(log, 'ListVms', async (call) => {
      authority.requireReader(authority.identify(call));
      const r = call.request;
      if (r.network !== '' && !vms.network(r.network)) throw notFound(`network "${r.network}" is not configured`);
      const vtep = r.vtep === '' ? undefined : domainCheck(() => checkVtep(r.vtep));
      return { vms: vms.list({ network: r.network || undefined, vtep }).map(vmToProto) };
    }),

    ResolveAddress: unary(log, 'ResolveAddress', async (call) => {
      authority.requireReader(authority.identify(call));
      const net = network(call.request.network);
      if (call.request.ip.trim() === '') throw invalidArgument('ip is required: the IPv4 or IPv6 address to resolve');
      const ip = domainCheck(() => checkHostIp('ip', call.request.ip));
      const found = vms.resolve(net, ipToBytes(ip)!);
      if (!found) throw notFound(`no MAC/IP route binds ${ip} in network ${net.name}`);
      return {
        mac: found.mac, vtep: found.vtep, source: found.source, sequence: found.seq,
        router: found.arpNd?.router ?? false, override: found.arpNd?.override ?? false, immutable: found.arpNd?.immutable ?? false,
      };
    }),

    ClearDuplicate: unary(log, 'ClearDuplicate', async (call) => {
      authority.requireOperator(authority.identify(call));
      const net = network(call.request.network);
      const mac = domainCheck(() => checkMac(call.request.mac));
      if (!vms.clearDuplicate(net, mac)) throw notFound(`MAC ${mac} is not marked duplicate in network ${net.name}`);
      return {};
    }),

    PrepareMigration: unary(log, 'PrepareMigration', async (call) => {
      const id = authority.identify(call);
      const net = network(call.request.network);
      const mac = domainCheck(() => checkMac(call.request.mac));
      const target = domainCheck(() => checkVtep(call.request.targetVtep));
      authority.requireAgent(id, net.name, target);
      const r = domainCheck(() =>
        migrations.prepare({ network: net, mac, targetVtep: target, agent: id.name, provisioned: authority.grantsNetworkAt(net.name, target) }),
      );
      return r.ok ? { migration: migrationToProto(r.migration), reasons: [] } : { migration: null, reasons: [...r.reasons] };
    }),

    CommitMigration: unary(log, 'CommitMigration', async (call) => {
      const id = authority.identify(call);
      const m = migrations.get(call.request.id);
      if (!m) throw notFound(`no migration "${call.request.id}"`);
      const net = network({ ref: 'name', name: m.network });
      authority.requireAgent(id, net.name, m.targetVtep);
      const r = await migrations.commit(m.id, net, id.name).catch((e: unknown) => {
        throw withStatus(e);
      });
      return { migration: migrationToProto(r.migration), sequence: r.announced.seq, routes: r.announced.routes.map((p) => routeToProto(p, true)) };
    }),

    AbortMigration: unary(log, 'AbortMigration', async (call) => {
      const id = authority.identify(call);
      const m = migrations.get(call.request.id);
      if (!m) throw notFound(`no migration "${call.request.id}"`);
      // Whoever may announce at either end may call it off.
      try {
        authority.requireAgent(id, m.network, m.sourceVtep);
      } catch {
        authority.requireAgent(id, m.network, m.targetVtep);
      }
      const r = await migrations.abort(m.id, id.name, call.request.reason || 'aborted by the agent').catch((e: unknown) => {
        throw withStatus(e);
      });
      return { migration: migrationToProto(r.migration), sequence: r.announced?.seq ?? 0 };
    }),

    GetMoveTrace: unary(log, 'GetMoveTrace', async (call) => {
      authority.requireReader(authority.identify(call));
      const r = call.request;
      const net = r.network?.ref ? network(r.network) : undefined;
      const mac = r.mac.trim() === '' ? undefined : domainCheck(() => checkMac(r.mac));
      return { traces: tracer.list(net?.name, mac).map(traceToProto) };
    }),

    WatchMobility: serverStream(log, 'WatchMobility', async (call) => {
      authority.requireReader(authority.identify(call));
      const want = call.request.network;
      if (want !== '' && !vms.network(want)) throw notFound(`network "${want}" is not configured`);
      const events = vms.events$.pipe(
        filter((e) => want === '' || e.network === want),
        map(eventToProto),
      );
      streamFrom(events, call, api.watchBuffer, log);
    }),
  };
}
