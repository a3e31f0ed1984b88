import type { PathAttributes } from '../../src/bgp/wire/attributes.js';
import { AsPathSegmentType, Origin } from '../../src/bgp/wire/constants.js';
import { IPV4_UNICAST } from '../../src/bgp/wire/family.js';
import { parsePrefix } from '../../src/bgp/wire/prefix.js';
import type { Nlri } from '../../src/bgp/wire/nlri.js';
import type { Path, PathSource } from '../../src/rib/path.js';

export function prefix(text: string): Nlri {
  const p = parsePrefix(text);
  if (!p.ok) throw new Error(p.error);
  return p.value;
}

export function source(id: string, o: Partial<PathSource> = {}): PathSource {
  const [a, b, c, d] = id.split('.').map(Number);
  return {
    id,
    address: Buffer.from([a ?? 0, b ?? 0, c ?? 0, d ?? 0]),
    routerId: ((a ?? 0) * 2 ** 24 + (b ?? 0) * 65536 + (c ?? 0) * 256 + (d ?? 0)) >>> 0,
    asn: 65001,
    ibgp: false,
    local: false,
    rrClient: false,
    ...o,
  };
}

export function attrs(o: Partial<PathAttributes> & { path?: number[] } = {}): PathAttributes {
  const { path, ...rest } = o;
  return {
    origin: Origin.Igp,
    asPath: [{ type: AsPathSegmentType.AsSequence, asns: path ?? [65001] }],
    nextHop: Buffer.from([10, 0, 0, 1]),
    ...rest,
  };
}

export function mkPath(src: PathSource, a: PathAttributes, nlri = prefix('10.0.0.0/24')): Path {
  return { family: IPV4_UNICAST, nlri, attrs: a, source: src, stale: false };
}
