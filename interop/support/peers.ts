/** Reading FRR's and GoBGP's JSON in interop tests. */
import { type FrrHandle, type GobgpHandle, waitFor } from '../harness/index.js';

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The first path FRR has for a prefix, from `show bgp <afi> unicast <prefix> json`. */
export async function frrPath(frr: FrrHandle, afi: 'ipv4' | 'ipv6', prefix: string): Promise<Record<string, unknown> | undefined> {
  const j = await frr.json(`show bgp ${afi} unicast ${prefix} json`);
  if (!isRecord(j) || !Array.isArray(j.paths)) return undefined;
  const p: unknown = j.paths[0];
  return isRecord(p) ? p : undefined;
}

export function frrNextHop(p: Record<string, unknown>): unknown {
  return Array.isArray(p.nexthops) && isRecord(p.nexthops[0]) ? p.nexthops[0].ip : undefined;
}

export async function frrEstablished(frr: FrrHandle, peer: string): Promise<void> {
  await waitFor(
    async () => {
      const j = await frr.json(`show bgp neighbors ${peer} json`);
      return isRecord(j) && isRecord(j[peer]) ? j[peer].bgpState : undefined;
    },
    { what: `FRR → ${peer} Established`, until: (s) => s === 'Established', timeoutMs: 20_000 },
  );
}

/** The attributes of GoBGP's best path for a prefix, keyed by attribute type code. */
export async function gobgpAttrs(g: GobgpHandle, afi: 'ipv4' | 'ipv6', prefix: string): Promise<Map<number, Record<string, unknown>> | undefined> {
  const rib = await g.json(['global', 'rib', '-a', afi]);
  if (!isRecord(rib) || !Array.isArray(rib[prefix])) return undefined;
  const best = (rib[prefix] as unknown[]).find((p) => isRecord(p) && p.best === true);
  if (!isRecord(best) || !Array.isArray(best.attrs)) return undefined;
  const out = new Map<number, Record<string, unknown>>();
  for (const a of best.attrs as unknown[]) if (isRecord(a) && typeof a.type === 'number') out.set(a.type, a);
  return out;
}

export async function gobgpEstablished(g: GobgpHandle, peer: string): Promise<void> {
  await waitFor(
    async () => {
      const j = await g.json(['neighbor']);
      if (!Array.isArray(j)) return undefined;
      for (const p of j as unknown[]) if (isRecord(p) && isRecord(p.state) && p.state.neighbor_address === peer) return p.state.session_state;
      return undefined;
    },
    // GoBGP's API enum: 6 is ESTABLISHED.
    { what: `GoBGP → ${peer} Established`, until: (s) => s === 6, timeoutMs: 20_000 },
  );
}

// EVPN and L3VPN ------------------------------------------------------------------

/** One EVPN route in FRR's table: the prefix-level fields (routeType, ethTag, mac, ip, ...) and its paths. */
export interface FrrEvpnRoute {
  readonly rd: string;
  readonly prefix: string;
  readonly fields: Record<string, unknown>;
  readonly paths: Record<string, unknown>[];
}

/**
 * Paths of an FRR detail answer. `show bgp l2vpn evpn route detail json` and
 * `... route rd RD mac M ip I json` give each path as a one-element array; the
 * non-detail forms give plain objects. Both are accepted.
 */
function frrPaths(v: unknown): Record<string, unknown>[] {
  if (!Array.isArray(v)) return [];
  return (v as unknown[]).flatMap((p) => (Array.isArray(p) ? (p as unknown[]) : [p])).filter(isRecord);
}

/** Every RD → prefix entry of an FRR EVPN JSON answer (`route detail json`, `route rd ... json`). */
export function frrEvpnEntries(j: unknown): FrrEvpnRoute[] {
  if (!isRecord(j)) return [];
  const out: FrrEvpnRoute[] = [];
  for (const [rd, byPrefix] of Object.entries(j)) {
    if (!isRecord(byPrefix)) continue;
    for (const [prefix, entry] of Object.entries(byPrefix)) {
      if (!isRecord(entry) || !Array.isArray(entry.paths)) continue;
      out.push({ rd, prefix, fields: entry, paths: frrPaths(entry.paths) });
    }
  }
  return out;
}

/** FRR's whole EVPN table with path detail. */
export async function frrEvpnRoutes(frr: FrrHandle): Promise<FrrEvpnRoute[]> {
  return frrEvpnEntries(await frr.json('show bgp l2vpn evpn route detail json'));
}

