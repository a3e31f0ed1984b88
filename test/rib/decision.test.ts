import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { AsPathSegmentType, Origin } from '../../src/bgp/wire/constants.js';
import { decide } from '../../src/rib/decision.js';
import { attrs, mkPath, source } from './support.js';

describe('decision process (RFC 4271 §9.1.2.2, RFC 4456 §9)', () => {
  test('one path wins alone; no paths, no best', () => {
    const p = mkPath(source('1.1.1.1'), attrs());
    assert.equal(decide([p]).best, p);
    assert.equal(decide([]).best, undefined);
  });

  const cases: { name: string; win: ReturnType<typeof mkPath>; lose: ReturnType<typeof mkPath>; reason: string }[] = [
    {
      name: 'higher LOCAL_PREF',
      win: mkPath(source('9.9.9.9', { ibgp: true }), attrs({ localPref: 200, path: [1, 2, 3] })),
      lose: mkPath(source('1.1.1.1', { ibgp: true }), attrs({ localPref: 100 })),
      reason: 'local-pref',
    },
    {
      name: 'missing LOCAL_PREF counts as 100',
      win: mkPath(source('9.9.9.9'), attrs({ localPref: 101 })),
      lose: mkPath(source('1.1.1.1'), attrs()),
      reason: 'local-pref',
    },
    {
      name: 'locally originated',
      win: mkPath(source('9.9.9.9', { local: true }), attrs({ path: [1, 2, 3] })),
      lose: mkPath(source('1.1.1.1'), attrs()),
      reason: 'local-origin',
    },
    {
      name: 'shorter AS_PATH (an AS_SET counts one)',
      win: mkPath(source('9.9.9.9'), attrs({ asPath: [{ type: AsPathSegmentType.AsSequence, asns: [1] }, { type: AsPathSegmentType.AsSet, asns: [5, 6, 7] }] })),
      lose: mkPath(source('1.1.1.1'), attrs({ path: [1, 2, 3] })),
      reason: 'as-path-len',
    },
    {
      name: 'lower ORIGIN',
      win: mkPath(source('9.9.9.9'), attrs({ origin: Origin.Egp })),
      lose: mkPath(source('1.1.1.1'), attrs({ origin: Origin.Incomplete })),
      reason: 'origin',
    },
    {
      name: 'lower MED from the same neighbour AS',
      win: mkPath(source('9.9.9.9'), attrs({ med: 10 })),
      lose: mkPath(source('1.1.1.1'), attrs({ med: 20 })),
      reason: 'med',
    },
    {
      name: 'eBGP over iBGP',
      win: mkPath(source('9.9.9.9'), attrs({ path: [65009] })),
      lose: mkPath(source('1.1.1.1', { ibgp: true }), attrs({ path: [65009], localPref: 100 })),
      reason: 'ebgp-over-ibgp',
    },
    {
      name: 'lower router id',
      win: mkPath(source('1.1.1.1'), attrs({ path: [65002] })),
      lose: mkPath(source('9.9.9.9'), attrs()),
      reason: 'router-id',
    },
    {
      name: 'ORIGINATOR_ID stands in for the router id',
      win: mkPath(source('9.9.9.9', { ibgp: true }), attrs({ originatorId: 0x01010101 })),
      lose: mkPath(source('2.2.2.2', { ibgp: true }), attrs()),
      reason: 'router-id',
    },
    {
      name: 'shorter CLUSTER_LIST',
      win: mkPath(source('9.9.9.9', { ibgp: true }), attrs({ originatorId: 5, clusterList: [1] })),
      lose: mkPath(source('2.2.2.2', { ibgp: true }), attrs({ originatorId: 5, clusterList: [1, 2] })),
      reason: 'cluster-list',
    },
    {
      name: 'lower peer address last',
      win: mkPath(source('1.1.1.1', { routerId: 7 }), attrs()),
      lose: mkPath(source('2.2.2.2', { routerId: 7 }), attrs()),
      reason: 'peer-address',
    },
  ];
  for (const c of cases) {
    test(`${c.name} wins, and the loser says why`, () => {
      for (const order of [[c.win, c.lose], [c.lose, c.win]]) {
        const d = decide(order);
        assert.equal(d.best, c.win);
        assert.equal(d.losers.get(c.lose), c.reason);
        assert.equal(d.losers.size, 1);
      }
    });
  }

  test('MED is not compared across neighbour ASes', () => {
    // Only the AS 65002 pair compares MED; the AS 65001 path survives MED and loses later on router id.
    const a = mkPath(source('3.3.3.3'), attrs({ path: [65001], med: 500 }));
    const b = mkPath(source('1.1.1.1'), attrs({ path: [65002], med: 10 }));
    const c = mkPath(source('2.2.2.2'), attrs({ path: [65002], med: 20 }));
    const d = decide([a, b, c]);
    assert.equal(d.best, b);
    assert.equal(d.losers.get(c), 'med');
    assert.equal(d.losers.get(a), 'router-id');
  });

  test('the result does not depend on the order of the paths', () => {
    const arb = fc.array(
      fc.record({
        id: fc.integer({ min: 1, max: 250 }),
        lp: fc.integer({ min: 99, max: 101 }),
        len: fc.integer({ min: 1, max: 3 }),
        origin: fc.constantFrom(Origin.Igp, Origin.Egp, Origin.Incomplete),
        ibgp: fc.boolean(),
        med: fc.integer({ min: 0, max: 2 }),
      }),
      { minLength: 1, maxLength: 6 },
    );
    fc.assert(
      fc.property(arb, fc.integer(), (specs, seed) => {
        const uniq = [...new Map(specs.map((s) => [s.id, s])).values()];
        const paths = uniq.map((s) =>
          mkPath(source(`10.0.0.${s.id}`, { ibgp: s.ibgp }), attrs({ localPref: s.lp, path: Array(s.len).fill(65001), origin: s.origin, med: s.med })),
        );
        const shuffled = [...paths].sort((x, y) => ((x.source.routerId * 31 + seed) % 97) - ((y.source.routerId * 31 + seed) % 97));
        const d1 = decide(paths);
        const d2 = decide(shuffled);
        assert.equal(d1.best, d2.best);
        assert.equal(d1.losers.size, paths.length - 1);
      }),
    );
  });
});
