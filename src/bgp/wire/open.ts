import {
  AS_TRANS,
  BGP_VERSION,
  CapabilityCode,
  ErrorCode,
  OPT_PARAM_CAPABILITIES,
  OPT_PARAM_EXTENDED,
  OpenSubcode,
} from './constants.js';
import { type Capability, decodeCapabilities, encodeCapability } from './capabilities.js';
import { type FatalError, fatal, u16Data } from './errors.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { type Result, err, ok } from '../../core/result.js';

/**
 * RFC 4271 §4.2: Version(1) MyAS(2) HoldTime(2) BGPIdentifier(4)
 * OptParmLen(1) OptParams(TLV: type(1) len(1) value), or with RFC 9072
 * OptParmLen=255, NonExtType=255, ExtOptParmLen(2), TLVs with len(2).
 */
export interface Open {
  readonly version: number;
  /** The 2-octet My AS field: AS_TRANS when the real AS needs 4 octets. */
  readonly myAs: number;
  readonly holdTime: number;
  readonly bgpId: number;
  readonly capabilities: readonly Capability[];
  /**
   * How the capabilities are spread over optional parameters; RFC 5492 §4
   * allows either. Undefined or 'single' is one Capabilities parameter holding
   * them all (as GoBGP sends); 'per-capability' is one parameter each, as FRR
   * sends, and with no capabilities no parameter at all. decodeOpen sets
   * 'per-capability' when the OPEN was laid out so, so that re-encoding a
   * received OPEN gives back its bytes.
   */
  readonly paramLayout?: 'single' | 'per-capability';
}

function openError(subcode: number, reason: string, data?: Buffer): FatalError {
  return fatal(ErrorCode.Open, subcode, reason, data);
}

export function decodeOpen(body: Buffer): Result<Open, FatalError> {
  const r = new Reader(body);
  if (r.left() < 10) return err(openError(0, `OPEN body of ${r.left()} bytes is shorter than 10`));
  const version = r.u8();
  if (version !== BGP_VERSION) {
    return err(openError(OpenSubcode.UnsupportedVersion, `unsupported BGP version ${version}`, u16Data(BGP_VERSION)));
  }
  const myAs = r.u16();
  const holdTime = r.u16();
  const bgpId = r.u32();
  let optLen = r.u8();
  let extended = false;
  if (optLen === OPT_PARAM_EXTENDED && r.left() >= 3 && r.buf[r.pos] === OPT_PARAM_EXTENDED) {
    r.skip(1);
    optLen = r.u16();
    extended = true;
  }
  if (r.left() !== optLen) {
    return err(openError(0, `optional parameters length ${optLen} but ${r.left()} bytes follow`));
  }
  const capabilities: Capability[] = [];
  let params = 0;
  let onePerParam = true;
  while (r.left() > 0) {
    const headLen = extended ? 3 : 2;
    if (r.left() < headLen) return err(openError(0, 'truncated optional parameter header'));
    const type = r.u8();
    const len = extended ? r.u16() : r.u8();
    if (r.left() < len) return err(openError(0, `optional parameter ${type} length ${len} overruns the OPEN`));
    const value = r.sub(len);
    if (type !== OPT_PARAM_CAPABILITIES) {
      return err(openError(OpenSubcode.UnsupportedOptionalParameter, `unsupported optional parameter ${type}`));
    }
    const before = capabilities.length;
    const bad = decodeCapabilities(value, capabilities);
    if (bad) return err(openError(0, bad.reason));
    params++;
    if (capabilities.length - before !== 1) onePerParam = false;
  }
  // One parameter is the default layout either way: leave the field out, as a caller building an Open would.
  if (params !== 1 && onePerParam) return ok({ version, myAs, holdTime, bgpId, capabilities, paramLayout: 'per-capability' });
  return ok({ version, myAs, holdTime, bgpId, capabilities });
}

/**
 * Writes the OPEN body. Capabilities go in one parameter, or one each as
 * `m.paramLayout` says, in RFC 9072 form when they exceed 255 bytes.
 */
