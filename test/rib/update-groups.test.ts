import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeAnnouncements } from '../../src/bgp/wire/update-encode.js';
import { IPV4_UNICAST } from '../../src/bgp/wire/family.js';
import type { ExportTarget } from '../../src/rib/export.js';
import { UpdateGroups } from '../../src/rib/update-groups.js';
import { attrs, mkPath, prefix, source } from './support.js';

const client = (id: string): ExportTarget => ({
  id,
  ibgp: true,
  localAsn: 65000,
  localAddress: Buffer.from([127, 0, 0, 1]),
  routerId: Buffer.from([1, 1, 1, 1]),
  rrClient: true,
  clusterId: 7,
});

test('peers with the same outbound policy share one group and one exported attribute object', () => {
  const groups = new UpdateGroups();
  const g1 = groups.join('10.0.0.1', client('10.0.0.1'));
  const g2 = groups.join('10.0.0.2', client('10.0.0.2'));
  const other = groups.join('10.0.0.3', { ...client('10.0.0.3'), rrClient: false });
  assert.equal(g1, g2);
  assert.notEqual(g1, other);
  const p = mkPath(source('10.0.0.9', { ibgp: true, rrClient: true }), attrs({ localPref: 100 }));
  const a1 = g1.exported(p, '10.0.0.1');
  const a2 = g2.exported(p, '10.0.0.2');
  assert.ok(a1 && Object.isFrozen(a1));
  assert.equal(a1, a2, 'computed once for the group');
  assert.equal(a1.originatorId, 0x0a000009);
  // Split horizon stays per peer: the source member does not get its own route back.
  const fromMember = mkPath(source('10.0.0.1', { ibgp: true, rrClient: true }), attrs({ localPref: 100 }));
  assert.equal(g1.exported(fromMember, '10.0.0.1'), null);
  assert.ok(g1.exported(fromMember, '10.0.0.2'));
  // The attribute block of the shared object is encoded once: both members' UPDATEs are identical.
  const opts = { maxLength: 4096, fourOctetAs: true, addPath: false };
  const m1 = encodeAnnouncements(IPV4_UNICAST, a1, [prefix('10.5.0.0/24')], opts);
  const m2 = encodeAnnouncements(IPV4_UNICAST, a2!, [prefix('10.5.0.0/24')], opts);
  assert.deepEqual(m1, m2);
  groups.leave('10.0.0.1', g1);
  groups.leave('10.0.0.2', g2);
  assert.deepEqual(groups.list(), [other]);
});
