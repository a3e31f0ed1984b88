import { isScalar, isSeq } from 'yaml';
import { formatRd, parseRd } from '../bgp/wire/rd.js';
import { formatRouteTarget, parseRouteTarget } from '../evpn/ext-communities.js';
import { formatMac, parseMac } from '../evpn/mac.js';
import type { Result } from '../core/result.js';
import { int, nonEmptyStr, readMap, type Check, type Ctx, type Val } from './schema.js';
import type { NetworkConfig } from './types.js';

const NETWORK_KEYS = ['name', 'vni', 'evi', 'l3-vni', 'vrf', 'router-mac', 'rd', 'route-targets', 'vrf-route-targets', 'duplicate-detection'];
const DUPLICATE_KEYS = ['max-moves', 'window', 'freeze'];
/** Node fires longer timers at once (2^31-1 ms). */
const MAX_FREEZE_S = 2_147_483;

const NAME_EXPECTED = 'a network name of letters, digits, "_", "." and "-"';
const VNI_EXPECTED = 'a VNI 1..16777215';
const EVI_EXPECTED = 'an EVI 1..65535 (the 16-bit number of the RD, RFC 7432 §7.9)';
const RT_EXPECTED = 'a non-empty list of route targets like "65000:100" or "192.0.2.1:100"';

const networkName: Check<string> = (ctx, v) => {
  const s = isScalar(v.node) ? v.node.value : undefined;
  return typeof s === 'string' && /^[A-Za-z0-9_.-]+$/.test(s) ? s : ctx.fail(v, NAME_EXPECTED);
};

export const vni = int(1, 16777215, VNI_EXPECTED);
const evi = int(1, 65535, EVI_EXPECTED);

/** Parses text with a Result-returning parser; its message says what is wrong. */
function parsed<T>(parse: (s: string) => Result<T, string>, expected: string): Check<T> {
  return (ctx, v) => {
    const s = isScalar(v.node) ? v.node.value : undefined;
    if (typeof s !== 'string') return ctx.fail(v, expected);
    const r = parse(s);
    if (r.ok) return r.value;
    ctx.report(v.offset, v.path, `${r.error}; expected ${expected}`);
    return undefined;
  };
}

export const routerMac: Check<string> = (ctx, v) => {
  const mac = parsed(parseMac, 'a MAC address like 52:54:00:aa:bb:01')(ctx, v);
  return mac && formatMac(mac);
};

export const rd: Check<string> = (ctx, v) => {
  const r = parsed(parseRd, 'a route distinguisher like "65000:100" or "192.0.2.1:100"')(ctx, v);
  return r && formatRd(r);
};

/** Canonical texts; the same target written twice is a typo. */
export const routeTargets: Check<string[]> = (ctx, v) => {
  if (!isSeq(v.node) || v.node.items.length === 0) return ctx.fail(v, RT_EXPECTED);
  const out: string[] = [];
  let ok = true;
  v.node.items.forEach((node, i) => {
    const item = ctx.val(node, `${v.path}[${i}]`, v.offset);
    const rt = parsed(parseRouteTarget, 'a route target like "65000:100" or "192.0.2.1:100"')(ctx, item);
    const text = rt && formatRouteTarget(rt);
    if (text === undefined) ok = false;
    else if (out.includes(text)) {
      ok = false;
      ctx.report(item.offset, item.path, `duplicate route target ${text}`);
    } else out.push(text);
  });
  return ok ? out : undefined;
};

/**
 * RFC 7432 §15.1 N and M (defaults 5 and 180 s) and how long a duplicate
 * MAC stays unadvertised (absent: until ClearDuplicate).
 */
