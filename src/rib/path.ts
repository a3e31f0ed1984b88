import type { PathAttributes } from '../bgp/wire/attributes.js';
import type { FamilyKey } from '../bgp/wire/family.js';
import type { Nlri } from '../bgp/wire/nlri.js';

/** What the RIB knows of where a path came from. The RIB never sees sockets. */
export interface PathSource {
  /** Stable identity of the peer ("local" for routes this speaker originates). */
  readonly id: string;
  /** The peer's address bytes (4 or 16): the last tie-breaker (RFC 4271 §9.1.2.2 g). */
  readonly address: Buffer;
  /** The peer's BGP identifier. */
  readonly routerId: number;
  readonly asn: number;
  readonly ibgp: boolean;
  readonly local: boolean;
  /** RFC 4456: the peer is one of our route-reflector clients. */
  readonly rrClient: boolean;
}

/** One path to a destination: an NLRI, its (interned) attributes and its source. */
export interface Path {
  readonly family: FamilyKey;
  readonly nlri: Nlri;
  readonly attrs: PathAttributes;
  readonly source: PathSource;
  /** RFC 4724: kept from a restarting peer until it sends End-of-RIB. */
  readonly stale: boolean;
}

export const LOCAL_SOURCE_ID = 'local';
