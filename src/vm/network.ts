/**
 * A configured network (EVPN instance) with what its routes need precomputed:
 * route targets as extended communities, labels from VNIs, and the RD of each
 * VTEP derived as RFC 7432 §7.9 says.
 */
import { ipv4ToNumber } from '../core/ip.js';
import type { NetworkConfig } from '../config/types.js';
import { type RouteDistinguisher, parseRd } from '../bgp/wire/rd.js';
import { type RouteTarget, parseRouteTarget } from '../evpn/ext-communities.js';
import { type Label, labelFromVni } from '../evpn/label.js';
import { parseMac } from '../evpn/mac.js';
import { DEFAULT_DUPLICATE_POLICY, type DuplicatePolicy } from './duplicates.js';

export class VmNetwork {
  readonly name: string;
  readonly vni: number;
  readonly routeTargets: readonly RouteTarget[];
  /** RFC 9135 §5: the IP-VRF's, carried by MAC+IP routes besides the MAC-VRF's. */
  readonly vrfRouteTargets: readonly RouteTarget[];
  /** RFC 8365 §5.1.3: with VXLAN the label fields carry the VNI. */
  readonly l2Label: Label;
  readonly l3Label?: Label;
  readonly routerMac?: Buffer;
  /** RFC 7432 §15.1 duplicate MAC detection: N moves within M seconds, optional freeze. */
  readonly duplicatePolicy: DuplicatePolicy;
  private readonly fixedRd?: RouteDistinguisher;
  private readonly rds = new Map<string, RouteDistinguisher>();

  constructor(
    readonly config: NetworkConfig,
    /** Our router id: the RD administrator for VTEPs that have no IPv4 address. */
    private readonly routerId: string,
  ) {
    this.name = config.name;
    this.vni = config.vni;
    this.routeTargets = config.routeTargets.map((t) => mustParse(parseRouteTarget(t), t));
    this.vrfRouteTargets = (config.vrfRouteTargets ?? []).map((t) => mustParse(parseRouteTarget(t), t));
    this.l2Label = labelFromVni(config.vni);
    if (config.l3Vni !== undefined) this.l3Label = labelFromVni(config.l3Vni);
    if (config.routerMac !== undefined) this.routerMac = mustParse(parseMac(config.routerMac), config.routerMac);
    if (config.rd !== undefined) this.fixedRd = mustParse(parseRd(config.rd), config.rd);
    this.duplicatePolicy = config.duplicateDetection ?? DEFAULT_DUPLICATE_POLICY;
  }

  /**
   * RFC 7432 §7.9: RD type 1, the originating VTEP's IPv4 address and the
   * EVI, so each VTEP's routes for a MAC are distinct destinations that
   * other PEs keep side by side while a move settles.
   */
  rdFor(vtep: string): RouteDistinguisher {
    if (this.fixedRd) return this.fixedRd;
    let rd = this.rds.get(vtep);
    if (!rd) {
      const admin = ipv4ToNumber(vtep) !== undefined ? vtep : this.routerId;
      rd = mustParse(parseRd(`${admin}:${this.config.evi}`), `${admin}:${this.config.evi}`);
      this.rds.set(vtep, rd);
    }
    return rd;
  }
}

/** The config loader checked these strings; failing here is a bug, not bad input. */
function mustParse<T>(r: { ok: true; value: T } | { ok: false; error: string }, text: string): T {
  if (!r.ok) throw new Error(`network config value "${text}" did not parse: ${r.error}`);
  return r.value;
}
