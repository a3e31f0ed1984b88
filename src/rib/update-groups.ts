import type { PathAttributes } from '../bgp/wire/attributes.js';
import { type ExportTarget, exportAttributes } from './export.js';
import type { Path } from './path.js';

/**
 * Peers whose export policy gives the same result for every path (same
 * iBGP/eBGP side, reflection role, cluster, AS and next-hop-self address)
 * form an update group. The group computes a path's outgoing attributes once
 * and hands every member the same frozen object, so the attribute block of
 * its UPDATEs is also encoded once per group (update-encode.ts keeps it), and
 * each member only packs NLRI and paces its own socket.
 */
export function updateGroupKey(t: ExportTarget): string {
  return [t.ibgp ? 'i' : 'e', t.rrClient ? 'c' : '', t.wan ? 'w' : '', t.clusterId ?? '', t.localAsn, t.localAddress.toString('hex'), t.routerId.toString('hex')].join('|');
}

export class UpdateGroup {
  readonly members = new Set<string>();
  /** Outgoing attributes per path attribute object; iBGP sources get their own (their ORIGINATOR_ID differs). */
  private readonly memo = new Map<string, WeakMap<PathAttributes, PathAttributes | null>>();

  constructor(
    readonly key: string,
    /** Any member's target: the policy is the same for all but the peer id. */
    private readonly target: ExportTarget,
  ) {}

  /** The attributes `path` is sent with to `peerId`, or null if it is not sent to it. */
  exported(path: Path, peerId: string): PathAttributes | null {
    const src = path.source;
    if (src.id === peerId) return null;
    const target = this.target.id === peerId ? this.target : { ...this.target, id: peerId };
    // Local and learned paths may share an attribute object but export differently.
    if (src.local) return freeze(exportAttributes(path, target));
    const key = `${path.family}|${src.ibgp ? src.id : ''}`;
    let cache = this.memo.get(key);
    if (!cache) {
      cache = new WeakMap();
      this.memo.set(key, cache);
    }
    let out = cache.get(path.attrs);
    if (out === undefined) {
      out = freeze(exportAttributes(path, target));
      cache.set(path.attrs, out);
    }
    return out;
  }
}

function freeze(a: PathAttributes | undefined): PathAttributes | null {
  return a === undefined ? null : Object.freeze(a);
}

/** The update groups of one speaker. */
export class UpdateGroups {
  private readonly groups = new Map<string, UpdateGroup>();

  join(peerId: string, target: ExportTarget): UpdateGroup {
    const key = updateGroupKey(target);
    let g = this.groups.get(key);
    if (!g) {
      g = new UpdateGroup(key, target);
      this.groups.set(key, g);
    }
    g.members.add(peerId);
    return g;
  }

  leave(peerId: string, group: UpdateGroup): void {
    group.members.delete(peerId);
    if (group.members.size === 0) this.groups.delete(group.key);
  }

  list(): readonly UpdateGroup[] {
    return [...this.groups.values()];
  }
}
