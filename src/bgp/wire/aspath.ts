import { AS_TRANS, AsPathSegmentType } from './constants.js';
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/** RFC 4271 §4.3: a segment is Type(1) Count(1) then Count ASNs of 2 or 4 octets. */
export interface AsPathSegment {
  readonly type: AsPathSegmentType;
  readonly asns: readonly number[];
}

export type AsPath = readonly AsPathSegment[];

export const EMPTY_AS_PATH: AsPath = Object.freeze([]);

/** Decodes AS_PATH/AS4_PATH; a string error means the attribute is malformed (RFC 7606 §7.2). */
export function decodeAsPath(r: Reader, asnBytes: 2 | 4): AsPath | string {
  const segments: AsPathSegment[] = [];
  while (r.left() > 0) {
    if (r.left() < 2) return 'truncated AS_PATH segment header';
    const type = r.u8();
    const count = r.u8();
    if (type < AsPathSegmentType.AsSet || type > AsPathSegmentType.ConfedSet) return `AS_PATH segment type ${type}`;
    if (count === 0) return 'AS_PATH segment of length zero';
    if (r.left() < count * asnBytes) return 'AS_PATH segment overruns the attribute';
    const asns = new Array<number>(count);
    for (let i = 0; i < count; i++) asns[i] = asnBytes === 4 ? r.u32() : r.u16();
    segments.push({ type, asns });
  }
  return segments;
}

/** Writes segments; ASNs over 65535 become AS_TRANS when asnBytes is 2 (RFC 6793 §4.2.2). */
export function encodeAsPath(w: Writer, path: AsPath, asnBytes: 2 | 4): void {
  for (const s of path) {
    // A segment holds at most 255 ASNs: split longer runs.
    for (let i = 0; i < s.asns.length; i += 255) {
      const part = s.asns.slice(i, i + 255);
      w.u8(s.type).u8(part.length);
      for (const a of part) {
        if (asnBytes === 4) w.u32(a);
        else w.u16(a > 0xffff ? AS_TRANS : a);
      }
    }
  }
}

/** RFC 4271 §9.1.2.2 a: an AS_SET counts as one, confederation segments as none. */
export function asPathLength(path: AsPath): number {
  let n = 0;
  for (const s of path) {
    if (s.type === AsPathSegmentType.AsSequence) n += s.asns.length;
    else if (s.type === AsPathSegmentType.AsSet) n += 1;
  }
  return n;
}

export function needsAs4(path: AsPath): boolean {
  return path.some((s) => s.asns.some((a) => a > 0xffff));
}

/** The first AS of the path: the neighbour AS for eBGP checks and MED comparison. */
export function firstAs(path: AsPath): number | undefined {
  const s = path[0];
  return s && s.type === AsPathSegmentType.AsSequence ? s.asns[0] : undefined;
}

export function prependAs(path: AsPath, asn: number): AsPath {
  const first = path[0];
  if (first && first.type === AsPathSegmentType.AsSequence && first.asns.length < 255) {
    return [{ type: AsPathSegmentType.AsSequence, asns: [asn, ...first.asns] }, ...path.slice(1)];
  }
  return [{ type: AsPathSegmentType.AsSequence, asns: [asn] }, ...path];
}

/**
 * RFC 6793 §4.2.3: rebuilds the real path from a 2-octet peer's AS_PATH and
 * AS4_PATH. When AS_PATH is the shorter, AS4_PATH is ignored; otherwise the
 * leading ASNs that AS4_PATH does not cover are taken from AS_PATH, together
 * with any confederation segment that leads or adjoins what is taken.
 */
export function mergeAs4Path(asPath: AsPath, as4Path: AsPath): AsPath {
  const n2 = asPathLength(asPath);
  const n4 = asPathLength(as4Path);
  if (n2 < n4) return asPath;
  let keep = n2 - n4;
  const head: AsPathSegment[] = [];
  for (const s of asPath) {
    if (isConfed(s)) {
      // Counts for nothing (RFC 5065 §5.3), yet must not be lost: it is the confederation's loop detection.
      head.push(s);
      continue;
    }
    if (keep === 0) break;
    if (s.type === AsPathSegmentType.AsSequence) {
      const take = Math.min(keep, s.asns.length);
      head.push(take === s.asns.length ? s : { type: s.type, asns: s.asns.slice(0, take) });
      keep -= take;
      // The rest of this segment is what AS4_PATH replaces: nothing after it adjoins the head.
      if (take < s.asns.length) break;
    } else {
      head.push(s);
      keep -= 1;
    }
  }
  const last = head[head.length - 1];
  const next = as4Path[0];
  if (last && next && last.type === AsPathSegmentType.AsSequence && next.type === AsPathSegmentType.AsSequence) {
    // One sequence, as if the ASNs had been prepended: equal paths then compare equal.
    return [...head.slice(0, -1), { type: last.type, asns: [...last.asns, ...next.asns] }, ...as4Path.slice(1)];
  }
  return [...head, ...as4Path];
}

export function isConfed(s: AsPathSegment): boolean {
  return s.type === AsPathSegmentType.ConfedSequence || s.type === AsPathSegmentType.ConfedSet;
}

/** RFC 6793 §3: AS4_PATH never carries confederation segments. */
export function withoutConfed(path: AsPath): AsPath {
  return path.some(isConfed) ? path.filter((s) => !isConfed(s)) : path;
}

export function formatAsPath(path: AsPath): string {
  return path
    .map((s) => {
      const inner = s.asns.join(' ');
      switch (s.type) {
        case AsPathSegmentType.AsSet:
          return `{${inner}}`;
        case AsPathSegmentType.ConfedSequence:
          return `(${inner})`;
        case AsPathSegmentType.ConfedSet:
          return `[${inner}]`;
        default:
          return inner;
      }
    })
    .join(' ');
}
