import { type Result, err, ok } from '../core/result.js';
import { type FamilyKey, IPV4_VPN, IPV6_VPN } from '../bgp/wire/family.js';
import { parsePrefix, prefixAddress, prefixLength } from '../bgp/wire/prefix.js';
import { RD_LENGTH, type RouteDistinguisher, decodeRd, parseRd } from '../bgp/wire/rd.js';
import { type PackOptions, encodeWithdrawals } from '../bgp/wire/update-encode.js';
import { labelStackLength, labelStackProblem } from './label-stack.js';
import { MAX_NLRI_BITS, type VpnRoute, makeVpnRoute } from './nlri.js';

/** What the API and tests give to build a route: `label` for the usual one-label stack, `labels` for more. */
export interface VpnRouteSpec {
  /** "65000:10", "192.0.2.1:10", "4200000000:10", or a decoded RD (any type). */
  readonly rd: string | RouteDistinguisher;
  /** "192.168.10.0/24" or "2001:db8:10::/48", host bits clear. */
  readonly prefix: string;
  readonly label?: number;
  /** Top of stack first; [] only for the withdraw form (see vpnWithdrawal). */
  readonly labels?: readonly number[];
  readonly pathId?: number;
}

/** A checked route; an error says what is wrong with the spec. */
export function vpnRoute(spec: VpnRouteSpec): Result<VpnRoute, string> {
  let rd: RouteDistinguisher;
  if (typeof spec.rd === 'string') {
    const parsed = parseRd(spec.rd);
    if (!parsed.ok) return parsed;
    rd = parsed.value;
  } else {
    if (spec.rd.raw.length !== RD_LENGTH) return err(`route distinguisher of ${spec.rd.raw.length} octets`);
    rd = spec.rd;
  }
  if (spec.label !== undefined && spec.labels !== undefined) return err('give label or labels, not both');
  const labels = spec.labels ?? (spec.label === undefined ? undefined : [spec.label]);
  // An announcement without a label cannot be sent (RFC 8277 §2); the empty stack is explicit, for withdraws.
  if (labels === undefined) return err('a VPN route needs a label');
  const problem = labelStackProblem(labels);
  if (problem !== undefined) return err(problem);
  const pathId = spec.pathId ?? 0;
  if (!Number.isInteger(pathId) || pathId < 0 || pathId > 0xffffffff) return err(`path id ${pathId} is not 0..4294967295`);
  const p = parsePrefix(spec.prefix);
  if (!p.ok) return p;
  const addressBytes = spec.prefix.slice(0, spec.prefix.indexOf('/')).includes(':') ? 16 : 4;
  const plen = prefixLength(p.value);
  const bits = labelStackLength(labels) * 8 + RD_LENGTH * 8 + plen;
  if (bits > MAX_NLRI_BITS) {
    return err(`${labels.length} labels, an RD and a /${plen} take ${bits} bits, over the ${MAX_NLRI_BITS} the NLRI length can say`);
  }
  return ok(makeVpnRoute(rd, plen, prefixAddress(p.value, addressBytes), [...labels], pathId));
}

/** vpnRoute that throws: for tests and constants, where a bad spec is a bug. */
export function vpnRouteOrThrow(spec: VpnRouteSpec): VpnRoute {
  const r = vpnRoute(spec);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

/**
 * Parses formatVpnRoute's text: "RD:PREFIX label L[,L...]", e.g.
 * "65000:10:192.168.10.0/24 label 100" or "192.0.2.1:7:2001:db8::/32 label 16,100".
 * An RD of an unknown type is its 16 hex digits, as formatRd prints it.
 */
export function parseVpnRoute(text: string, pathId = 0): Result<VpnRoute, string> {
  const m = /^(\S+)\s+label\s+(\d+(?:,\d+)*)$/.exec(text.trim());
  if (!m) return err(`"${text}" is not "RD:PREFIX label N"`);
  const head = m[1]!;
  const labels = m[2]!.split(',').map(Number);
  const first = head.indexOf(':');
  if (first < 0) return err(`"${head}" is not RD:PREFIX`);
  const adminText = head.slice(0, first);
  if (/^[0-9a-f]{16}$/i.test(adminText)) {
    const rd = decodeRd(Buffer.from(adminText, 'hex'), 0);
    return vpnRoute({ rd, prefix: head.slice(first + 1), labels, pathId });
  }
  const second = head.indexOf(':', first + 1);
  if (second < 0) return err(`"${head}" is not RD:PREFIX`);
  return vpnRoute({ rd: head.slice(0, second), prefix: head.slice(second + 1), labels, pathId });
}

/** The family a route belongs to, from its address length. */
export function vpnFamily(route: VpnRoute): FamilyKey {
  return route.prefix.length === 4 ? IPV4_VPN : IPV6_VPN;
}

/**
 * The same destination (same key and path id) with the RFC 8277 §2.4
 * Compatibility field 0x800000 instead of a label stack: what to withdraw.
 */
export function vpnWithdrawal(route: VpnRoute): VpnRoute {
  return route.labels.length === 0 ? route : { ...route, labels: [] };
}

/** encodeWithdrawals with the Compatibility field 0x800000 in every NLRI (see label-stack.ts for why). */
export function encodeVpnWithdrawals(family: FamilyKey, routes: readonly VpnRoute[], opt: PackOptions): Buffer[] {
  return encodeWithdrawals(family, routes.map(vpnWithdrawal), opt);
}

/**
 * RFC 4364 §4.3.2 / RFC 4659 §3.2.1 / RFC 8950 §3: the MP_REACH next hop of a
 * VPN family is the address behind an RD of zero:
 *   4 octets (IPv4)                    → RD(8) IPv4(4)                 12
 *   16 octets (IPv6)                   → RD(8) IPv6(16)                24
 *   32 octets (global + link-local)    → RD(8) global(16) RD(8) LL(16) 48
 * Throws on another length: the caller passes an address it made itself.
 */
export function vpnNextHop(address: Buffer): Buffer {
  const zero = Buffer.alloc(RD_LENGTH);
  switch (address.length) {
    case 4:
    case 16:
      return Buffer.concat([zero, address]);
    case 32:
      return Buffer.concat([zero, address.subarray(0, 16), zero, address.subarray(16)]);
    default:
      throw new RangeError(`a VPN next hop address is 4, 16 or 32 octets, not ${address.length}`);
  }
}

/**
 * The address(es) in a VPN next hop field, the RDs stripped: 4, 16, or 32
 * (global then link-local, as in IPv6 unicast's RFC 2545 form). Undefined for
 * a length no VPN family uses. The RDs are not checked: RFC 4364 §4.3.2 only
 * says they are zero, so a non-zero one carries nothing worth dropping a route for.
 */
export function vpnNextHopAddress(field: Buffer): Buffer | undefined {
  switch (field.length) {
    case 12:
    case 24:
      return Buffer.from(field.subarray(RD_LENGTH));
    case 48:
      return Buffer.concat([field.subarray(8, 24), field.subarray(32, 48)]);
    default:
      return undefined;
  }
}
