/**
 * The EVPN routes a VM's location becomes, as pure functions of the network
 * and the VM: RFC 7432 §7.2 MAC/IP routes (MAC only, and one per address)
 * and the §7.3 Inclusive Multicast route of its (network, VTEP).
 */
import { ipToBytes } from '../core/ip.js';
import type { PathAttributes } from '../bgp/wire/attributes.js';
import { Origin } from '../bgp/wire/constants.js';
import { type ExtCommunity, TunnelType, encodeExtCommunities } from '../evpn/ext-communities.js';
import type { InclusiveMulticastRoute, MacIpRoute } from '../evpn/route.js';
import { inclusiveMulticastRoute, macIpRoute } from '../evpn/nlri.js';
import { encodePmsiTunnel, ingressReplicationTunnel } from '../evpn/pmsi.js';
import type { VmNetwork } from './network.js';

/** Where a VM is and under which RFC 7432 §15 sequence number. */
export interface VmLocation {
  readonly mac: string;
  readonly ips: readonly string[];
  readonly vtep: string;
  readonly seq: number;
  /** RFC 7432 §15.2 static MAC: the sticky flag of MAC Mobility. */
  readonly sticky?: boolean;
}

export interface OriginatedRoute<R> {
  readonly nlri: R;
  readonly attrs: PathAttributes;
}

/** RFC 8365 §5.1.2 ethernet tag 0: one bridge domain per EVI (VLAN-based service). */
const ETHERNET_TAG = 0;
const VXLAN: ExtCommunity = { kind: 'encapsulation', tunnelType: TunnelType.Vxlan };

function vtepBytes(vtep: string): Buffer {
  const b = ipToBytes(vtep);
  if (!b) throw new RangeError(`VTEP "${vtep}" is not an IP address`);
  return b;
}

/**
 * RFC 7432 §7.2 / RFC 8365 §5.1.3: label 1 = L2 VNI; with symmetric IRB
 * (RFC 9135 §5) a MAC+IP route adds label 2 = L3 VNI, the IP-VRF's route
 * targets and the Router's MAC.
 * Every route carries MAC Mobility with the sequence number (§7.7), so a
 * move is visible in the first UPDATE, and the VXLAN encapsulation (RFC 9012).
 */
export function macIpRoutes(net: VmNetwork, vm: VmLocation): OriginatedRoute<MacIpRoute>[] {
  const rd = net.rdFor(vm.vtep);
  const { l2, l3 } = attributesFor(net, vm);
  const routes: OriginatedRoute<MacIpRoute>[] = [
    { nlri: macIpRoute({ rd, tag: ETHERNET_TAG, mac: vm.mac, label1: net.l2Label }), attrs: l2 },
  ];
  for (const ip of vm.ips) {
    const nlri = macIpRoute({ rd, tag: ETHERNET_TAG, mac: vm.mac, ip, label1: net.l2Label, label2: net.l3Label });
    routes.push({ nlri, attrs: l3 });
  }
  return routes;
}

/** Attribute sets per (network, VTEP, sequence, sticky): a rack's VMs share a handful, so they are built once. */
const attributeCache = new WeakMap<VmNetwork, Map<string, { l2: PathAttributes; l3: PathAttributes }>>();
const ATTRIBUTE_CACHE_MAX = 4096;

function attributesFor(net: VmNetwork, vm: VmLocation): { l2: PathAttributes; l3: PathAttributes } {
  let cache = attributeCache.get(net);
  if (!cache) {
    cache = new Map();
    attributeCache.set(net, cache);
  }
  const key = `${vm.vtep}|${vm.seq}|${vm.sticky === true ? 's' : ''}`;
  let sets = cache.get(key);
  if (!sets) {
    sets = buildAttributes(net, vm);
    if (cache.size >= ATTRIBUTE_CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(key, sets);
  }
  return sets;
}

function buildAttributes(net: VmNetwork, vm: VmLocation): { l2: PathAttributes; l3: PathAttributes } {
  const mobility: ExtCommunity = { kind: 'mac-mobility', sticky: vm.sticky === true, seq: vm.seq };
  const l2: PathAttributes = {
    origin: Origin.Igp,
    asPath: [],
    nextHop: vtepBytes(vm.vtep),
    extCommunities: encodeExtCommunities([...net.routeTargets, VXLAN, mobility]),
  };
  if (net.l3Label === undefined) return { l2, l3: l2 };
  const l3: PathAttributes = {
    ...l2,
    extCommunities: encodeExtCommunities([
      ...net.routeTargets,
      ...net.vrfRouteTargets,
      VXLAN,
      mobility,
      ...(net.routerMac ? [{ kind: 'router-mac', mac: net.routerMac } as const] : []),
    ]),
  };
  return { l2, l3 };
}

/**
 * RFC 7432 §7.3 with RFC 8365 §9 ingress replication: tells every other VTEP
 * of the network to send broadcast and unknown traffic to this one.
 */
export function inclusiveMulticast(net: VmNetwork, vtep: string): OriginatedRoute<InclusiveMulticastRoute> {
  const tunnel = ingressReplicationTunnel({ endpoint: vtep, label: net.l2Label });
  return {
    nlri: inclusiveMulticastRoute({ rd: net.rdFor(vtep), tag: ETHERNET_TAG, originator: vtep }),
    attrs: {
      origin: Origin.Igp,
      asPath: [],
      nextHop: vtepBytes(vtep),
      extCommunities: encodeExtCommunities([...net.routeTargets, VXLAN]),
      pmsiTunnel: encodePmsiTunnel(tunnel),
    },
  };
}
