import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../src/bgp/wire/prefix.js';
import { decodeUpdate } from '../../src/bgp/wire/update.js';
import { hex, updateBody } from './helpers.js';

// ORIGIN IGP, empty AS_PATH, NEXT_HOP 10.0.0.1, then the PMSI attribute under test; NLRI 10.1.0.0/24.
const base = '40010100' + '400200' + '4003040a000001';
const nlri = hex('180a0100');

test('PMSI_TUNNEL (RFC 6514 §5) is a known attribute: kept as its value, not as an unknown one', () => {
  // flags 0xc0, type 22, len 9: flags 0, type 6 (ingress replication), label 10100<<... VNI 0x002774, endpoint 10.0.0.1
  const u = decodeUpdate(updateBody(Buffer.alloc(0), hex(base + 'c01609' + '00' + '06' + '002774' + '0a000001'), nlri), { fourOctetAs: true });
  assert.ok(u.ok);
  assert.equal(u.value.attrs.pmsiTunnel?.toString('hex'), '0006002774' + '0a000001');
  assert.equal(u.value.attrs.unknown, undefined);
  assert.equal(u.value.treatAsWithdraw, false);
});

test('a PMSI_TUNNEL shorter than 5 bytes is treat-as-withdraw', () => {
  const u = decodeUpdate(updateBody(Buffer.alloc(0), hex(base + 'c01603' + '000600'), nlri), { fourOctetAs: true });
  assert.ok(u.ok);
  assert.equal(u.value.treatAsWithdraw, true);
  assert.equal(u.value.nlri.length, 1, 'the NLRI is still parsed so it can be withdrawn');
});
