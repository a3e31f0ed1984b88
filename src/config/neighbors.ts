import { isSeq } from 'yaml';
import { FAMILY_NAMES, type FamilyName } from './families.js';
import {
  AS_EXPECTED, IP_EXPECTED, asNumber, bool, connectRetry, holdTime, int, ip, ipExpected, list, oneOf, readMap, str,
  type Check, type Ctx, type Val,
} from './schema.js';
import type { NeighborConfig } from './types.js';

const NEIGHBOR_KEYS = [
  'address', 'remote-as', 'port', 'local-address', 'passive', 'hold-time', 'connect-retry', 'families', 'description',
  'shutdown-message', 'route-reflector-client',
];

export interface NeighborDefaults {
  /** Undefined when the global asn is itself invalid (already reported). */
  readonly asn: number | undefined;
  readonly holdTime: number;
  readonly connectRetry: number;
}

type Families = [FamilyName, ...FamilyName[]];
const FAMILIES_EXPECTED = `a non-empty list of families (${FAMILY_NAMES.join(', ')})`;

const families: Check<Families> = (ctx, v) => {
  const names = list(oneOf(FAMILY_NAMES), FAMILIES_EXPECTED)(ctx, v);
  if (names === undefined || !isSeq(v.node)) return undefined;
  const [first, ...rest] = names;
  if (first === undefined) return ctx.fail(v, FAMILIES_EXPECTED);
  let ok = true;
  names.forEach((name, i) => {
    if (names.indexOf(name) === i) return;
    ok = false;
    const item = ctx.val(isSeq(v.node) ? v.node.items[i] : undefined, `${v.path}[${i}]`, v.offset);
    ctx.report(item.offset, item.path, `duplicate family "${name}"`);
  });
  return ok ? [first, ...rest] : undefined;
};

/** RFC 9003 §2: the Shutdown Communication length is one octet. */
const shutdownMessage: Check<string> = (ctx, v) => {
  const s = str(ctx, v);
  if (s === undefined) return undefined;
  const bytes = Buffer.byteLength(s, 'utf8');
  return bytes <= 255 ? s : ctx.fail(v, 'at most 255 UTF-8 bytes (RFC 9003)', ` (${bytes} bytes)`);
};

export function readNeighbors(ctx: Ctx, v: Val | undefined, d: NeighborDefaults): NeighborConfig[] | undefined {
  if (v === undefined) return [];
  if (!isSeq(v.node)) return ctx.fail(v, 'a list of neighbors');
  const seen = new Map<string, string>();
  const out: NeighborConfig[] = [];
  v.node.items.forEach((node, i) => {
    const n = readNeighbor(ctx, ctx.val(node, `${v.path}[${i}]`, v.offset), d, seen);
    if (n) out.push(n);
  });
  return out.length === v.node.items.length ? out : undefined;
}

function readNeighbor(ctx: Ctx, v: Val, d: NeighborDefaults, seen: Map<string, string>): NeighborConfig | undefined {
  const f = readMap(ctx, v, NEIGHBOR_KEYS);
  if (!f) return undefined;
  const before = ctx.errors.length;
  const address = f.required('address', ip(), IP_EXPECTED);
  const addressVal = f.get('address');
  if (address && addressVal) {
    const where = `${v.path} (line ${ctx.lineOf(addressVal.offset)})`;
    const first = seen.get(address.text);
    if (first) ctx.report(addressVal.offset, addressVal.path, `duplicate neighbor ${address.text}, already configured at ${first}`);
    else seen.set(address.text, where);
  }
  const remoteAs = f.required('remote-as', asNumber, AS_EXPECTED);
  const sameFamily = address && `${ipExpected(address.version)} (same family as address ${address.text})`;
  const localAddress = f.optional('local-address', ip(address?.version, sameFamily));
  const n = {
    port: f.optional('port', int(1, 65535, 'a port 1..65535')) ?? 179,
    passive: f.optional('passive', bool) ?? false,
    holdTime: f.optional('hold-time', holdTime) ?? d.holdTime,
    connectRetry: f.optional('connect-retry', connectRetry) ?? d.connectRetry,
    families: f.optional('families', families) ?? (['ipv4-unicast'] satisfies Families),
    description: f.optional('description', str),
    shutdownMessage: f.optional('shutdown-message', shutdownMessage),
    rrClient: f.optional('route-reflector-client', bool) ?? false,
  };
  const rrVal = f.get('route-reflector-client');
  if (n.rrClient && remoteAs !== undefined && d.asn !== undefined && remoteAs !== d.asn && rrVal) {
    ctx.report(rrVal.offset, rrVal.path, 'route-reflector-client applies to iBGP neighbors only (RFC 4456: remote-as must equal asn)');
  }
  if (ctx.errors.length > before || address === undefined || remoteAs === undefined) return undefined;
  return {
    address: address.text,
    remoteAs,
    ibgp: remoteAs === d.asn,
    port: n.port,
    ...(localAddress ? { localAddress: localAddress.text } : {}),
    passive: n.passive,
    holdTime: n.holdTime,
    connectRetry: n.connectRetry,
    families: n.families,
    routeReflectorClient: n.rrClient,
    ...(n.description !== undefined ? { description: n.description } : {}),
    ...(n.shutdownMessage !== undefined ? { shutdownMessage: n.shutdownMessage } : {}),
  };
}
