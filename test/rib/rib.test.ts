import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IPV4_UNICAST } from '../../src/bgp/wire/family.js';
import { type BestChange, Rib } from '../../src/rib/rib.js';
import { attrs, prefix, source } from './support.js';

function recorder(rib: Rib): BestChange[] {
  const seen: BestChange[] = [];
  rib.changes$.subscribe((c) => seen.push(c));
  return seen;
}

test('announce, replace, withdraw: best changes are reported once each', () => {
  const rib = new Rib();
  const seen = recorder(rib);
  const a = source('1.1.1.1');
  const b = source('2.2.2.2');
  const n = prefix('10.1.0.0/24');
  rib.announce(a, IPV4_UNICAST, n, attrs({ path: [65001, 65002] }));
  rib.announce(b, IPV4_UNICAST, n, attrs({ path: [65003] }));
  assert.equal(rib.best(IPV4_UNICAST, n.key)?.source, b, 'shorter AS path');
  assert.equal(seen.length, 2);
  // Same attributes again from b: nothing changes, nothing is reported.
  rib.announce(b, IPV4_UNICAST, n, attrs({ path: [65003] }));
  assert.equal(seen.length, 2);
  assert.equal(rib.destination(IPV4_UNICAST, n.key)?.paths.length, 2);
  // b replaces its path with a longer one (implicit withdraw): a wins.
  rib.announce(b, IPV4_UNICAST, n, attrs({ path: [65003, 1, 2] }));
  assert.equal(rib.best(IPV4_UNICAST, n.key)?.source, a);
  assert.equal(rib.destination(IPV4_UNICAST, n.key)?.paths.length, 2);
  rib.withdraw('1.1.1.1', IPV4_UNICAST, n);
  assert.equal(rib.best(IPV4_UNICAST, n.key)?.source, b);
  rib.withdraw('2.2.2.2', IPV4_UNICAST, n);
  assert.equal(rib.destination(IPV4_UNICAST, n.key), undefined);
  assert.equal(seen.at(-1)?.best, undefined);
  assert.equal(rib.count(IPV4_UNICAST), 0);
  assert.equal(rib.interner.size, 0, 'attribute sets are released with their last path');
});

test('equal attribute sets from different UPDATEs share one object', () => {
  const rib = new Rib();
  rib.announce(source('1.1.1.1'), IPV4_UNICAST, prefix('10.1.0.0/24'), attrs({ med: 5 }));
  rib.announce(source('1.1.1.1'), IPV4_UNICAST, prefix('10.2.0.0/24'), attrs({ med: 5 }));
  rib.announce(source('1.1.1.1'), IPV4_UNICAST, prefix('10.3.0.0/24'), attrs({ med: 6 }));
  const x = rib.best(IPV4_UNICAST, prefix('10.1.0.0/24').key)!.attrs;
  const y = rib.best(IPV4_UNICAST, prefix('10.2.0.0/24').key)!.attrs;
  assert.equal(x, y);
  assert.equal(rib.interner.size, 2);
  assert.ok(Object.isFrozen(x));
});

test('dropSource removes only that source and reports new bests', () => {
  const rib = new Rib();
  const seen = recorder(rib);
  for (let i = 0; i < 100; i++) {
    rib.announce(source('1.1.1.1'), IPV4_UNICAST, prefix(`10.${i}.0.0/16`), attrs());
    if (i % 2 === 0) rib.announce(source('2.2.2.2'), IPV4_UNICAST, prefix(`10.${i}.0.0/16`), attrs({ path: [1, 2] }));
  }
  assert.equal(rib.sourceCount('1.1.1.1', IPV4_UNICAST), 100);
  assert.equal(rib.sourceCount('2.2.2.2', IPV4_UNICAST), 50);
  seen.length = 0;
  assert.equal(rib.dropSource('1.1.1.1'), 100);
  assert.equal(rib.count(IPV4_UNICAST), 50);
  assert.equal(seen.length, 100, '50 destinations gone, 50 switched to the other source');
  assert.equal(seen.filter((c) => c.best?.source.id === '2.2.2.2').length, 50);
  assert.equal(rib.sourceCount('1.1.1.1', IPV4_UNICAST), 0);
});

test('explain gives the reason each path lost', () => {
  const rib = new Rib();
  const n = prefix('10.9.0.0/24');
  rib.announce(source('1.1.1.1'), IPV4_UNICAST, n, attrs({ med: 1 }));
  rib.announce(source('2.2.2.2'), IPV4_UNICAST, n, attrs({ med: 0 }));
  const d = rib.explain(IPV4_UNICAST, n.key);
  assert.equal(d.best?.source.id, '2.2.2.2');
  assert.deepEqual([...d.losers.values()], ['med']);
});

test('ADD-PATH path ids keep several paths of one source apart', () => {
  const rib = new Rib();
  const a = source('1.1.1.1');
  rib.announce(a, IPV4_UNICAST, { ...prefix('10.5.0.0/24'), pathId: 1 }, attrs({ med: 1 }));
  rib.announce(a, IPV4_UNICAST, { ...prefix('10.5.0.0/24'), pathId: 2 }, attrs({ med: 2 }));
  assert.equal(rib.destination(IPV4_UNICAST, prefix('10.5.0.0/24').key)?.paths.length, 2);
  rib.withdraw('1.1.1.1', IPV4_UNICAST, { ...prefix('10.5.0.0/24'), pathId: 1 });
  assert.equal(rib.best(IPV4_UNICAST, prefix('10.5.0.0/24').key)?.attrs.med, 2);
});

