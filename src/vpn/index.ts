/**
 * BGP/MPLS IP VPNs (RFC 4364 VPN-IPv4, RFC 4659 VPN-IPv6, RFC 8277 labels):
 * the NLRI codecs of AFI 1 / SAFI 128 and AFI 2 / SAFI 128, their next hop
 * helpers and builders. Importing this module registers both codecs, so
 * MP_REACH/MP_UNREACH of ipv4-vpn and ipv6-vpn decode and encode.
 */
import { registerNlriCodec } from '../bgp/wire/nlri.js';
import { ipv4VpnCodec, ipv6VpnCodec } from './nlri.js';

export * from './label-stack.js';
export * from './nlri.js';
export * from './route.js';

registerNlriCodec(ipv4VpnCodec);
registerNlriCodec(ipv6VpnCodec);
