import { type Result, err, ok } from '../../core/result.js';
import type { PathAttributes } from './attributes.js';
import { type DecodeContext, type MpReach, type MpUnreach, decodeAttributes } from './attributes-decode.js';
import { ErrorCode, UpdateSubcode } from './constants.js';
import { type AttrError, type FatalError, fatal } from './errors.js';
import { type FamilyKey, IPV4_UNICAST } from './family.js';
import { type Prefix, decodePrefixes } from './prefix.js';
import { Reader } from './reader.js';

/**
 * RFC 4271 §4.3: WithdrawnLen(2) Withdrawn TotalPathAttrLen(2) Attributes NLRI.
 * IPv4 unicast routes sit in the Withdrawn and NLRI fields; every other family
 * travels in MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760).
 */
export interface Update {
  readonly withdrawn: readonly Prefix[];
  readonly nlri: readonly Prefix[];
  readonly attrs: PathAttributes;
  readonly mpReach?: MpReach;
  readonly mpUnreach?: MpUnreach;
  /** RFC 7606: install nothing from this UPDATE; withdraw every NLRI it names. */
  readonly treatAsWithdraw: boolean;
  /** Attribute problems the session survived, for logs. */
  readonly errors: readonly AttrError[];
  /** Set when the UPDATE is an End-of-RIB marker (RFC 4724 §2). */
  readonly endOfRib?: FamilyKey;
}

function networkError(reason: string): FatalError {
  // RFC 7606 §5.3: an NLRI field that cannot be parsed leaves no choice but a reset.
  return fatal(ErrorCode.Update, UpdateSubcode.InvalidNetworkField, reason);
}

export function decodeUpdate(body: Buffer, ctx: DecodeContext): Result<Update, FatalError> {
  const r = new Reader(body);
  if (r.left() < 4) return err(fatal(ErrorCode.Update, UpdateSubcode.MalformedAttributeList, 'UPDATE shorter than 4 bytes'));
  const wlen = r.u16();
  if (wlen > r.left() - 2) {
    return err(fatal(ErrorCode.Update, UpdateSubcode.MalformedAttributeList, `withdrawn routes length ${wlen} overruns the UPDATE`));
  }
  const withdrawn: Prefix[] = [];
  const w = decodePrefixes(r.sub(wlen), 32, ctx.addPathReceive?.has(IPV4_UNICAST) ?? false, withdrawn);
  if (!w.ok) return err(networkError(`withdrawn routes: ${w.error}`));
  const alen = r.u16();
  if (alen > r.left()) {
    return err(fatal(ErrorCode.Update, UpdateSubcode.MalformedAttributeList, `path attribute length ${alen} overruns the UPDATE`));
  }
  const decoded = decodeAttributes(r.sub(alen), ctx);
  if (!decoded.ok) return decoded;
  const nlri: Prefix[] = [];
  const n = decodePrefixes(r, 32, ctx.addPathReceive?.has(IPV4_UNICAST) ?? false, nlri);
  if (!n.ok) return err(networkError(`NLRI: ${n.error}`));

  const { attrs, mpReach, mpUnreach, errors } = decoded.value;
  let treatAsWithdraw = decoded.value.treatAsWithdraw;
  const extra: AttrError[] = [];
  const announces = nlri.length > 0 || (mpReach !== undefined && mpReach.nlri.length > 0);
  if (announces && !treatAsWithdraw) {
    // RFC 7606 §3.d: a missing well-known mandatory attribute is treat-as-withdraw.
    const missing: string[] = [];
    if (attrs.origin === undefined) missing.push('ORIGIN');
    if (attrs.asPath === undefined) missing.push('AS_PATH');
    if (nlri.length > 0 && attrs.nextHop === undefined) missing.push('NEXT_HOP');
    if (missing.length > 0) {
      treatAsWithdraw = true;
      extra.push({ action: 'treat-as-withdraw', attrType: 0, reason: `missing ${missing.join(', ')}` });
    }
  }
  let endOfRib: FamilyKey | undefined;
  if (body.length === 4) endOfRib = IPV4_UNICAST;
  else if (mpUnreach && mpUnreach.withdrawn.length === 0 && !mpReach && nlri.length === 0 && withdrawn.length === 0) {
    endOfRib = mpUnreach.family;
  }
  return ok({
    withdrawn,
    nlri,
    attrs,
    mpReach,
    mpUnreach,
    treatAsWithdraw,
    errors: extra.length > 0 ? [...errors, ...extra] : errors,
    endOfRib,
  });
}