test('a destination goes from one path to several and back, and keeps its place, best and events right', () => {
  const rib = new Rib();
  const seen = recorder(rib);
  const [a, b, c] = [source('1.1.1.1'), source('2.2.2.2'), source('3.3.3.3')];
  const first = prefix('10.2.0.0/24');
  const n = prefix('10.3.0.0/24');
  const last = prefix('10.4.0.0/24');
  rib.announce(a, IPV4_UNICAST, first, attrs({ path: [1] }));
  rib.announce(a, IPV4_UNICAST, n, attrs({ path: [1, 2, 3] }));
  rib.announce(a, IPV4_UNICAST, last, attrs({ path: [1] }));
  const order = (): string[] => [...rib.destinations(IPV4_UNICAST)].map((d) => d.key);
  const before = order();
  const bestOf = (): string | undefined => rib.best(IPV4_UNICAST, n.key)?.source.id;
  rib.announce(b, IPV4_UNICAST, n, attrs({ path: [1, 2] }));
  rib.announce(c, IPV4_UNICAST, n, attrs({ path: [1] }));
  assert.equal(bestOf(), '3.3.3.3');
  assert.deepEqual(rib.destination(IPV4_UNICAST, n.key)?.paths.map((p) => p.source.id), ['1.1.1.1', '2.2.2.2', '3.3.3.3']);
  rib.withdraw('3.3.3.3', IPV4_UNICAST, n);
  assert.equal(bestOf(), '2.2.2.2');
  rib.withdraw('2.2.2.2', IPV4_UNICAST, n);
  assert.equal(bestOf(), '1.1.1.1');
  assert.deepEqual(rib.destination(IPV4_UNICAST, n.key)?.paths.map((p) => p.source.id), ['1.1.1.1']);
  // The lone survivor is replaced, then contested again, then withdrawn by its source.
  rib.announce(a, IPV4_UNICAST, n, attrs({ path: [9] }));
  rib.announce(b, IPV4_UNICAST, n, attrs({ path: [1, 2] }));
  assert.equal(bestOf(), '1.1.1.1');
  rib.withdraw('1.1.1.1', IPV4_UNICAST, n);
  assert.equal(bestOf(), '2.2.2.2');
  assert.deepEqual(order(), before, 'a destination keeps its place however its paths change');
  const ofN = seen.filter((e) => e.nlri.key === n.key).map((e) => [e.previous?.source.id, e.best?.source.id]);
  assert.deepEqual(ofN, [
    [undefined, '1.1.1.1'],
    ['1.1.1.1', '2.2.2.2'],
    ['2.2.2.2', '3.3.3.3'],
    ['3.3.3.3', '2.2.2.2'],
    ['2.2.2.2', '1.1.1.1'],
    ['1.1.1.1', '1.1.1.1'],
    ['1.1.1.1', '2.2.2.2'],
  ]);
  assert.equal(rib.sourceCount('1.1.1.1', IPV4_UNICAST), 2);
  assert.equal(rib.sourceCount('2.2.2.2', IPV4_UNICAST), 1);
});

test('stale marking and sweeping, and dropping a source, reach lone and contested paths alike', () => {
  const rib = new Rib();
  const [a, b] = [source('1.1.1.1'), source('2.2.2.2')];
  const alone = prefix('10.5.1.0/24');
  const shared = prefix('10.5.2.0/24');
  const theirs = prefix('10.5.3.0/24');
  rib.announce(a, IPV4_UNICAST, alone, attrs({ path: [1] }));
  rib.announce(a, IPV4_UNICAST, shared, attrs({ path: [1] }));
  rib.announce(b, IPV4_UNICAST, shared, attrs({ path: [1, 2] }));
  rib.announce(b, IPV4_UNICAST, theirs, attrs({ path: [1] }));
  const families = new Set([IPV4_UNICAST]);
  assert.equal(rib.markStale('1.1.1.1', families), 2);
  assert.equal(rib.best(IPV4_UNICAST, alone.key)?.stale, true);
  assert.equal(rib.best(IPV4_UNICAST, shared.key)?.stale, true, 'the best of a contest is the stale copy');
  assert.equal(rib.pathOf('2.2.2.2', IPV4_UNICAST, shared)?.stale, false);
  // a re-advertises one route before its End-of-RIB: only the other is swept.
  rib.announce(a, IPV4_UNICAST, alone, attrs({ path: [1] }));
  assert.equal(rib.sweepStale('1.1.1.1', families), 1);
  assert.equal(rib.best(IPV4_UNICAST, alone.key)?.stale, false);
  assert.equal(rib.best(IPV4_UNICAST, shared.key)?.source.id, '2.2.2.2');
  rib.announce(a, IPV4_UNICAST, shared, attrs({ path: [1] }));
  assert.equal(rib.dropSource('1.1.1.1'), 2);
  assert.deepEqual([...rib.destinations(IPV4_UNICAST)].map((d) => [d.key, d.paths.length, d.best?.source.id]), [
    [shared.key, 1, '2.2.2.2'],
    [theirs.key, 1, '2.2.2.2'],
  ]);
  assert.equal(rib.sourceCount('1.1.1.1', IPV4_UNICAST), 0);
});
