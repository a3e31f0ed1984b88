import { type PathAttributes, encodeAttributes } from '../bgp/wire/attributes.js';
import { Writer } from '../bgp/wire/writer.js';

/**
 * Shares one PathAttributes object between every route with the same
 * attributes, so the RIB stores each set once and UPDATE packing can group
 * routes by object identity. The key is the canonical wire encoding plus the
 * next hop; sets are reference-counted and forgotten when no route uses them.
 */
export class AttrInterner {
  private readonly byKey = new Map<string, { attrs: PathAttributes; refs: number }>();
  private readonly keyOf = new WeakMap<PathAttributes, string>();
  /**
   * A decoded object found equal to an interned one maps to it, so the other
   * NLRI of the same UPDATE (which share the decoded object) skip the encoding.
   */
  private readonly alias = new WeakMap<PathAttributes, PathAttributes>();
  private readonly scratch = new Writer(1024);

  intern(a: PathAttributes): PathAttributes {
    const canonical = this.alias.get(a) ?? a;
    const known = this.keyOf.get(canonical);
    const live = known !== undefined ? this.byKey.get(known) : undefined;
    if (live && live.attrs === canonical) {
      live.refs++;
      return canonical;
    }
    const key = this.key(a);
    const entry = this.byKey.get(key);
    if (entry) {
      entry.refs++;
      if (entry.attrs !== a) this.alias.set(a, entry.attrs);
      return entry.attrs;
    }
    Object.freeze(a);
    this.byKey.set(key, { attrs: a, refs: 1 });
    this.keyOf.set(a, key);
    return a;
  }

  release(a: PathAttributes): void {
    const key = this.keyOf.get(a);
    if (key === undefined) return;
    const entry = this.byKey.get(key);
    if (entry && --entry.refs === 0) this.byKey.delete(key);
  }

  get size(): number {
    return this.byKey.size;
  }

  private key(a: PathAttributes): string {
    const w = this.scratch;
    w.reset();
    encodeAttributes(w, a, { fourOctetAs: true, withNextHop: false });
    if (a.nextHop) w.u8(a.nextHop.length).bytes(a.nextHop);
    return w.view().toString('latin1');
  }
}
