import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildOpen, negotiate } from '../../src/bgp/session/negotiate.js';
import { AS_TRANS, CapabilityCode, MAX_EXTENDED_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH } from '../../src/bgp/wire/constants.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../../src/bgp/wire/family.js';
import type { Open } from '../../src/bgp/wire/open.js';

const local = { asn: 4200000001, routerId: 0x01010101, holdTime: 90, families: [IPV4_UNICAST, IPV6_UNICAST], gracefulRestartTime: 120 };

test('our OPEN: AS_TRANS for a 4-octet AS, the capabilities we support, GR as helper only', () => {
  const o = buildOpen(local);
  assert.equal(o.myAs, AS_TRANS);
  const codes: unknown[] = o.capabilities.map((c) => c.code);
  for (const c of [CapabilityCode.Multiprotocol, CapabilityCode.RouteRefresh, CapabilityCode.EnhancedRouteRefresh, CapabilityCode.FourOctetAs, CapabilityCode.ExtendedMessage, CapabilityCode.GracefulRestart]) {
    assert.ok(codes.includes(c), `capability ${c}`);
  }
  const gr = o.capabilities.find((c) => c.code === CapabilityCode.GracefulRestart);
  assert.ok(gr && gr.code === CapabilityCode.GracefulRestart && gr.families.length === 0);
});

function peerOpen(caps: Open['capabilities']): Open {
  return { version: 4, myAs: 65001, holdTime: 30, bgpId: 0x02020202, capabilities: caps };
}

test('families are the intersection; extended messages only when both sides have them', () => {
  const n = negotiate(local, peerOpen([
    { code: CapabilityCode.Multiprotocol, afi: 2, safi: 1 },
    { code: CapabilityCode.Multiprotocol, afi: 25, safi: 70 },
    { code: CapabilityCode.FourOctetAs, asn: 65001 },
  ]));
  assert.ok(n.ok);
  assert.deepEqual([...n.value.families], [IPV6_UNICAST]);
  assert.equal(n.value.fourOctetAs, true);
  assert.equal(n.value.maxMessageLength, MAX_MESSAGE_LENGTH);
  assert.equal(n.value.routeRefresh, false);
  const e = negotiate(local, peerOpen([{ code: CapabilityCode.ExtendedMessage }, { code: CapabilityCode.RouteRefresh }]));
  assert.ok(e.ok);
  assert.equal(e.value.maxMessageLength, MAX_EXTENDED_MESSAGE_LENGTH);
  assert.equal(e.value.routeRefresh, true);
  assert.deepEqual([...e.value.families], [IPV4_UNICAST], 'no MP capability at all means IPv4 unicast (RFC 4760 §8)');
});

test('no family in common is OPEN error / Unsupported Capability with our MP capabilities as data', () => {
  const n = negotiate(local, peerOpen([{ code: CapabilityCode.Multiprotocol, afi: 25, safi: 70 }]));
  assert.ok(!n.ok);
  assert.equal(n.error.notify.code, 2);
  assert.equal(n.error.notify.subcode, 7);
  // Multiprotocol (1), length 4, AFI 1 SAFI 1; then AFI 2 SAFI 1.
  assert.equal(n.error.notify.data.toString('hex'), '010400010001010400020001');
});
