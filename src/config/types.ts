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