const duplicateDetection: Check<NonNullable<NetworkConfig['duplicateDetection']>> = (ctx, v) => {
  const f = readMap(ctx, v, DUPLICATE_KEYS);
  if (!f) return undefined;
  const maxMoves = f.optional('max-moves', int(2, 1000, 'a number of moves 2..1000')) ?? 5;
  const window = f.optional('window', int(1, 86400, 'seconds 1..86400')) ?? 180;
  const freeze = f.optional('freeze', int(1, MAX_FREEZE_S, `seconds 1..${MAX_FREEZE_S}`));
  return { maxMoves, windowMs: window * 1000, ...(freeze !== undefined ? { freezeMs: freeze * 1000 } : {}) };
};

/** What the networks section resolved to. */
export interface Networks {
  /** Undefined when any network has an error (already reported). */
  readonly networks: NetworkConfig[] | undefined;
  /**
   * Every name that was read, also from networks with other errors, so
   * references to them are checked; undefined when `networks:` is not a list.
   */
  readonly names: ReadonlySet<string> | undefined;
}

/** Where a value was first seen, for "already ..." messages. */
type Seen = Map<number | string, string>;

interface State {
  readonly names: Set<string>;
  readonly name: Seen;
  readonly vni: Seen;
  readonly evi: Seen;
  readonly rd: Seen;
  /** Checked against every L2 VNI once all are known. */
  readonly l3Vnis: { readonly vni: number; readonly at: Val }[];
}

/**
 * `networks:`, with RD and RTs auto-derived as RFC 7432 §7.9 and RFC 8365
 * §5.1.2.1 describe. `asn` is undefined when the asn field is itself invalid.
 */
export function readNetworks(ctx: Ctx, v: Val | undefined, asn: number | undefined): Networks {
  if (v === undefined) return { networks: [], names: new Set() };
  if (!isSeq(v.node)) {
    ctx.fail(v, 'a list of networks such as - { name: blue, vni: 10100 }');
    return { networks: undefined, names: undefined };
  }
  const s: State = { names: new Set(), name: new Map(), vni: new Map(), evi: new Map(), rd: new Map(), l3Vnis: [] };
  const out: NetworkConfig[] = [];
  v.node.items.forEach((node, i) => {
    const n = readNetwork(ctx, ctx.val(node, `${v.path}[${i}]`, v.offset), asn, s);
    if (n) out.push(n);
  });
  // An L3 VNI names a VRF's routes (RFC 9135 label 2): it cannot also be a bridge domain.
  let ok = out.length === v.node.items.length;
  for (const { vni: l3, at } of s.l3Vnis) {
    const owner = s.vni.get(l3);
    if (owner === undefined) continue;
    ok = false;
    ctx.report(at.offset, at.path, `l3-vni ${l3} is already the vni of ${owner}: an L3 VNI needs a VNI of its own`);
  }
  return { networks: ok ? out : undefined, names: s.names };
}

/** Records `key` as first seen at `where`, or reports the clash at `at`. */
function unique(ctx: Ctx, seen: Seen, key: number | string, at: Val, what: string, where: string): boolean {
  const first = seen.get(key);
  if (first === undefined) {
    seen.set(key, where);
    return true;
  }
  ctx.report(at.offset, at.path, `duplicate ${what}, already used by ${first}`);
  return false;
}

