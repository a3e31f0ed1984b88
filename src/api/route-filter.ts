/**
 * vmmi.v1.RouteFilter compiled once per request into a predicate over RIB
 * paths. Every field is checked up front: a bad one is INVALID_ARGUMENT
 * naming the field and the form it expects, never a filter that silently
 * matches nothing.
 */
import { ipToBytes } from '../core/ip.js';
import type { PathAttributes } from '../bgp/wire/attributes.js';
import { type FamilyKey, IPV4_UNICAST, IPV4_VPN, IPV6_UNICAST, IPV6_VPN, L2VPN_EVPN } from '../bgp/wire/family.js';
import type { Nlri } from '../bgp/wire/nlri.js';
import { parsePrefix, prefixAddress, prefixLength } from '../bgp/wire/prefix.js';
import { parseRd } from '../bgp/wire/rd.js';
import { type ExtCommunity, type RouteTarget, decodeExtCommunities, parseRouteTarget, routeTargets, sameRouteTarget } from '../evpn/ext-communities.js';
import { labelToVni } from '../evpn/label.js';
import { parseMac } from '../evpn/mac.js';
import { decodePmsiTunnel } from '../evpn/pmsi.js';
import type { EvpnRoute } from '../evpn/route.js';
import type { RouteFilter } from '../../gen/proto/vmmi/v1/RouteFilter.js';
import { isEvpnRoute, isVpnRoute } from './convert.js';
import { invalidArgument } from './status.js';

/** What a filter looks at; a RIB Path is one, and so is an Adj-RIB-Out entry. */
export interface FilterSubject {
  readonly family: FamilyKey;
  readonly nlri: Nlri;
  readonly attrs: PathAttributes;
}

export type RoutePredicate = (route: FilterSubject) => boolean;

/** An address prefix: the bytes (4 or 16) and how many leading bits count. */
interface Span {
  readonly addr: Uint8Array;
  readonly bits: number;
}

function leadingBitsEqual(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  if (a.length !== b.length) return false;
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((a[whole] ?? 0) & mask) === ((b[whole] ?? 0) & mask);
}

/** The address span a route covers, for the `ip` field; undefined for routes without one (types 1, 3, 4). */
function spanOf(family: FamilyKey, nlri: Nlri): Span | undefined {
  if (family === IPV4_UNICAST || family === IPV6_UNICAST) {
    const size = family === IPV4_UNICAST ? 4 : 16;
    return { addr: prefixAddress(nlri, size), bits: prefixLength(nlri) };
  }
  if ((family === IPV4_VPN || family === IPV6_VPN) && isVpnRoute(nlri)) return { addr: nlri.prefix, bits: nlri.prefixLength };
  if (family === L2VPN_EVPN && isEvpnRoute(nlri)) {
    if (nlri.kind === 'mac-ip' && nlri.ip) return { addr: nlri.ip, bits: nlri.ip.length * 8 };
    if (nlri.kind === 'ip-prefix') return { addr: nlri.prefix, bits: nlri.prefixLength };
  }
  return undefined;
}

function evpnOf(s: FilterSubject): EvpnRoute | undefined {
  return s.family === L2VPN_EVPN && isEvpnRoute(s.nlri) ? s.nlri : undefined;
}

/** Ethernet tag, label 1 as a VNI, or (type 3) the PMSI tunnel's VNI. */
function carriesVni(r: EvpnRoute, attrs: PathAttributes, vni: number): boolean {
  switch (r.kind) {
    case 'ethernet-ad':
      return r.tag === vni || labelToVni(r.label) === vni;
    case 'mac-ip':
      return r.tag === vni || labelToVni(r.label1) === vni;
    case 'ip-prefix':
      return r.tag === vni || labelToVni(r.label) === vni;
    case 'inclusive-multicast': {
      if (r.tag === vni) return true;
      const p = attrs.pmsiTunnel ? decodePmsiTunnel(attrs.pmsiTunnel) : undefined;
      return p !== undefined && p.ok && labelToVni(p.value.label) === vni;
    }
    case 'ethernet-segment':
    case 'unknown':
      return false;
  }
}

const IP_EXPECTED = 'an address ("10.1.0.5", "2001:db8::5") or a prefix ("10.1.0.0/24")';

