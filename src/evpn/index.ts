/**
 * EVPN (RFC 7432, RFC 8365, RFC 9135, RFC 9136): the NLRI codec for AFI 25 /
 * SAFI 70, the extended communities and the PMSI tunnel attribute. Importing
 * this module registers the codec, so MP_REACH/MP_UNREACH of l2vpn-evpn decode.
 */
import { registerNlriCodec } from '../bgp/wire/nlri.js';
import { evpnCodec } from './nlri.js';

export * from './esi.js';
export * from './ext-communities.js';
export * from './label.js';
export * from './mac.js';
export * from './mobility.js';
export * from './nlri.js';
export * from './pmsi.js';
export * from './route.js';

registerNlriCodec(evpnCodec);