function readNetwork(ctx: Ctx, v: Val, asn: number | undefined, seen: State): NetworkConfig | undefined {
  const f = readMap(ctx, v, NETWORK_KEYS);
  if (!f) return undefined;
  const before = ctx.errors.length;
  const name = f.required('name', networkName, NAME_EXPECTED);
  const nameVal = f.get('name');
  const line = ctx.lineOf((nameVal ?? v).offset);
  const where = `${name === undefined ? v.path : `network ${name}`} (line ${line})`;
  if (name !== undefined && nameVal) {
    if (unique(ctx, seen.name, name, nameVal, `network name "${name}"`, `${v.path} (line ${line})`)) seen.names.add(name);
  }

  const l2 = f.required('vni', vni, VNI_EXPECTED);
  const vniVal = f.get('vni');
  if (l2 !== undefined && vniVal) unique(ctx, seen.vni, l2, vniVal, `vni ${l2}`, where);

  // RFC 7432 §7.9: the auto RD is type 1, VTEP-IP:number, and the number has 16 bits.
  let e = f.optional('evi', evi);
  const eviVal = f.get('evi') ?? vniVal;
  if (e === undefined && f.get('evi') === undefined && l2 !== undefined && vniVal) {
    if (l2 <= 0xffff) e = l2;
    else ctx.report(vniVal.offset, vniVal.path, `vni ${l2} does not fit the 16-bit RD number: set evi (1..65535)`);
  }
  if (e !== undefined && eviVal) {
    unique(ctx, seen.evi, e, eviVal, `evi ${e}${f.get('evi') ? '' : ' (the vni, as evi is not set)'}`, where);
  }

  const l3Vni = f.optional('l3-vni', vni);
  const l3VniVal = f.get('l3-vni');
  if (l3Vni !== undefined && l3VniVal) seen.l3Vnis.push({ vni: l3Vni, at: l3VniVal });
  const vrf = f.optional('vrf', nonEmptyStr);
  const mac = f.optional('router-mac', routerMac);
  const fixedRd = f.optional('rd', rd);
  const rdVal = f.get('rd');
  if (fixedRd !== undefined && rdVal) unique(ctx, seen.rd, fixedRd, rdVal, `rd ${fixedRd}`, where);

  let rts = f.optional('route-targets', routeTargets);
  if (f.get('route-targets') === undefined && asn !== undefined && l2 !== undefined) {
    // RFC 8365 §5.1.2.1: RT = asn:VNI. A 4-octet AS leaves only 16 bits for the VNI.
    const auto = parseRouteTarget(`${asn}:${l2}`);
    if (auto.ok) rts = [formatRouteTarget(auto.value)];
    else {
      const why = `a route target with a 4-octet AS has a 16-bit number and vni ${l2} is larger`;
      ctx.report(v.offset, v.path, `cannot derive the route target ${asn}:${l2} (${why}): set route-targets`);
    }
  }

  const duplicates = f.optional('duplicate-detection', duplicateDetection);

  // RFC 9135 §5 symmetric IRB: MAC+IP routes carry the IP-VRF's route targets and the Router's MAC too.
  let vrfRts = f.optional('vrf-route-targets', routeTargets);
  if (l3Vni === undefined) {
    const extra = f.get('vrf-route-targets');
    if (extra) ctx.report(extra.offset, extra.path, 'only meaningful with l3-vni (symmetric IRB, RFC 9135): set l3-vni or remove it');
  } else {
    if (mac === undefined && f.get('router-mac') === undefined && l3VniVal) {
      ctx.report(l3VniVal.offset, l3VniVal.path, 'l3-vni needs router-mac: remote PEs route to the VRF through that MAC (RFC 9135 §8.1)');
    }
    if (f.get('vrf-route-targets') === undefined && asn !== undefined) {
      const auto = parseRouteTarget(`${asn}:${l3Vni}`);
      if (auto.ok) vrfRts = [formatRouteTarget(auto.value)];
      else if (l3VniVal) ctx.report(l3VniVal.offset, l3VniVal.path, `cannot derive the VRF route target ${asn}:${l3Vni}: set vrf-route-targets`);
    }
  }

  if (ctx.errors.length > before || name === undefined || l2 === undefined || e === undefined || rts === undefined) return undefined;
  return {
    name,
    vni: l2,
    evi: e,
    ...(l3Vni !== undefined ? { l3Vni } : {}),
    ...(vrf !== undefined ? { vrf } : {}),
    ...(mac !== undefined ? { routerMac: mac } : {}),
    ...(fixedRd !== undefined ? { rd: fixedRd } : {}),
    routeTargets: rts,
    ...(duplicates !== undefined ? { duplicateDetection: duplicates } : {}),
    ...(vrfRts !== undefined ? { vrfRouteTargets: vrfRts } : {}),
  };
}
