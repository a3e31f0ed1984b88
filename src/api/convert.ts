/**
 * RIB paths as the API shows them (vmmi.v1.Route): every family's NLRI field
 * by field, the attributes decoded to text, and family names as in the config.
 */
import { bytesToIp, numberToIpv4 } from '../core/ip.js';
import type { PathAttributes as Attrs } from '../bgp/wire/attributes.js';
import { formatAsPath } from '../bgp/wire/aspath.js';
import { Origin } from '../bgp/wire/constants.js';
import { type FamilyKey, IPV4_VPN, IPV6_VPN, L2VPN_EVPN, familyByName, familyName } from '../bgp/wire/family.js';
import { type Nlri, nlriCodec } from '../bgp/wire/nlri.js';
import { formatRd } from '../bgp/wire/rd.js';
import { FAMILY_NAMES } from '../config/families.js';
import { formatEsi } from '../evpn/esi.js';
import {
  type ExtCommunity,
  TunnelType,
  decodeExtCommunities,
  formatRouteTarget,
  macMobility,
  tunnelTypes,
} from '../evpn/ext-communities.js';
import { labelToMpls, labelToVni } from '../evpn/label.js';
import { formatMac } from '../evpn/mac.js';
import { PMSI_FLAG_LEAF_INFO_REQUIRED, type PmsiTunnel, decodePmsiTunnel } from '../evpn/pmsi.js';
import type { EvpnRoute } from '../evpn/route.js';
import type { Path } from '../rib/path.js';
import type { VpnRoute } from '../vpn/nlri.js';
import { vpnNextHopAddress } from '../vpn/route.js';
import type { EvpnNlri } from '../../gen/proto/vmmi/v1/EvpnNlri.js';
import type { PathAttributes } from '../../gen/proto/vmmi/v1/PathAttributes.js';
import type { Route } from '../../gen/proto/vmmi/v1/Route.js';
import type { VpnNlri } from '../../gen/proto/vmmi/v1/VpnNlri.js';
import { invalidArgument } from './status.js';

/** Short names the API also accepts ("ipv4" as the proto comments write it). */
const FAMILY_ALIASES: Readonly<Record<string, string>> = {
  ipv4: 'ipv4-unicast',
  ipv6: 'ipv6-unicast',
  evpn: 'l2vpn-evpn',
  vpnv4: 'ipv4-vpn',
  vpnv6: 'ipv6-vpn',
};

/** A family name of a request; INVALID_ARGUMENT naming `field` and the known names otherwise. */
export function parseFamily(name: string, field: string): FamilyKey {
  const key = familyByName(FAMILY_ALIASES[name] ?? name);
  if (key === undefined) throw invalidArgument(`${field}: unknown family "${name}" (expected one of ${FAMILY_NAMES.join(', ')})`);
  return key;
}