function parseIpField(text: string, field: string): { span: Span; prefix: boolean } {
  if (text.includes('/')) {
    const p = parsePrefix(text);
    if (!p.ok) throw invalidArgument(`${field}: ${p.error}; expected ${IP_EXPECTED}`);
    const bits = prefixLength(p.value);
    const addr = ipToBytes(text.slice(0, text.indexOf('/')))!;
    return { span: { addr, bits }, prefix: true };
  }
  const addr = ipToBytes(text);
  if (!addr) throw invalidArgument(`${field}: "${text}" is not an IP address; expected ${IP_EXPECTED}`);
  return { span: { addr, bits: addr.length * 8 }, prefix: false };
}

/**
 * The predicate of a filter (every field that is set must match); `field`
 * prefixes error messages ("filter.rd: ..."). No filter matches everything.
 */
export function compileRouteFilter(f: RouteFilter | null | undefined, field = 'filter'): RoutePredicate {
  if (!f) return () => true;
  const checks: RoutePredicate[] = [];

  if (f.rd) {
    const rd = parseRd(f.rd.trim());
    if (!rd.ok) throw invalidArgument(`${field}.rd: ${rd.error}; expected "ASN:n" or "IPv4:n", e.g. "65000:1" or "10.0.0.21:100"`);
    const raw = rd.value.raw;
    checks.push((s) => {
      const n = s.nlri;
      if (s.family === L2VPN_EVPN && isEvpnRoute(n)) return n.kind !== 'unknown' && n.rd.raw.equals(raw);
      if ((s.family === IPV4_VPN || s.family === IPV6_VPN) && isVpnRoute(n)) return n.rd.raw.equals(raw);
      return false;
    });
  }

  if (f.routeTarget) {
    const rt = parseRouteTarget(f.routeTarget);
    if (!rt.ok) {
      throw invalidArgument(`${field}.route_target: ${rt.error}; expected "ASN:n" or "IPv4:n", e.g. "65000:10100"`);
    }
    const want: RouteTarget = rt.value;
    // Attribute objects are interned: decode each set once per request.
    const seen = new WeakMap<PathAttributes, boolean>();
    checks.push((s) => {
      let has = seen.get(s.attrs);
      if (has === undefined) {
        const ext: ExtCommunity[] = s.attrs.extCommunities ? decodeExtCommunities(s.attrs.extCommunities) : [];
        has = routeTargets(ext).some((x) => sameRouteTarget(x, want));
        seen.set(s.attrs, has);
      }
      return has;
    });
  }

  if (f.mac) {
    const mac = parseMac(f.mac);
    if (!mac.ok) throw invalidArgument(`${field}.mac: ${mac.error}; expected a MAC address such as "52:54:00:aa:bb:01"`);
    const want = mac.value;
    checks.push((s) => {
      const r = evpnOf(s);
      return r !== undefined && r.kind === 'mac-ip' && r.mac.equals(want);
    });
  }

  if (f.ip) {
    const { span: want, prefix } = parseIpField(f.ip.trim(), `${field}.ip`);
    checks.push((s) => {
      const have = spanOf(s.family, s.nlri);
      if (!have || have.addr.length !== want.addr.length) return false;
      // A prefix matches routes inside it; an address matches routes that contain it.
      return prefix
        ? have.bits >= want.bits && leadingBitsEqual(have.addr, want.addr, want.bits)
        : leadingBitsEqual(have.addr, want.addr, have.bits);
    });
  }

  if (f.vni !== undefined && f.vni !== null) {
    const vni = f.vni;
    if (!Number.isInteger(vni) || vni < 0 || vni > 0xffffffff) throw invalidArgument(`${field}.vni: ${vni} is not 0..4294967295`);
    checks.push((s) => {
      const r = evpnOf(s);
      return r !== undefined && carriesVni(r, s.attrs, vni);
    });
  }

  if (f.routeType !== undefined && f.routeType !== null) {
    const t = f.routeType;
    if (!Number.isInteger(t) || t < 1 || t > 5) throw invalidArgument(`${field}.route_type: ${t} is not an EVPN route type 1..5`);
    checks.push((s) => evpnOf(s)?.routeType === t);
  }

  if (checks.length === 0) return () => true;
  return (s) => checks.every((c) => c(s));
}
