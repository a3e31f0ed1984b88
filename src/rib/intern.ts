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
  private readonly scratch = new Writer(1024);

  intern(a: PathAttributes): PathAttributes {
    const known = this.keyOf.get(a);
    if (known !== undefined) {
      this.byKey.get(known)!.refs++;
      return a;
    }
    const key = this.key(a);
    const entry = this.byKey.get(key);
    if (entry) {
      entry.refs++;
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