/** Seconds and nanoseconds since the epoch, from a millisecond clock value. */
export function timestamp(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** An EVPN route of the registry's l2vpn-evpn codec (every EvpnRoute has `kind` and `routeType`). */
export function isEvpnRoute(n: Nlri): n is EvpnRoute {
  return 'kind' in n && 'routeType' in n;
}

export function isVpnRoute(n: Nlri): n is VpnRoute {
  return 'labels' in n && 'rd' in n && 'prefixLength' in n && 'prefix' in n;
}

/** One RIB path; `best` says whether it is its destination's Loc-RIB best. */
export function routeToProto(path: Path, best: boolean): Route {
  return nlriToProto(path.family, path.nlri, path.attrs, { source: path.source.id, best, stale: path.stale });
}

/** A route given by its parts (an Adj-RIB-Out entry has no Path of its own). */
export function nlriToProto(
  family: FamilyKey,
  nlri: Nlri,
  attrs: Attrs,
  meta: { readonly source: string; readonly best: boolean; readonly stale: boolean },
): Route {
  const ext = attrs.extCommunities ? decodeExtCommunities(attrs.extCommunities) : [];
  const route: Route = {
    family: familyName(family),
    prefix: nlriCodec(family)?.format(nlri) ?? Buffer.from(nlri.key, 'latin1').toString('hex'),
    attributes: attributesToProto(family, attrs, ext),
    source: meta.source,
    best: meta.best,
    stale: meta.stale,
  };
  if (family === L2VPN_EVPN && isEvpnRoute(nlri)) route.evpn = evpnToProto(nlri, ext);
  if ((family === IPV4_VPN || family === IPV6_VPN) && isVpnRoute(nlri)) route.vpn = vpnToProto(nlri);
  return route;
}

function isZero(b: Uint8Array): boolean {
  return b.every((x) => x === 0);
}

/** RFC 8365 §5.1.3: with MPLS encapsulation a label field is a 20-bit label, otherwise a 24-bit VNI. */
function labelReader(ext: readonly ExtCommunity[]): (l: Uint8Array) => number {
  return tunnelTypes(ext).includes(TunnelType.Mpls) ? labelToMpls : labelToVni;
}

export function evpnToProto(r: EvpnRoute, ext: readonly ExtCommunity[] = []): EvpnNlri {
  const label = labelReader(ext);
  switch (r.kind) {
    case 'ethernet-ad':
      return { routeType: 1, rd: formatRd(r.rd), esi: formatEsi(r.esi), ethernetTag: r.tag, labels: [label(r.label)] };
    case 'mac-ip':
      return {
        routeType: 2,
        rd: formatRd(r.rd),
        esi: formatEsi(r.esi),
        ethernetTag: r.tag,
        mac: formatMac(r.mac),
        ip: r.ip ? bytesToIp(r.ip) : '',
        labels: r.label2 ? [label(r.label1), label(r.label2)] : [label(r.label1)],
      };
    case 'inclusive-multicast':
      return { routeType: 3, rd: formatRd(r.rd), ethernetTag: r.tag, originatorIp: bytesToIp(r.originator) };
    case 'ethernet-segment':
      return { routeType: 4, rd: formatRd(r.rd), esi: formatEsi(r.esi), originatorIp: bytesToIp(r.originator) };
    case 'ip-prefix':
      return {
        routeType: 5,
        rd: formatRd(r.rd),
        esi: formatEsi(r.esi),
        ethernetTag: r.tag,
        ip: bytesToIp(r.prefix),
        ipPrefixLength: r.prefixLength,
        gatewayIp: isZero(r.gateway) ? '' : bytesToIp(r.gateway),
        labels: [label(r.label)],
      };
    case 'unknown':
      return { routeType: r.routeType };
  }
}

export function vpnToProto(v: VpnRoute): VpnNlri {
  return { rd: formatRd(v.rd), prefix: `${bytesToIp(v.prefix)}/${v.prefixLength}`, labels: [...v.labels] };
}

const ORIGIN_NAMES: Readonly<Record<number, string>> = { [Origin.Igp]: 'igp', [Origin.Egp]: 'egp', [Origin.Incomplete]: 'incomplete' };

/** RFC 1997 §6 well-known communities, as FRR and the config name them. */
const WELL_KNOWN: ReadonlyMap<number, string> = new Map([
  [0xffffff01, 'no-export'],
  [0xffffff02, 'no-advertise'],
  [0xffffff03, 'no-export-subconfed'],
]);

function community(c: number): string {
  return WELL_KNOWN.get(c >>> 0) ?? `${c >>> 16}:${c & 0xffff}`;
}

/** The address(es) of a next hop: for VPN families the RD is stripped; global then link-local are both shown. */
function nextHopText(family: FamilyKey, nh: Buffer | undefined): string {
  if (!nh || nh.length === 0) return '';
  const addr = family === IPV4_VPN || family === IPV6_VPN ? (vpnNextHopAddress(nh) ?? nh) : nh;
  switch (addr.length) {
    case 4:
    case 16:
      return bytesToIp(addr);
    case 32:
      return isZero(addr.subarray(16)) ? bytesToIp(addr.subarray(0, 16)) : `${bytesToIp(addr.subarray(0, 16))} ${bytesToIp(addr.subarray(16))}`;
    default:
      return addr.toString('hex');
  }
}

const TUNNEL_NAMES: Readonly<Record<number, string>> = {
  [TunnelType.Vxlan]: 'vxlan',
  [TunnelType.Nvgre]: 'nvgre',
  [TunnelType.Mpls]: 'mpls',
  [TunnelType.MplsInGre]: 'mpls-in-gre',
  [TunnelType.VxlanGpe]: 'vxlan-gpe',
  [TunnelType.MplsInUdp]: 'mpls-in-udp',
  [TunnelType.Geneve]: 'geneve',
};

/** The API's text for one extended community (see PathAttributes.extended_communities in routes.proto). */
export function extCommunityText(ec: ExtCommunity): string {
  switch (ec.kind) {
    case 'route-target':
      return `rt:${formatRouteTarget(ec)}`;
    case 'encapsulation':
      return `encap:${TUNNEL_NAMES[ec.tunnelType] ?? ec.tunnelType}`;
    case 'default-gateway':
      return 'default-gateway';
    case 'mac-mobility':
      return ec.sticky ? `mac-mobility:${ec.seq}:sticky` : `mac-mobility:${ec.seq}`;
    case 'esi-label':
      return `esi-label:${labelToVni(ec.label)}:${ec.singleActive ? 'single-active' : 'all-active'}`;
    case 'es-import':
      return `es-import:${formatMac(ec.mac)}`;
    case 'router-mac':
      return `router-mac:${formatMac(ec.mac)}`;
    case 'arp-nd': {
      const flags = [ec.router ? 'router' : '', ec.override ? 'override' : '', ec.immutable ? 'immutable' : ''].filter((s) => s);
      return flags.length > 0 ? `arp-nd:${flags.join(',')}` : 'arp-nd';
    }
    case 'unknown':
      return `raw:${ec.raw.toString('hex')}`;
  }
}

/** routes.proto's form: "ingress-replication 10.0.0.21 label 10100" (the label as 24 bits, a VNI with VXLAN). */
export function pmsiText(p: PmsiTunnel): string {
  const leaf = p.flags & PMSI_FLAG_LEAF_INFO_REQUIRED ? ' leaf-info-required' : '';
  if (p.kind === 'ingress-replication') return `ingress-replication ${bytesToIp(p.endpoint)} label ${labelToVni(p.label)}${leaf}`;
  return `type-${p.tunnelType} ${p.tunnelId.toString('hex')} label ${labelToVni(p.label)}${leaf}`;
}

function attributesToProto(family: FamilyKey, a: Attrs, ext: readonly ExtCommunity[]): PathAttributes {
  const out: PathAttributes = {
    origin: a.origin !== undefined ? (ORIGIN_NAMES[a.origin] ?? String(a.origin)) : '',
    asPath: a.asPath ? formatAsPath(a.asPath) : '',
    nextHop: nextHopText(family, a.nextHop),
    communities: (a.communities ?? []).map(community),
    extendedCommunities: ext.map(extCommunityText),
    originatorId: a.originatorId !== undefined ? numberToIpv4(a.originatorId) : '',
    clusterList: (a.clusterList ?? []).map(numberToIpv4),
    pmsiTunnel: '',
  };
  if (a.med !== undefined) out.med = a.med;
  if (a.localPref !== undefined) out.localPref = a.localPref;
  const mm = macMobility(ext);
  if (mm) out.macMobility = { sequence: mm.seq, sticky: mm.sticky };
  if (a.pmsiTunnel) {
    const p = decodePmsiTunnel(a.pmsiTunnel);
    out.pmsiTunnel = p.ok ? pmsiText(p.value) : `malformed: ${a.pmsiTunnel.toString('hex')}`;
  }
  return out;
}