/**
 * The route with this RD and prefix text, e.g. "[3]:[0]:[32]:[10.0.0.1]". FRR 8.4
 * appends fields of its own to some ("[1]:[tag]:[esi]:[32]:[0.0.0.0]:[0]"), so a
 * prefix that continues with ":" after the given text matches too.
 */
export async function frrEvpnRoute(frr: FrrHandle, rd: string, prefix: string): Promise<FrrEvpnRoute | undefined> {
  return (await frrEvpnRoutes(frr)).find((r) => r.rd === rd && (r.prefix === prefix || r.prefix.startsWith(`${prefix}:`)));
}

/**
 * FRR's paths for one MAC/IP, from `show bgp l2vpn evpn route rd RD mac M ip I json`.
 * That answer has no RD level: { rd, routeType, mac, ..., "[2]:...": [[path], ...], numPaths }.
 */
export async function frrMacIpPaths(frr: FrrHandle, rd: string, mac: string, ip: string): Promise<Record<string, unknown>[]> {
  const j = await frr.json(`show bgp l2vpn evpn route rd ${rd} mac ${mac} ip ${ip} json`);
  if (!isRecord(j)) return [];
  return Object.entries(j).flatMap(([k, v]) => (k.startsWith('[2]:') ? frrPaths(v) : []));
}

/**
 * The communities of `extendedCommunity.string`, one string each: "RT:65000:100",
 * "ET:8", "Rmac:52:54:00:00:00:01", "ES-Import-Rt:11:22:33:44:55:66", "MM:7".
 * Split before each "Name:" so that "MM:7, sticky MAC" stays one item.
 */
export function frrExtCommunities(path: Record<string, unknown>): string[] {
  const ec = path.extendedCommunity;
  if (!isRecord(ec) || typeof ec.string !== 'string') return [];
  return ec.string.trim().split(/\s+(?=[A-Za-z][A-Za-z-]*:)/).filter((s) => s !== '');
}

/** RFC 7432 §7.7 sequence number FRR shows only inside the community string ("MM:7"). */
export function frrMacMobilitySeq(path: Record<string, unknown>): number | undefined {
  const mm = frrExtCommunities(path).find((c) => c.startsWith('MM:'));
  return mm === undefined ? undefined : Number.parseInt(mm.slice(3), 10);
}

export function frrClusterList(path: Record<string, unknown>): unknown {
  return isRecord(path.clusterList) ? path.clusterList.list : undefined;
}

/** The first path FRR has for a VPN prefix under one RD, from `show bgp ipv4|ipv6 vpn PREFIX json` (has `remoteLabel`). */
export async function frrVpnPath(frr: FrrHandle, afi: 'ipv4' | 'ipv6', rd: string, prefix: string): Promise<Record<string, unknown> | undefined> {
  const j = await frr.json(`show bgp ${afi} vpn ${prefix} json`);
  if (!isRecord(j) || !isRecord(j[rd])) return undefined;
  return frrPaths(j[rd].paths)[0];
}

/** GoBGP's best path for one destination: its NLRI as GoBGP decodes it and its attributes by type code. */
export interface GobgpBest {
  readonly nlri: Record<string, unknown>;
  readonly attrs: Map<number, Record<string, unknown>>;
}

/**
 * Best paths of `gobgp global rib -a FAMILY -j`, by GoBGP's destination key
 * ("[type:Prefix][rd:65000:30][etag:7][prefix:10.30.0.0/24]", "65000:9:10.9.0.0/24").
 */
export async function gobgpRib(g: GobgpHandle, family: 'evpn' | 'vpnv4' | 'vpnv6'): Promise<Map<string, GobgpBest>> {
  const rib = await g.json(['global', 'rib', '-a', family]);
  const out = new Map<string, GobgpBest>();
  if (!isRecord(rib)) return out;
  for (const [key, paths] of Object.entries(rib)) {
    if (!Array.isArray(paths)) continue;
    const best = (paths as unknown[]).find((p) => isRecord(p) && p.best === true);
    if (!isRecord(best) || !isRecord(best.nlri) || !Array.isArray(best.attrs)) continue;
    const attrs = new Map<number, Record<string, unknown>>();
    for (const a of best.attrs as unknown[]) if (isRecord(a) && typeof a.type === 'number') attrs.set(a.type, a);
    out.set(key, { nlri: best.nlri, attrs });
  }
  return out;
}
