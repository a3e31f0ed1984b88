import { isScalar, isSeq } from 'yaml';
import { bytesToIp, ipToBytes } from '../core/ip.js';
import { ORIGINATE_FAMILIES, type OriginateFamily } from './families.js';
import {
  asNumber, ip, ipExpected, list, oneOf, parseIp, readMap, uint32,
  type Check, type Ctx, type IpVersion, type Val,
} from './schema.js';
import { ORIGIN_NAMES, type OriginateConfig } from './types.js';

const ORIGINATE_KEYS = ['family', 'prefix', 'next-hop', 'med', 'local-pref', 'communities', 'origin', 'as-path'];

interface Prefix {
  readonly version: IpVersion;
  readonly address: string;
  readonly length: number;
}

const prefixExpected = (version: IpVersion | undefined): string =>
  version === 4 ? 'an IPv4 prefix like 10.0.0.0/24' : version === 6 ? 'an IPv6 prefix like 2001:db8::/48' : 'an IPv4 or IPv6 prefix like 10.0.0.0/24';

function prefix(version: IpVersion | undefined, family: string | undefined): Check<Prefix> {
  const expected = prefixExpected(version) + (family ? ` (family ${family})` : '');
  return (ctx, v) => {
    const s = isScalar(v.node) ? v.node.value : undefined;
    const m = typeof s === 'string' ? /^([^/]+)\/(\d{1,3})$/.exec(s) : null;
    const addr = m?.[1] === undefined ? undefined : parseIp(m[1]);
    if (!m || !addr || (version !== undefined && addr.version !== version)) return ctx.fail(v, expected);
    const length = Number(m[2]);
    const max = addr.version === 4 ? 32 : 128;
    if (length > max) return ctx.fail(v, expected, ` (length must be 0..${max})`);
    const bytes = ipToBytes(addr.text) ?? Buffer.alloc(0);
    const masked = Buffer.from(bytes.map((b, i) => b & (0xff << Math.max(0, Math.min(8, (i + 1) * 8 - length)))));
    if (!masked.equals(bytes)) {
      ctx.report(v.offset, v.path, `host bits must be zero, got "${String(s)}" (did you mean ${bytesToIp(masked)}/${length}?)`);
      return undefined;
    }
    return { version: addr.version, address: addr.text, length };
  };
}

// RFC 1997, RFC 3765, RFC 7999, RFC 8326.
const WELL_KNOWN_COMMUNITIES = new Map<string, number>([
  ['graceful-shutdown', 0xffff0000],
  ['blackhole', 0xffff029a],
  ['no-export', 0xffffff01],
  ['no-advertise', 0xffffff02],
  ['no-export-subconfed', 0xffffff03],
  ['no-peer', 0xffffff04],
]);
const COMMUNITY_EXPECTED = `a community "AS:value" with both parts 0..65535, or one of ${[...WELL_KNOWN_COMMUNITIES.keys()].join(', ')}`;

const community: Check<number> = (ctx, v) => {
  const s = isScalar(v.node) ? v.node.value : undefined;
  if (typeof s === 'number') return uint32(ctx, v);
  const m = typeof s === 'string' ? /^(\d{1,5}):(\d{1,5})$/.exec(s) : null;
  const hi = Number(m?.[1]);
  const lo = Number(m?.[2]);
  if (m && hi <= 0xffff && lo <= 0xffff) return hi * 0x10000 + lo;
  const known = typeof s === 'string' ? WELL_KNOWN_COMMUNITIES.get(s) : undefined;
  return known ?? ctx.fail(v, COMMUNITY_EXPECTED);
};

export function readOriginate(ctx: Ctx, v: Val | undefined): OriginateConfig[] | undefined {
  if (v === undefined) return [];
  if (!isSeq(v.node)) return ctx.fail(v, 'a list of routes to originate');
  const seen = new Map<string, string>();
  const out: OriginateConfig[] = [];
  v.node.items.forEach((node, i) => {
    const r = readRoute(ctx, ctx.val(node, `${v.path}[${i}]`, v.offset), seen);
    if (r) out.push(r);
  });
  return out.length === v.node.items.length ? out : undefined;
}

function readRoute(ctx: Ctx, v: Val, seen: Map<string, string>): OriginateConfig | undefined {
  const f = readMap(ctx, v, ORIGINATE_KEYS);
  if (!f) return undefined;
  const before = ctx.errors.length;
  // Family may be left out: the prefix already says which one it is.
  const family = f.optional('family', oneOf(ORIGINATE_FAMILIES, ORIGINATE_FAMILIES.join(' or ')));
  const familyVersion = family === 'ipv4-unicast' ? 4 : family === 'ipv6-unicast' ? 6 : undefined;
  const p = f.required('prefix', prefix(familyVersion, family), prefixExpected(familyVersion));
  const prefixVal = f.get('prefix');
  const text = p && `${p.address}/${p.length}`;
  if (text && prefixVal) {
    const first = seen.get(text);
    if (first) ctx.report(prefixVal.offset, prefixVal.path, `duplicate prefix ${text}, already originated at ${first}`);
    else seen.set(text, `${v.path} (line ${ctx.lineOf(prefixVal.offset)})`);
  }
  const nextHop = f.optional('next-hop', ip(p?.version, p && `${ipExpected(p.version)} (same family as prefix ${text})`));
  const r = {
    med: f.optional('med', uint32),
    localPref: f.optional('local-pref', uint32),
    communities: f.optional('communities', list(community, `a list of communities, each ${COMMUNITY_EXPECTED}`)) ?? [],
    origin: f.optional('origin', oneOf(ORIGIN_NAMES)) ?? 'igp',
    asPath: f.optional('as-path', list(asNumber, 'a list of AS numbers 1..4294967295')) ?? [],
  };
  if (ctx.errors.length > before || p === undefined || text === undefined) return undefined;
  const resolvedFamily: OriginateFamily = p.version === 4 ? 'ipv4-unicast' : 'ipv6-unicast';
  return {
    family: resolvedFamily,
    prefix: text,
    prefixAddress: p.address,
    prefixLength: p.length,
    ...(nextHop ? { nextHop: nextHop.text } : {}),
    ...(r.med !== undefined ? { med: r.med } : {}),
    ...(r.localPref !== undefined ? { localPref: r.localPref } : {}),
    communities: r.communities,
    origin: r.origin,
    asPath: r.asPath,
  };
}
