import type { Result } from '../../core/result.js';
import { type FamilyKey, familyKey, familyName } from './family.js';
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * One NLRI of any family. `key` identifies the destination within its family
 * (RIB lookups, withdraws); it leaves out what is not part of the route's
 * identity (labels for EVPN, the ADD-PATH path id). `pathId` is the RFC 7911
 * path identifier, 0 when ADD-PATH is not in use.
 */
export interface Nlri {
  readonly key: string;
  readonly pathId: number;
}

/**
 * The codec of one (AFI, SAFI). MP_REACH_NLRI / MP_UNREACH_NLRI dispatch on
 * the family to one of these, so new families register here and nothing in
 * the UPDATE layer changes.
 */
export interface NlriCodec<N extends Nlri = Nlri> {
  readonly afi: number;
  readonly safi: number;
  /** Decodes a whole NLRI field; an error means the field cannot be parsed (RFC 7606 §5.3). */
  decode(r: Reader, addPath: boolean, out: N[]): Result<void, string>;
  encode(w: Writer, n: N, addPath: boolean): void;
  /** How the NLRI is written in MP_UNREACH_NLRI when that differs (RFC 8277 §2.4: label 0x800000). */
  encodeWithdrawn?(w: Writer, n: N, addPath: boolean): void;
  /** RFC 7606 §7.11: a next-hop length this family cannot carry makes MP_REACH malformed. */
  validNextHopLength(length: number): boolean;
  /** An NLRI that parsed but must not be installed (e.g. an unknown EVPN route type). */
  ignore?(n: N): boolean;
  /** Human-readable form for logs, the CLI and the API. */
  format(n: N): string;
}

const registry = new Map<FamilyKey, NlriCodec>();

export function registerNlriCodec(codec: NlriCodec): void {
  const key = familyKey(codec.afi, codec.safi);
  if (registry.has(key)) throw new Error(`NLRI codec for ${familyName(key)} registered twice`);
  registry.set(key, codec);
}

export function nlriCodec(family: FamilyKey): NlriCodec | undefined {
  return registry.get(family);
}
