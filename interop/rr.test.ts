/**
 * vmmid as route reflector (RFC 4456) for FRR and GoBGP clients: a route from
 * one client reaches the others with ORIGINATOR_ID and CLUSTER_LIST, a
 * withdraw at the origin removes it everywhere, and the wire is clean.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Speaker } from '../src/speaker.js';
import {
  type Capture,
  type FrrHandle,
  type GobgpHandle,
  checkPcap,
  freeLoopback,
  frrConfig,
  gobgpConfig,
  needPeers,
  startCapture,
  startFrr,
  startGobgp,
  waitFor,
} from './harness/index.js';
import { frrPath as frrPathAf, gobgpAttrs as gobgpAttrsAf, isRecord } from './support/peers.js';
import { startVmmi, vmmiEstablished } from './support/vmmi.js';

const frrPath = (f: FrrHandle, prefix: string) => frrPathAf(f, 'ipv4', prefix);
const gobgpAttrs = (g: GobgpHandle, prefix: string) => gobgpAttrsAf(g, 'ipv4', prefix);

test('vmmid reflects IPv4 routes between FRR and GoBGP clients with ORIGINATOR_ID and CLUSTER_LIST', async (t) => {
  if (!needPeers(t, 'frr', 'gobgp-suite', 'tshark')) return;
  const rr = freeLoopback(import.meta.url);
  const c1 = freeLoopback(import.meta.url);
  const c2 = freeLoopback(import.meta.url);
  const g1 = freeLoopback(import.meta.url);
  const clusterId = '10.255.0.1';
  let capture: Capture | undefined;
  const daemons: { stop(): Promise<void> }[] = [];
  let vmmi: Speaker | undefined;
  t.after(async () => {
    await vmmi?.stop();
    await Promise.allSettled([...daemons.map((d) => d.stop()), capture?.stop()]);
  });
  capture = await startCapture({ ports: [179], addresses: [rr, c1, c2, g1], name: 'rr-capture' });
  const frrClient = (name: string, me: string, net?: string): Promise<FrrHandle> =>
    startFrr({
      name,
      address: me,
      port: 179,
      config: frrConfig({
        routerId: me,
        asn: 65000,
        neighbors: [{ address: rr, remoteAs: 65000, updateSource: me, families: ['ipv4-unicast'], passive: true, routeMapOut: 'NH' }],
        networks: net ? { 'ipv4-unicast': [net] } : {},
        trailer: ['route-map NH permit 10', ' set ip next-hop 10.0.0.11', 'exit'],
      }),
    });
  const f1 = await frrClient('rr-frr1', c1, '10.81.0.0/24');
  daemons.push(f1);
  const f2 = await frrClient('rr-frr2', c2);
  daemons.push(f2);
  const g = await startGobgp({
    name: 'rr-gobgp',
    address: g1,
    port: 179,
    config: gobgpConfig({
      asn: 65000,
      routerId: g1,
      port: 179,
      localAddresses: [g1],
      neighbors: [{ address: rr, peerAs: 65000, localAddress: g1, families: ['ipv4-unicast'], passive: true }],
    }),
  });
  daemons.push(g);
  vmmi = await startVmmi({
    address: rr,
    asn: 65000,
    clusterId,
    neighbors: [c1, c2, g1].map((a) => ({ address: a, remoteAs: 65000, families: ['ipv4-unicast'], rrClient: true })),
  });
  const v = vmmi;
  for (const a of [c1, c2, g1]) await vmmiEstablished(v, a);

  // FRR client 1 → FRR client 2 and GoBGP.
  const atF2 = await waitFor(() => frrPath(f2, '10.81.0.0/24'), { what: 'FRR c2 has 10.81.0.0/24 via the RR' });
  assert.equal(atF2.originatorId, c1);
  assert.ok(isRecord(atF2.clusterList) && Array.isArray(atF2.clusterList.list), JSON.stringify(atF2));
  assert.deepEqual(atF2.clusterList.list, [clusterId]);
  assert.equal((atF2.nexthops as { ip: string }[])[0]?.ip, '10.0.0.11', 'next hop unchanged by reflection');
  const atG = await waitFor(() => gobgpAttrs(g, '10.81.0.0/24'), { what: 'GoBGP has 10.81.0.0/24 via the RR' });
  assert.equal(atG.get(9)?.value, c1, 'ORIGINATOR_ID');
  assert.deepEqual(atG.get(10)?.value, [clusterId], 'CLUSTER_LIST');

  // GoBGP → both FRR clients.
  await g.cli(['global', 'rib', 'add', '10.82.0.0/24', 'nexthop', '10.0.0.12', '-a', 'ipv4']);
  for (const f of [f1, f2]) {
    const p = await waitFor(() => frrPath(f, '10.82.0.0/24'), { what: `${f.name} has 10.82.0.0/24` });
    assert.equal(p.originatorId, g1);
  }

  // Withdraw at the origin removes the route everywhere.
  await f1.configure(['router bgp 65000', 'address-family ipv4 unicast', 'no network 10.81.0.0/24']);
  await waitFor(async () => (await frrPath(f2, '10.81.0.0/24')) === undefined, { what: 'c2 loses 10.81.0.0/24' });
  await waitFor(async () => (await gobgpAttrs(g, '10.81.0.0/24')) === undefined, { what: 'GoBGP loses 10.81.0.0/24' });
  await g.cli(['global', 'rib', 'del', '10.82.0.0/24', '-a', 'ipv4']);
  for (const f of [f1, f2]) await waitFor(async () => (await frrPath(f, '10.82.0.0/24')) === undefined, { what: `${f.name} loses 10.82.0.0/24` });

  await v.stop();
  vmmi = undefined;
  const pcap = await capture.stop();
  capture = undefined;
  const check = await checkPcap(pcap, [179]);
  assert.deepEqual(check.problems, []);
  assert.ok(check.bgpMessages >= 20);
});
