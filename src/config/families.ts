/** Address families a neighbor can negotiate (RFC 4760 multiprotocol capability). */
export const FAMILY_NAMES = ['ipv4-unicast', 'ipv6-unicast', 'l2vpn-evpn', 'ipv4-vpn', 'ipv6-vpn'] as const;
export type FamilyName = (typeof FAMILY_NAMES)[number];

/** Families the `originate` section can announce from config. */
export const ORIGINATE_FAMILIES = ['ipv4-unicast', 'ipv6-unicast'] as const satisfies readonly FamilyName[];
export type OriginateFamily = (typeof ORIGINATE_FAMILIES)[number];

export function isFamilyName(s: string): s is FamilyName {
  return (FAMILY_NAMES as readonly string[]).includes(s);
}

/** AFI/SAFI code points (IANA registries; RFC 4760, RFC 7432, RFC 4364/4659). */
export const FAMILY_AFI_SAFI: Readonly<Record<FamilyName, { readonly afi: number; readonly safi: number }>> = {
  'ipv4-unicast': { afi: 1, safi: 1 },
  'ipv6-unicast': { afi: 2, safi: 1 },
  'l2vpn-evpn': { afi: 25, safi: 70 },
  'ipv4-vpn': { afi: 1, safi: 128 },
  'ipv6-vpn': { afi: 2, safi: 128 },
};

export function familyFromAfiSafi(afi: number, safi: number): FamilyName | undefined {
  return FAMILY_NAMES.find((f) => FAMILY_AFI_SAFI[f].afi === afi && FAMILY_AFI_SAFI[f].safi === safi);
}
