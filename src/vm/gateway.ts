/**
 * The DC gateway's side of "no roundabout" (RFC 9135 symmetric IRB, RFC 9014
 * EVPN-IPVPN interworking): every address of a VM held in this data center
 * is a host route (/32, /128) in its network's IP-VRF, re-originated towards
 * the WAN as an EVPN type-5 route (RFC 9136) and as a VPNv4/VPNv6 route
 * (RFC 4364, RFC 4659) with the gateway as next hop and the VRF's route
 * targets. When the VM leaves (withdrawn, moved to another PE, marked
 * duplicate) the host routes go, and remote users fall back to the VRF's
 * aggregate subnets, which stay originated all the time.
 */
import { ipToBytes } from '../core/ip.js';
import type { DcGatewayConfig, GatewayVrfConfig } from '../config/types.js';
import type { PathAttributes } from '../bgp/wire/attributes.js';
import { Origin } from '../bgp/wire/constants.js';
import { type FamilyKey, L2VPN_EVPN } from '../bgp/wire/family.js';
import type { Nlri } from '../bgp/wire/nlri.js';
import { type ExtCommunity, TunnelType, encodeExtCommunities, parseRouteTarget } from '../evpn/ext-communities.js';
import { labelFromVni } from '../evpn/label.js';
import { parseMac } from '../evpn/mac.js';
import { ipPrefixRoute } from '../evpn/nlri.js';
import type { PathSource } from '../rib/path.js';
import type { Rib } from '../rib/rib.js';
import type { VmRecord } from '../store/vm-store.js';
import { vpnFamily, vpnNextHop, vpnRouteOrThrow } from '../vpn/route.js';
import type { VmNetwork } from './network.js';
import type { VmEvent } from './registry.js';

interface Originated {
  readonly family: FamilyKey;
  readonly nlri: Nlri;
  readonly attrs: PathAttributes;
}

/** What one VRF's routes share: the attribute sets of its type-5 and VPN routes. */
interface Vrf {
  readonly config: GatewayVrfConfig;
  readonly evpnAttrs: PathAttributes;
  readonly vpnAttrs4: PathAttributes;
  readonly vpnAttrs6: PathAttributes;
}

const hostLength = (ip: string): number => (ip.includes(':') ? 128 : 32);

export class DcGateway {
  private readonly vrfs = new Map<string, Vrf>();
  /** Host routes per VM ("network|mac"), by IP. */
  private readonly hosts = new Map<string, Map<string, Originated[]>>();

  constructor(
    config: DcGatewayConfig,
    private readonly networks: ReadonlyMap<string, VmNetwork>,
    private readonly rib: Rib,
    private readonly source: PathSource,
  ) {
    const nh = ipToBytes(config.nextHop);
    if (!nh) throw new Error(`dc-gateway next-hop ${config.nextHop} is not an IP address`);
    const routerMac = config.routerMac !== undefined ? parseMac(config.routerMac) : undefined;
    for (const v of config.vrfs) {
      const rts: ExtCommunity[] = v.routeTargets.map((t) => {
        const r = parseRouteTarget(t);
        if (!r.ok) throw new Error(`dc-gateway vrf ${v.name}: ${r.error}`);
        return r.value;
      });
      const base = { origin: Origin.Igp, asPath: [] };
      // RFC 9136 §4.4.1 / RFC 8365: a VXLAN type-5 route carries the encapsulation and the gateway's Router's MAC.
      const evpnEcs: ExtCommunity[] = [...rts, { kind: 'encapsulation', tunnelType: TunnelType.Vxlan }];
      if (routerMac?.ok) evpnEcs.push({ kind: 'router-mac', mac: routerMac.value });
      this.vrfs.set(v.name, {
        config: v,
        evpnAttrs: { ...base, nextHop: nh, extCommunities: encodeExtCommunities(evpnEcs) },
        vpnAttrs4: { ...base, nextHop: vpnNextHop(nh), extCommunities: encodeExtCommunities(rts) },
        vpnAttrs6: { ...base, nextHop: vpnNextHop(nh.length === 16 ? nh : mapped(nh)), extCommunities: encodeExtCommunities(rts) },
      });
    }
  }

  /** Aggregates of every VRF, and host routes of the VMs held (after a restart). */
  start(vms: readonly VmRecord[]): void {
    for (const vrf of this.vrfs.values()) {
      for (const subnet of vrf.config.subnets) for (const r of this.routes(vrf, subnet)) this.rib.announce(this.source, r.family, r.nlri, r.attrs);
    }
    for (const vm of vms) this.place(vm.network, vm.mac, vm.ips);
  }

  /**
   * Follows the registry: after any event of a VM, its host routes are the
   * addresses the registry advertises for it now (none when it left, moved
   * to another PE, was marked duplicate or a change was undone).
   */
  onEvent(e: VmEvent, advertised: (network: string, mac: string) => readonly string[]): void {
    this.place(e.network, e.mac, advertised(e.network, e.mac));
  }

  /** How many host routes are originated now (for tests and metrics). */
  get hostRoutes(): number {
    let n = 0;
    for (const byIp of this.hosts.values()) for (const rs of byIp.values()) n += rs.length;
    return n;
  }

  private place(network: string, mac: string, ips: readonly string[]): void {
    const vrfName = this.networks.get(network)?.config.vrf;
    const vrf = vrfName !== undefined ? this.vrfs.get(vrfName) : undefined;
    if (!vrf) return;
    const key = `${network}|${mac}`;
    const now = this.hosts.get(key) ?? new Map<string, Originated[]>();
    for (const [ip, routes] of now) {
      if (ips.includes(ip)) continue;
      for (const r of routes) this.rib.withdraw(this.source.id, r.family, r.nlri);
      now.delete(ip);
    }
    for (const ip of ips) {
      if (now.has(ip)) continue;
      const routes = this.routes(vrf, `${ip}/${hostLength(ip)}`);
      for (const r of routes) this.rib.announce(this.source, r.family, r.nlri, r.attrs);
      now.set(ip, routes);
    }
    if (now.size > 0) this.hosts.set(key, now);
    else this.hosts.delete(key);
  }

  /** A prefix of the VRF as a type-5 route (label = L3 VNI) and as a VPN route (the VRF's MPLS label). */
  private routes(vrf: Vrf, prefix: string): Originated[] {
    const v = vrf.config;
    const evpn = ipPrefixRoute({ rd: v.rd, tag: 0, prefix, label: labelFromVni(v.l3Vni) });
    const vpn = vpnRouteOrThrow({ rd: v.rd, prefix, label: v.label });
    const family = vpnFamily(vpn);
    return [
      { family: L2VPN_EVPN, nlri: evpn, attrs: vrf.evpnAttrs },
      { family, nlri: vpn, attrs: vpn.prefix.length === 4 ? vrf.vpnAttrs4 : vrf.vpnAttrs6 },
    ];
  }
}

/** ::ffff:a.b.c.d: an IPv4 gateway as the next hop of IPv6 VPN routes (RFC 4659 §3.2.1.2). */
function mapped(v4: Buffer): Buffer {
  const b = Buffer.alloc(16);
  b[10] = 0xff;
  b[11] = 0xff;
  v4.copy(b, 12);
  return b;
}
