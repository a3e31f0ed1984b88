import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PMSI_FLAG_LEAF_INFO_REQUIRED,
  decodePmsiTunnel,
  encodePmsiTunnel,
  formatPmsiTunnel,
  ingressReplicationTunnel,
  labelFromVni,
} from '../../src/evpn/index.js';
import { ip } from './support.js';

test('ingress replication with an IPv4 endpoint: GoBGP\'s octets', () => {
  const value = Buffer.from('00060027740a000002', 'hex');
  const p = decodePmsiTunnel(value);
  assert.ok(p.ok);
  assert.deepEqual(p.value, ingressReplicationTunnel({ endpoint: '10.0.0.2', label: labelFromVni(10100) }));
  assert.deepEqual(encodePmsiTunnel(p.value), value);
  assert.equal(formatPmsiTunnel(p.value), 'type: ingress-repl, label: 10100, tunnel-id: 10.0.0.2');
});

test('ingress replication with an IPv6 endpoint and Leaf Information Required', () => {
  const p = ingressReplicationTunnel({ endpoint: ip('2001:db8::16'), label: labelFromVni(10100), leafInfoRequired: true });
  const bytes = encodePmsiTunnel(p);
  assert.equal(bytes.toString('hex'), '010600277420010db8000000000000000000000016');
  assert.deepEqual(decodePmsiTunnel(bytes), { ok: true, value: p });
  assert.equal(p.flags & PMSI_FLAG_LEAF_INFO_REQUIRED, 1);
  assert.equal(formatPmsiTunnel(p), 'type: ingress-repl, leaf-info-required, label: 10100, tunnel-id: 2001:db8::16');
});

test('other tunnel types keep their identifier as received', () => {
  const value = Buffer.from('0002000000' + '0106' + 'c0000201' + '0001' + '0004' + '00000001', 'hex');
  const p = decodePmsiTunnel(value);
  assert.ok(p.ok);
  assert.equal(p.value.kind, 'other');
  assert.equal(p.value.tunnelType, 2);
  assert.deepEqual(encodePmsiTunnel(p.value), value);
  assert.deepEqual(decodePmsiTunnel(Buffer.from('8000000000', 'hex')), {
    ok: true,
    value: { kind: 'other', tunnelType: 0, flags: 0x80, label: Buffer.alloc(3), tunnelId: Buffer.alloc(0) },
  });
});

test('malformed PMSI tunnel values are errors', () => {
  assert.match((decodePmsiTunnel(Buffer.from('00060000', 'hex')) as { error: string }).error, /at least 5/);
  assert.match((decodePmsiTunnel(Buffer.from('00060027740a0000', 'hex')) as { error: string }).error, /endpoint of 3 octets/);
  assert.equal(decodePmsiTunnel(Buffer.from('0006002774', 'hex')).ok, false);
  assert.throws(() => ingressReplicationTunnel({ endpoint: '10.0.0', label: labelFromVni(1) }), RangeError);
  assert.throws(() => ingressReplicationTunnel({ endpoint: '10.0.0.1', label: Buffer.alloc(2) }), RangeError);
});
