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