export function encodeOpen(w: Writer, m: Open): void {
  w.u8(m.version).u16(m.myAs).u16(m.holdTime).u32(m.bgpId);
  if (m.paramLayout === 'per-capability') {
    encodeParamPerCapability(w, m.capabilities);
    return;
  }
  const lenAt = w.reserve(1);
  const start = w.pos;
  w.u8(OPT_PARAM_CAPABILITIES);
  const paramLenAt = w.reserve(1);
  for (const c of m.capabilities) encodeCapability(w, c);
  const capLen = w.pos - paramLenAt - 1;
  // Opt Parm Len (RFC 4271 §4.2) counts the 2-octet parameter header too, so
  // 254 or 255 bytes of capabilities already need the RFC 9072 form.
  if (capLen + 2 <= 255) {
    w.patchU8(paramLenAt, capLen);
    w.patchU8(lenAt, w.pos - start);
    return;
  }
  // RFC 9072: re-emit with 2-octet lengths; rare, so simplicity beats one pass.
  const caps = w.toBuffer(paramLenAt + 1);
  w.truncate(lenAt);
  w.u8(OPT_PARAM_EXTENDED).u8(OPT_PARAM_EXTENDED).u16(caps.length + 3);
  w.u8(OPT_PARAM_CAPABILITIES).u16(caps.length).bytes(caps);
}

function encodeParamPerCapability(w: Writer, capabilities: readonly Capability[]): void {
  const values = capabilities.map((c) => {
    const cw = new Writer(32);
    encodeCapability(cw, c);
    return cw.toBuffer();
  });
  const plain = values.reduce((n, v) => n + 2 + v.length, 0);
  if (plain <= 255) {
    w.u8(plain);
    for (const v of values) w.u8(OPT_PARAM_CAPABILITIES).u8(v.length).bytes(v);
    return;
  }
  // RFC 9072 §2: every parameter then carries a 2-octet length.
  w.u8(OPT_PARAM_EXTENDED).u8(OPT_PARAM_EXTENDED).u16(plain + values.length);
  for (const v of values) w.u8(OPT_PARAM_CAPABILITIES).u16(v.length).bytes(v);
}

/** The peer's real AS: the 4-octet AS capability when present (RFC 6793 §4.1). */
export function openAsn(m: Open): number {
  for (const c of m.capabilities) if (c.code === CapabilityCode.FourOctetAs) return c.asn;
  return m.myAs;
}

export interface OpenExpectations {
  readonly localBgpId: number;
  readonly peerAs: number;
  readonly ibgp: boolean;
}

/** RFC 4271 §6.2 semantic checks of a received OPEN that decoded cleanly. */
export function validateOpen(m: Open, expect: OpenExpectations): FatalError | undefined {
  const asn = openAsn(m);
  if (asn !== expect.peerAs) {
    return openError(OpenSubcode.BadPeerAs, `peer AS ${asn}, expected ${expect.peerAs}`);
  }
  const has4 = m.capabilities.some((c) => c.code === CapabilityCode.FourOctetAs);
  // RFC 6793 §4.1: a 4-octet speaker puts AS_TRANS in My AS only when its AS needs 4 octets.
  if (has4 && m.myAs !== asn && m.myAs !== AS_TRANS) {
    return openError(OpenSubcode.BadPeerAs, `My AS ${m.myAs} contradicts the 4-octet AS capability ${asn}`);
  }
  if (m.holdTime === 1 || m.holdTime === 2) {
    return openError(OpenSubcode.UnacceptableHoldTime, `hold time ${m.holdTime} s is not 0 or at least 3`);
  }
  const first = m.bgpId >>> 24;
  if (m.bgpId === 0 || first >= 224) {
    return openError(OpenSubcode.BadBgpIdentifier, `BGP identifier ${m.bgpId >>> 0} is not a unicast address`);
  }
  // RFC 6286 §2.1: identifiers must differ within an AS; eBGP peers may share one.
  if (expect.ibgp && m.bgpId === expect.localBgpId) {
    return openError(OpenSubcode.BadBgpIdentifier, 'iBGP peer uses our own BGP identifier');
  }
  return undefined;
}
