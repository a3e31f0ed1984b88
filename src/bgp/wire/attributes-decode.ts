import { type Result, err, ok } from '../../core/result.js';
import { type AsPath, decodeAsPath, firstAs, mergeAs4Path, withoutConfed } from './aspath.js';
import { EXPECTED_FLAGS, type Aggregator, type PathAttributes, type RawAttribute } from './attributes.js';
import { AS_TRANS, AttrFlag, AttrType, ErrorCode, type Origin, UpdateSubcode } from './constants.js';
import { type AttrError, type FatalError, type UpdateErrorAction, fatal } from './errors.js';
import { type FamilyKey, familyKey, familyName } from './family.js';
import { type Nlri, nlriCodec } from './nlri.js';
import { Reader } from './reader.js';

/** What the session negotiated that decoding depends on. */
export interface DecodeContext {
  /** RFC 6793: both sides advertised 4-octet AS support. */
  readonly fourOctetAs: boolean;
  /** The peer's AS on an eBGP session (first-AS check, LOCAL_PREF discard); undefined on iBGP. */
  readonly ebgpPeerAs?: number;
  /** RFC 7911: families in which the peer sends path identifiers. */
  readonly addPathReceive?: ReadonlySet<FamilyKey>;
  /** Families negotiated on the session; MP attributes of others are ignored (RFC 4760 §6). */
  readonly families?: ReadonlySet<FamilyKey>;
}

/** RFC 4760 §3 */
export interface MpReach {
  readonly family: FamilyKey;
  /** Next Hop field as received (its layout depends on the family). */
  readonly nextHop: Buffer;
  readonly nlri: readonly Nlri[];
}

/** RFC 4760 §4 */
export interface MpUnreach {
  readonly family: FamilyKey;
  readonly withdrawn: readonly Nlri[];
}

export interface DecodedAttributes {
  readonly attrs: PathAttributes;
  readonly mpReach?: MpReach;
  readonly mpUnreach?: MpUnreach;
  readonly errors: readonly AttrError[];
  /** RFC 7606 §2: every route in this UPDATE is to be withdrawn, none installed. */
  readonly treatAsWithdraw: boolean;
}

