/**
 * `dc-gateway:`: the VRFs whose VM host routes vmmi re-originates towards
 * the WAN as EVPN type-5 and VPNv4/VPNv6 routes (RFC 9014, RFC 9136).
 */
import { isScalar, isSeq } from 'yaml';
import { parsePrefix } from '../bgp/wire/prefix.js';
import { routeTargets, rd, routerMac, vni } from './networks.js';
import { IP_EXPECTED, type Check, type Ctx, type Val, int, ip, nonEmptyStr, readMap } from './schema.js';
import type { DcGatewayConfig, GatewayVrfConfig, NetworkConfig } from './types.js';

const GATEWAY_KEYS = ['next-hop', 'router-mac', 'vrfs'];
const VRF_KEYS = ['name', 'rd', 'route-targets', 'l3-vni', 'label', 'subnets'];
const LABEL_EXPECTED = 'an MPLS label 16..1048575 (RFC 3032: 0-15 are reserved)';

/** Canonical "address/length" with the host bits clear. */
const subnet: Check<string> = (ctx, v) => {
  const text = isScalar(v.node) && typeof v.node.value === 'string' ? v.node.value : undefined;
  if (text === undefined || !parsePrefix(text).ok) return ctx.fail(v, 'a prefix like 10.1.0.0/24 or 2001:db8:1::/64 with its host bits clear');
  return text;
};

function subnets(ctx: Ctx, v: Val): string[] | undefined {
  if (!isSeq(v.node)) return ctx.fail(v, 'a list of prefixes');
  const out: string[] = [];
  v.node.items.forEach((node, i) => {
    const s = subnet(ctx, ctx.val(node, `${v.path}[${i}]`, v.offset));
    if (s !== undefined) out.push(s);
  });
  return out.length === v.node.items.length ? out : undefined;
}

function readVrf(ctx: Ctx, v: Val, networks: readonly NetworkConfig[]): GatewayVrfConfig | undefined {
  const f = readMap(ctx, v, VRF_KEYS);
  if (!f) return undefined;
  const before = ctx.errors.length;
  const name = f.required('name', nonEmptyStr, 'the VRF name that networks[].vrf refers to');
  const rdText = f.required('rd', rd, 'a route distinguisher like "10.0.0.1:50"');
  const rts = f.required('route-targets', routeTargets, 'the export route targets');
  // Default: the L3 VNI of the networks that use this VRF (they must agree).
  let l3 = f.optional('l3-vni', vni);
  if (l3 === undefined && name !== undefined) {
    const used = [...new Set(networks.filter((n) => n.vrf === name && n.l3Vni !== undefined).map((n) => n.l3Vni!))];
    if (used.length === 1) l3 = used[0];
    else ctx.report(v.offset, v.path, used.length === 0 ? `set l3-vni: no network with vrf ${name} has one` : `set l3-vni: networks with vrf ${name} use ${used.join(', ')}`);
  }
  const label = f.required('label', int(16, 0xfffff, LABEL_EXPECTED), LABEL_EXPECTED);
  const nets = f.optional('subnets', subnets) ?? [];
  if (ctx.errors.length > before || name === undefined || rdText === undefined || rts === undefined || l3 === undefined || label === undefined) return undefined;
  return { name, rd: rdText, routeTargets: rts, l3Vni: l3, label, subnets: nets };
}

export function readGateway(ctx: Ctx, v: Val | undefined, networks: readonly NetworkConfig[]): DcGatewayConfig | undefined {
  if (v === undefined) return undefined;
  const f = readMap(ctx, v, GATEWAY_KEYS);
  if (!f) return undefined;
  const nextHop = f.required('next-hop', ip(undefined, IP_EXPECTED), IP_EXPECTED);
  const mac = f.optional('router-mac', routerMac);
  const list = f.get('vrfs');
  const vrfs: GatewayVrfConfig[] = [];
  if (!list || !isSeq(list.node)) {
    if (list) ctx.fail(list, 'a list of VRFs');
    else ctx.report(v.offset, v.path, 'vrfs is required: the VRFs whose host routes go to the WAN');
    return undefined;
  }
  const names = new Set<string>();
  list.node.items.forEach((node, i) => {
    const item = ctx.val(node, `${list.path}[${i}]`, list.offset);
    const vrf = readVrf(ctx, item, networks);
    if (!vrf) return;
    if (names.has(vrf.name)) ctx.report(item.offset, item.path, `vrf ${vrf.name} appears twice`);
    names.add(vrf.name);
    vrfs.push(vrf);
  });
  if (nextHop === undefined || vrfs.length !== list.node.items.length) return undefined;
  return { nextHop: nextHop.text, ...(mac !== undefined ? { routerMac: mac } : {}), vrfs };
}
