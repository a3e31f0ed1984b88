import { type Result, err, ok } from '../../core/result.js';
import type { Capability } from '../wire/capabilities.js';
import { AS_TRANS, BGP_VERSION, CapabilityCode, ErrorCode, MAX_EXTENDED_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH, OpenSubcode } from '../wire/constants.js';
import { type FatalError, fatal } from '../wire/errors.js';
import { type FamilyKey, familyAfi, familyKey, familySafi } from '../wire/family.js';
import type { Open } from '../wire/open.js';
import { openAsn } from '../wire/open.js';
import { Writer } from '../wire/writer.js';
import { encodeCapability } from '../wire/capabilities.js';

/** What this speaker offers in its OPEN. */
export interface LocalCapabilities {
  readonly asn: number;
  readonly routerId: number;
  readonly holdTime: number;
  readonly families: readonly FamilyKey[];
  /** RFC 4724: advertised as a receiving speaker (helper) with this restart time. */
  readonly gracefulRestartTime: number;
  readonly hostname?: string;
}

/** The outcome of the OPEN exchange that the rest of the session depends on. */
export interface Negotiated {
  readonly families: ReadonlySet<FamilyKey>;
  readonly fourOctetAs: boolean;
  readonly routeRefresh: boolean;
  readonly enhancedRouteRefresh: boolean;
  /** RFC 8654 §3: only when both sides advertise it. */
  readonly maxMessageLength: number;
  /** RFC 7911: families where the peer sends path ids to us (we never ask for any yet). */
  readonly addPathReceive: ReadonlySet<FamilyKey>;
  readonly peerGracefulRestart?: Extract<Capability, { code: CapabilityCode.GracefulRestart }>;
  readonly peerRouterId: number;
  readonly peerAsn: number;
  readonly peerHostname?: string;
  readonly peerCapabilities: readonly Capability[];
}

export function buildOpen(local: LocalCapabilities): Open {
  const caps: Capability[] = local.families.map((f) => ({
    code: CapabilityCode.Multiprotocol as const,
    afi: familyAfi(f),
    safi: familySafi(f),
  }));
  caps.push(
    { code: CapabilityCode.RouteRefresh },
    { code: CapabilityCode.EnhancedRouteRefresh },
    { code: CapabilityCode.FourOctetAs, asn: local.asn },
    { code: CapabilityCode.ExtendedMessage },
    // RFC 4724 §3: no families listed = able to help a restarting peer, nothing to preserve ourselves.
    { code: CapabilityCode.GracefulRestart, restarting: false, notification: false, restartTime: local.gracefulRestartTime, families: [] },
  );
  if (local.hostname !== undefined) caps.push({ code: CapabilityCode.Fqdn, hostname: local.hostname, domain: '' });
  return {
    version: BGP_VERSION,
    myAs: local.asn > 0xffff ? AS_TRANS : local.asn,
    holdTime: local.holdTime,
    bgpId: local.routerId,
    capabilities: caps,
  };
}

/**
 * Combines our OPEN with the peer's (RFC 5492). Families are those both
 * advertised; a peer that advertises no multiprotocol capability at all is
 * taken to speak IPv4 unicast only (RFC 4760 §8). No family in common is
 * RFC 5492 §5's Unsupported Capability, with our multiprotocol capabilities
 * as data (as FRR sends it).
 */
export function negotiate(local: LocalCapabilities, peer: Open): Result<Negotiated, FatalError> {
  const has = (code: CapabilityCode): boolean => peer.capabilities.some((c) => c.code === code);
  const peerFamilies = new Set<FamilyKey>();
  for (const c of peer.capabilities) if (c.code === CapabilityCode.Multiprotocol) peerFamilies.add(familyKey(c.afi, c.safi));
  if (peerFamilies.size === 0) peerFamilies.add(familyKey(1, 1));
  const families = new Set(local.families.filter((f) => peerFamilies.has(f)));
  if (families.size === 0) {
    const w = new Writer(64);
    for (const f of local.families) encodeCapability(w, { code: CapabilityCode.Multiprotocol, afi: familyAfi(f), safi: familySafi(f) });
    return err(fatal(ErrorCode.Open, OpenSubcode.UnsupportedCapability, 'no address family in common', w.toBuffer()));
  }
  let gr: Negotiated['peerGracefulRestart'];
  let hostname: string | undefined;
  for (const c of peer.capabilities) {
    if (c.code === CapabilityCode.GracefulRestart) gr = c;
    if (c.code === CapabilityCode.Fqdn) hostname = c.hostname;
  }
  return ok({
    families,
    fourOctetAs: has(CapabilityCode.FourOctetAs),
    routeRefresh: has(CapabilityCode.RouteRefresh) || has(CapabilityCode.EnhancedRouteRefresh),
    enhancedRouteRefresh: has(CapabilityCode.EnhancedRouteRefresh),
    maxMessageLength: has(CapabilityCode.ExtendedMessage) ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH,
    addPathReceive: new Set(),
    peerGracefulRestart: gr,
    peerRouterId: peer.bgpId,
    peerAsn: openAsn(peer),
    peerHostname: hostname,
    peerCapabilities: peer.capabilities,
  });
}