/** RFC 7606 §7: what a malformed instance of each attribute costs. */
function malformedAction(type: number): UpdateErrorAction | 'session-reset' {
  switch (type) {
    case AttrType.AtomicAggregate:
    case AttrType.Aggregator:
    case AttrType.As4Path:
    case AttrType.As4Aggregator:
      return 'attribute-discard';
    case AttrType.MpReachNlri:
    case AttrType.MpUnreachNlri:
      return 'session-reset';
    default:
      return 'treat-as-withdraw';
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Decodes the path attribute field of an UPDATE (RFC 4271 §4.3), applying RFC 7606. */
export function decodeAttributes(r: Reader, ctx: DecodeContext): Result<DecodedAttributes, FatalError> {
  const a: Mutable<PathAttributes> = {};
  const errors: AttrError[] = [];
  const seen = new Uint8Array(256);
  let mpReach: MpReach | undefined;
  let mpUnreach: MpUnreach | undefined;
  let as4Path: AsPath | undefined;
  let as4Aggregator: Aggregator | undefined;
  let unknown: RawAttribute[] | undefined;
  let withdraw = false;
  const problem = (type: number, reason: string, action = malformedAction(type)): FatalError | undefined => {
    if (action === 'session-reset') return undefined;
    errors.push({ action, attrType: type, reason });
    if (action === 'treat-as-withdraw') withdraw = true;
    return undefined;
  };

  while (r.left() > 0) {
    const start = r.pos;
    const flags = r.u8();
    const headLen = flags & AttrFlag.ExtendedLength ? 3 : 2;
    if (r.left() < headLen) {
      // RFC 7606 §4: too little left for a header; trust Total Path Attribute Length.
      problem(0, 'attribute header truncated by the attribute list length', 'treat-as-withdraw');
      break;
    }
    const type = r.u8();
    const len = flags & AttrFlag.ExtendedLength ? r.u16() : r.u8();
    if (r.left() < len) {
      problem(type, `attribute ${type} length ${len} overruns the attribute list`, 'treat-as-withdraw');
      break;
    }
    const v = r.sub(len);
    const whole = (): Buffer => Buffer.from(r.buf.subarray(start, r.pos));
    if (seen[type]) {
      // RFC 7606 §3.g: repeated MP attributes reset the session, other repeats are dropped.
      if (type === AttrType.MpReachNlri || type === AttrType.MpUnreachNlri) {
        return err(fatal(ErrorCode.Update, UpdateSubcode.MalformedAttributeList, `attribute ${type} appears twice`));
      }
      errors.push({ action: 'attribute-discard', attrType: type, reason: `repeated attribute ${type} dropped` });
      continue;
    }
    seen[type] = 1;
    const expected = EXPECTED_FLAGS.get(type);
    if (expected === undefined) {
      if (!(flags & AttrFlag.Optional)) {
        return err(
          fatal(ErrorCode.Update, UpdateSubcode.UnrecognizedWellKnownAttribute, `unknown well-known attribute ${type}`, whole()),
        );
      }
      if (flags & AttrFlag.Transitive) (unknown ??= []).push({ flags, type, value: Buffer.from(v.bytes(len)) });
      continue;
    }
    if ((flags & (AttrFlag.Optional | AttrFlag.Transitive)) !== expected) {
      if (malformedAction(type) === 'session-reset') {
        return err(fatal(ErrorCode.Update, UpdateSubcode.AttributeFlagsError, `attribute ${type} flags 0x${flags.toString(16)}`, whole()));
      }
      problem(type, `attribute ${type} has flags 0x${flags.toString(16)}`);
      continue;
    }
    switch (type) {
      case AttrType.Origin: {
        const o = len === 1 ? v.u8() : -1;
        if (o < 0 || o > 2) problem(type, `ORIGIN of length ${len} value ${o}`);
        else a.origin = o as Origin;
        break;
      }
      case AttrType.AsPath: {
        const p = decodeAsPath(v, ctx.fourOctetAs ? 4 : 2);
        if (typeof p === 'string') problem(type, p);
        else a.asPath = p;
        break;
      }
      case AttrType.NextHop: {
        if (len !== 4) {
          problem(type, `NEXT_HOP length ${len}`);
          break;
        }
        const nh = v.bytes(4);
        const first = nh[0]!;
        // RFC 7606 §7.3 / RFC 4271 §6.3: 0.0.0.0, multicast and class E cannot be next hops.
        if (nh.readUInt32BE(0) === 0 || first >= 224) problem(type, `NEXT_HOP ${nh.join('.')} is not a unicast address`);
        else a.nextHop = Buffer.from(nh);
        break;
      }
      case AttrType.MultiExitDisc:
        if (len !== 4) problem(type, `MULTI_EXIT_DISC length ${len}`);
        else a.med = v.u32();
        break;
      case AttrType.LocalPref:
        // RFC 7606 §7.5: from an external peer it is discarded whatever it holds.
        if (ctx.ebgpPeerAs !== undefined) break;
        if (len !== 4) problem(type, `LOCAL_PREF length ${len}`);
        else a.localPref = v.u32();
        break;
      case AttrType.AtomicAggregate:
        if (len !== 0) problem(type, `ATOMIC_AGGREGATE length ${len}`);
        else a.atomicAggregate = true;
        break;
      case AttrType.Aggregator: {
        const want = ctx.fourOctetAs ? 8 : 6;
        if (len !== want) problem(type, `AGGREGATOR length ${len}, expected ${want}`);
        else a.aggregator = { asn: ctx.fourOctetAs ? v.u32() : v.u16(), address: v.u32() };
        break;
      }
      case AttrType.Communities:
        if (len === 0 || len % 4 !== 0) problem(type, `COMMUNITIES length ${len}`);
        else a.communities = readU32s(v);
        break;
      case AttrType.OriginatorId:
        if (len !== 4) problem(type, `ORIGINATOR_ID length ${len}`);
        else a.originatorId = v.u32();
        break;
      case AttrType.ClusterList:
        if (len === 0 || len % 4 !== 0) problem(type, `CLUSTER_LIST length ${len}`);
        else a.clusterList = readU32s(v);
        break;
      case AttrType.ExtendedCommunities:
        if (len === 0 || len % 8 !== 0) problem(type, `EXTENDED_COMMUNITIES length ${len}`);
        else a.extCommunities = Buffer.from(v.bytes(len));
        break;
      case AttrType.PmsiTunnel:
        // RFC 6514 §5: Flags(1) Tunnel Type(1) MPLS Label(3) Tunnel Identifier; RFC 7606 §3 default: withdraw.
        if (len < 5) problem(type, `PMSI_TUNNEL length ${len}`);
        else a.pmsiTunnel = Buffer.from(v.bytes(len));
        break;
      case AttrType.LargeCommunities:
        if (len === 0 || len % 12 !== 0) problem(type, `LARGE_COMMUNITY length ${len}`);
        else a.largeCommunities = Buffer.from(v.bytes(len));
        break;
      case AttrType.As4Path: {
        // RFC 6793 §4.1: a 4-octet speaker never sends it; discard it if one does.
        if (ctx.fourOctetAs) {
          problem(type, 'AS4_PATH from a 4-octet AS peer', 'attribute-discard');
          break;
        }
        const p = decodeAsPath(v, 4);
        if (typeof p === 'string') {
          problem(type, p);
          break;
        }
        as4Path = withoutConfed(p);
        if (as4Path !== p) {
          // RFC 6793 §3: drop the confederation segments, log it, and go on with the rest.
          errors.push({ action: 'attribute-discard', attrType: type, reason: 'confederation segments in AS4_PATH dropped' });
        }
        break;
      }
      case AttrType.As4Aggregator:
        if (ctx.fourOctetAs) problem(type, 'AS4_AGGREGATOR from a 4-octet AS peer', 'attribute-discard');
        else if (len !== 8) problem(type, `AS4_AGGREGATOR length ${len}`);
        else as4Aggregator = { asn: v.u32(), address: v.u32() };
        break;
      case AttrType.MpReachNlri: {
        const res = decodeMpReach(v, ctx, whole);
        if (!res.ok) return res;
        if (res.value !== undefined) mpReach = res.value;
        else problem(type, `MP_REACH_NLRI of a family not negotiated`, 'attribute-discard');
        break;
      }
      case AttrType.MpUnreachNlri: {
        const res = decodeMpUnreach(v, ctx, whole);
        if (!res.ok) return res;
        if (res.value !== undefined) mpUnreach = res.value;
        else problem(type, `MP_UNREACH_NLRI of a family not negotiated`, 'attribute-discard');
        break;
      }
    }
  }

  reconcileAs4(a, as4Path, as4Aggregator);
  if (ctx.ebgpPeerAs !== undefined && a.asPath !== undefined && a.asPath.length > 0) {
    const first = firstAs(a.asPath);
    // RFC 4271 §6.3 first-AS check; RFC 7606 §7.2 makes it treat-as-withdraw.
    if (first !== ctx.ebgpPeerAs) problem(AttrType.AsPath, `AS_PATH starts with ${first}, not the peer's AS ${ctx.ebgpPeerAs}`);
  }
  if (unknown) a.unknown = unknown;
  return ok({ attrs: a, mpReach, mpUnreach, errors, treatAsWithdraw: withdraw });
}

/** RFC 6793 §4.2.3: fold AS4_PATH and AS4_AGGREGATOR into the 2-octet attributes. */
function reconcileAs4(a: Mutable<PathAttributes>, as4Path: AsPath | undefined, as4Agg: Aggregator | undefined): void {
  if (a.aggregator !== undefined && a.aggregator.asn !== AS_TRANS) return;
  if (as4Agg !== undefined && a.aggregator !== undefined) a.aggregator = as4Agg;
  if (as4Path !== undefined && a.asPath !== undefined) a.asPath = mergeAs4Path(a.asPath, as4Path);
}

function readU32s(r: Reader): number[] {
  const out = new Array<number>(r.left() >> 2);
  for (let i = 0; i < out.length; i++) out[i] = r.u32();
  return out;
}

function mpFamily(r: Reader, ctx: DecodeContext): FamilyKey | undefined {
  const family = familyKey(r.u16(), r.u8());
  if (ctx.families !== undefined && !ctx.families.has(family)) return undefined;
  return nlriCodec(family) ? family : undefined;
}

function mpError(reason: string, data: Buffer): FatalError {
  // RFC 7606 §7.11 / RFC 4760 §7: an MP attribute that cannot be parsed resets the session.
  return fatal(ErrorCode.Update, UpdateSubcode.OptionalAttributeError, reason, data);
}

function decodeMpReach(v: Reader, ctx: DecodeContext, whole: () => Buffer): Result<MpReach | undefined, FatalError> {
  if (v.left() < 5) return err(mpError(`MP_REACH_NLRI of ${v.left()} bytes`, whole()));
  const family = mpFamily(v, ctx);
  const nhLen = v.u8();
  if (v.left() < nhLen + 1) return err(mpError(`MP_REACH_NLRI next hop length ${nhLen} overruns it`, whole()));
  if (family === undefined) return ok(undefined);
  const codec = nlriCodec(family)!;
  if (!codec.validNextHopLength(nhLen)) {
    return err(mpError(`next hop length ${nhLen} is not valid for ${familyName(family)}`, whole()));
  }
  const nextHop = Buffer.from(v.bytes(nhLen));
  v.skip(1); // RFC 4760 §3: Reserved
  const nlri: Nlri[] = [];
  const res = codec.decode(v, ctx.addPathReceive?.has(family) ?? false, nlri);
  if (!res.ok) return err(mpError(`MP_REACH_NLRI ${familyName(family)}: ${res.error}`, whole()));
  return ok({ family, nextHop, nlri });
}

function decodeMpUnreach(v: Reader, ctx: DecodeContext, whole: () => Buffer): Result<MpUnreach | undefined, FatalError> {
  if (v.left() < 3) return err(mpError(`MP_UNREACH_NLRI of ${v.left()} bytes`, whole()));
  const family = mpFamily(v, ctx);
  if (family === undefined) return ok(undefined);
  const withdrawn: Nlri[] = [];
  const res = nlriCodec(family)!.decode(v, ctx.addPathReceive?.has(family) ?? false, withdrawn);
  if (!res.ok) return err(mpError(`MP_UNREACH_NLRI ${familyName(family)}: ${res.error}`, whole()));
  return ok({ family, withdrawn });
}
