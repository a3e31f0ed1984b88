import type { LogLevel } from '../core/log.js';
import type { FamilyName, OriginateFamily } from './families.js';

/** The daemon's configuration with every default filled in. */
export interface Config {
  readonly routerId: string;
  /** router-id as the 32-bit BGP Identifier (RFC 6286), never 0. */
  readonly routerIdNumber: number;
  /** RFC 4456 §7 CLUSTER_ID as a 32-bit number; the router id unless configured. */
  readonly clusterId: number;
  readonly asn: number;
  readonly listen: ListenConfig;
  /** Prometheus /metrics over HTTP. */
  readonly metrics: ListenConfig;
  /** Global default; each neighbor carries its resolved value. */
  readonly holdTime: number;
  readonly connectRetry: number;
  readonly logLevel: LogLevel;
  readonly neighbors: readonly NeighborConfig[];
  readonly originate: readonly OriginateConfig[];
  /** Layer-2 networks (EVPN instances) VMs are announced into. */
  readonly networks: readonly NetworkConfig[];
  /** Directory of the durable VM store; absent: VM state is kept in memory only. */
  readonly store?: string;
  readonly api: ApiConfig;
  /** A prepared VM migration neither committed nor aborted within this is aborted. */
  readonly migrationTimeoutMs: number;
  /** Present: vmmi re-originates VM host routes of these VRFs towards the WAN (RFC 9014). */
  readonly dcGateway?: DcGatewayConfig;
}

export interface DcGatewayConfig {
  /** The gateway's address: the next hop of its type-5 and VPN routes. */
  readonly nextHop: string;
  /** RFC 9135 §8.1 Router's MAC on its type-5 routes, lower-case colon form. */
  readonly routerMac?: string;
  readonly vrfs: readonly GatewayVrfConfig[];
}

/** An IP-VRF: networks with `vrf: <name>` feed it their VMs' addresses. */
export interface GatewayVrfConfig {
  readonly name: string;
  /** "ASN:n" or "IPv4:n", canonical. */
  readonly rd: string;
  /** Export route targets, canonical text. */
  readonly routeTargets: readonly string[];
  /** Label of its type-5 routes (VXLAN: the L3 VNI). */
  readonly l3Vni: number;
  /** MPLS label of its VPNv4/VPNv6 routes. */
  readonly label: number;
  /** Aggregates, always originated: where remote users go when no host route is more specific. */
  readonly subnets: readonly string[];
}

/**
 * An EVPN instance (RFC 7432 §7.9, RFC 8365 §5.1.2.1). RD and RTs default to
 * the usual auto-derivation: RD type 1 `VTEP:EVI` per VTEP, RT `asn:VNI`.
 */
export interface NetworkConfig {
  readonly name: string;
  /** L2 VNI, 1..16777215: label 1 of its type-2/type-3 routes. */
  readonly vni: number;
  /** 1..65535, the RD's assigned number; `evi:` or the VNI when it fits in 16 bits. */
  readonly evi: number;
  /** Symmetric IRB (RFC 9135): L3 VNI carried as label 2 of MAC+IP routes. */
  readonly l3Vni?: number;
  readonly vrf?: string;
  /** RFC 9135 §8.1 Router's MAC, lower-case colon form; sent only with an L3 VNI. */
  readonly routerMac?: string;
  /** A fixed RD ("ASN:n" or "IPv4:n") used for every VTEP instead of `VTEP:EVI`. */
  readonly rd?: string;
  /** Route targets as "ASN:n" or "IPv4:n"; default [`asn:vni`]. */
  readonly routeTargets: readonly string[];
  /** The IP-VRF's route targets, with an L3 VNI: default [`asn:l3-vni`] (RFC 9135 §5). */
  readonly vrfRouteTargets?: readonly string[];
  /** RFC 7432 §15.1: absent = 5 moves within 180 s, no freeze (until cleared). */
  readonly duplicateDetection?: {
    readonly maxMoves: number;
    readonly windowMs: number;
    /** Absent: frozen until ClearDuplicate. */
    readonly freezeMs?: number;
  };
}

export interface ApiConfig {
  /** Off only when `api: { listen: false }`. */
  readonly enabled: boolean;
  readonly address: string;
  /** 0 asks the OS for an ephemeral port. */
  readonly port: number;
  /** Absent: plain text, which the loader accepts only on a loopback address. */
  readonly tls?: TlsConfig;
  readonly agents: readonly AgentConfig[];
  /** Identities (certificate CN/DNS SAN or token names) allowed the ControlService. */
  readonly operators: readonly string[];
  /** Bearer tokens: `authorization: Bearer <token>` authenticates as `name`. */
  readonly tokens: readonly TokenConfig[];
  /**
   * Callers with neither certificate nor token. Allowed only on a plain-text
   * loopback API, where they act as operator and as an agent for every
   * network and every configured VTEP (like a local vtysh user).
   */
  readonly allowAnonymous: boolean;
  /** Events buffered per watch stream before it is ended with RESOURCE_EXHAUSTED. */
  readonly watchBuffer: number;
}

export interface TlsConfig {
  /** Absolute paths (relative ones in the file are resolved against the config file's folder). */
  readonly cert: string;
  readonly key: string;
  /** Present: client certificates are required and verified against this CA (mTLS). */
  readonly clientCa?: string;
}

/** A hypervisor agent and what it may speak for. */
export interface AgentConfig {
  /** Certificate CN / DNS SAN, or a token name. */
  readonly name: string;
  /** VTEP addresses in canonical form. */
  readonly vteps: readonly string[];
  /** Network names. */
  readonly networks: readonly string[];
}

export interface TokenConfig {
  readonly name: string;
  /** The secret itself (from `token:` or read from `token-file:`). */
  readonly token: string;
}

export interface ListenConfig {
  readonly enabled: boolean;
  readonly address: string;
  /** 0 asks the OS for an ephemeral port. */
  readonly port: number;
}

export interface NeighborConfig {
  /** IPv4 dotted quad or IPv6 in RFC 5952 form, as `socket.remoteAddress` reports it. */
  readonly address: string;
  readonly remoteAs: number;
  /** remoteAs equals the local asn. */
  readonly ibgp: boolean;
  readonly port: number;
  /** Same family as `address`. */
  readonly localAddress?: string;
  readonly passive: boolean;
  /** 0 or 3..65535 seconds. */
  readonly holdTime: number;
  readonly connectRetry: number;
  readonly families: readonly [FamilyName, ...FamilyName[]];
  /** RFC 4456: routes from other iBGP peers are reflected to this one (iBGP only). */
  readonly routeReflectorClient: boolean;
  readonly description?: string;
  /** RFC 9003 Cease communication, at most 255 UTF-8 bytes. */
  readonly shutdownMessage?: string;
}

export const ORIGIN_NAMES = ['igp', 'egp', 'incomplete'] as const;
export type OriginName = (typeof ORIGIN_NAMES)[number];

export interface OriginateConfig {
  readonly family: OriginateFamily;
  /** Canonical `address/length`. */
  readonly prefix: string;
  readonly prefixAddress: string;
  readonly prefixLength: number;
  /** Absent: the session's local address (next-hop-self). */
  readonly nextHop?: string;
  readonly med?: number;
  readonly localPref?: number;
  /** RFC 1997 communities as 32-bit values (high 16 bits: AS). */
  readonly communities: readonly number[];
  readonly origin: OriginName;
  readonly asPath: readonly number[];
}
