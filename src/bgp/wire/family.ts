/** An (AFI, SAFI) pair packed into one number, usable as a Map key. */
export type FamilyKey = number;

export function familyKey(afi: number, safi: number): FamilyKey {
  return (afi << 8) | safi;
}

export function familyAfi(f: FamilyKey): number {
  return f >>> 8;
}

export function familySafi(f: FamilyKey): number {
  return f & 0xff;
}

export const IPV4_UNICAST: FamilyKey = familyKey(1, 1);
export const IPV6_UNICAST: FamilyKey = familyKey(2, 1);
export const L2VPN_EVPN: FamilyKey = familyKey(25, 70);
export const IPV4_VPN: FamilyKey = familyKey(1, 128);
export const IPV6_VPN: FamilyKey = familyKey(2, 128);

const NAMES = new Map<FamilyKey, string>([
  [IPV4_UNICAST, 'ipv4-unicast'],
  [IPV6_UNICAST, 'ipv6-unicast'],
  [L2VPN_EVPN, 'l2vpn-evpn'],
  [IPV4_VPN, 'ipv4-vpn'],
  [IPV6_VPN, 'ipv6-vpn'],
]);

export function familyName(f: FamilyKey): string {
  return NAMES.get(f) ?? `afi${familyAfi(f)}-safi${familySafi(f)}`;
}

export function familyByName(name: string): FamilyKey | undefined {
  for (const [k, v] of NAMES) if (v === name) return k;
  return undefined;
}
