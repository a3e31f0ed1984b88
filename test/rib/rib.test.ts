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
