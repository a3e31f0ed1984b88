import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PathAttributes } from '../../src/bgp/wire/attributes.js';
import { L2VPN_EVPN } from '../../src/bgp/wire/family.js';
import {
  compareSeq,
  encodeExtCommunities,
  esiArbitrary,
  inclusiveMulticastRoute,
  labelFromVni,
  macIpRoute,
  nextLocalSeq,
  routeTarget,
} from '../../src/evpn/index.js';
import { Rib } from '../../src/rib/rib.js';
import { source } from '../rib/support.js';

const route = (esi?: Uint8Array) =>
  macIpRoute({ rd: '65000:100', tag: 0, mac: '52:54:00:aa:bb:03', ip: '10.1.1.30', label1: labelFromVni(10100), ...(esi ? { esi: esiArbitrary(esi) } : {}) });

function attrs(nextHop: string, seq?: number, sticky = false): PathAttributes {
  const ecs = encodeExtCommunities([
    routeTarget('as2', 65000, 100),
    ...(seq !== undefined ? [{ kind: 'mac-mobility' as const, sticky, seq }] : []),
  ]);
  return { origin: 0, asPath: [], localPref: 100, nextHop: Buffer.from(nextHop.split('.').map(Number)), extCommunities: ecs };
}

/** Announces from two PEs in both orders and returns the winner's next hop and the loser's reason. */
function race(a: PathAttributes, b: PathAttributes, r = route()): { winner: string; reason: string | undefined }[] {
  return [
    [a, b],
    [b, a],
  ].map(([x, y]) => {
    const rib = new Rib();
    // PE .7 has the lower router id, so plain BGP would pick it: mobility must override that.
    rib.announce(source('10.0.0.7', { ibgp: true }), L2VPN_EVPN, r, x!);
    rib.announce(source('10.0.0.8', { ibgp: true }), L2VPN_EVPN, r, y!);
    const d = rib.explain(L2VPN_EVPN, r.key);
    assert.equal(rib.best(L2VPN_EVPN, r.key), d.best);
    return { winner: [...d.best!.attrs.nextHop!].join('.'), reason: [...d.losers.values()][0] };
  });
}

test('RFC 7432 §15: the higher sequence number wins over a lower router id, in either order of arrival', () => {
  for (const r of race(attrs('10.0.0.7', 5), attrs('10.0.0.8', 7))) assert.deepEqual(r, { winner: '10.0.0.8', reason: 'mac-mobility-seq' });
});

test('a route without MAC Mobility counts as sequence 0', () => {
  for (const r of race(attrs('10.0.0.7'), attrs('10.0.0.8', 1))) assert.deepEqual(r, { winner: '10.0.0.8', reason: 'mac-mobility-seq' });
});

test('§15.2: a sticky MAC wins even over a higher sequence number', () => {
  for (const r of race(attrs('10.0.0.7', 1, true), attrs('10.0.0.8', 9))) assert.deepEqual(r, { winner: '10.0.0.7', reason: 'mac-mobility-sticky' });
});

test('§15.1: equal sequence numbers from different PEs: the lower originator address wins', () => {
  for (const r of race(attrs('10.0.0.9', 3), attrs('10.0.0.2', 3))) assert.deepEqual(r, { winner: '10.0.0.2', reason: 'mac-mobility-lower-ip' });
});

test('one multihomed segment (same non-zero ESI) is not a conflict: the usual BGP decision applies', () => {
  const esi = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (const r of race(attrs('10.0.0.9', 3), attrs('10.0.0.2', 3), route(esi))) assert.equal(r.reason, 'router-id');
});

test('other EVPN route types are not touched by the mobility rules', () => {
  const r = inclusiveMulticastRoute({ rd: '65000:100', tag: 0, originator: '10.0.0.7' });
  const rib = new Rib();
  rib.announce(source('10.0.0.8', { ibgp: true }), L2VPN_EVPN, r, attrs('10.0.0.8', 7));
  rib.announce(source('10.0.0.7', { ibgp: true }), L2VPN_EVPN, r, attrs('10.0.0.7', 5));
  assert.deepEqual([...rib.explain(L2VPN_EVPN, r.key).losers.values()], ['router-id']);
});

test('sequence numbers wrap (RFC 1982 serial arithmetic): 0 is newer than 4294967295', () => {
  assert.equal(compareSeq(0, 0xffffffff), 1);
  assert.equal(compareSeq(0xffffffff, 0), -1);
  assert.equal(compareSeq(7, 5), 1);
  assert.equal(compareSeq(5, 5), 0);
  for (const r of race(attrs('10.0.0.7', 0xffffffff), attrs('10.0.0.8', 0))) assert.equal(r.winner, '10.0.0.8');
});

test('a local arrival takes one above the highest known sequence number, 0 when the MAC is new', () => {
  const r = route();
  assert.equal(nextLocalSeq([]), 0);
  assert.equal(nextLocalSeq([{ nlri: r, attrs: attrs('10.0.0.7', 5) }, { nlri: r, attrs: attrs('10.0.0.8', 7) }]), 8);
  assert.equal(nextLocalSeq([{ nlri: r, attrs: attrs('10.0.0.7', 0xffffffff) }]), 0);
});
