/**
 * Hypervisor agents → vmmid's gRPC API over mTLS → FRR (route-reflector
 * client of vmmid): an announced VM shows up in FRR as EVPN type-2 routes
 * with the fields RFC 7432 / RFC 8365 ask for, a move leaves only the new
 * location with the next MAC Mobility sequence number, a withdraw removes
 * it, an agent cannot speak for a VTEP it does not own, and a kill -9 of
 * vmmid loses no acknowledged VM. Run against the real vmmid binary.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type VmmiClient, connect, isServiceError, unaryCall } from '../src/api/client.js';
import type { AnnounceVmResponse__Output } from '../gen/proto/vmmi/v1/AnnounceVmResponse.js';
import type { WithdrawVmResponse__Output } from '../gen/proto/vmmi/v1/WithdrawVmResponse.js';
import { makePki } from '../test/support/pki.js';
import { type FrrHandle, checkPcap, freeLoopback, frrConfig, makeRunDir, needPeers, sleep, startCapture, startFrr, waitFor } from './harness/index.js';
import { type FrrEvpnRoute, frrEstablished, frrEvpnRoute, frrEvpnRoutes, frrExtCommunities, frrMacMobilitySeq, frrNextHop } from './support/peers.js';
import { type VmmidProcess, spawnVmmid } from './support/vmmi.js';

const ASN = 65000;
const API_PORT = 50051;
const MAC = '52:54:00:aa:bb:01';
const IP = '10.1.0.5';

function vmmidConfig(rr: string, frr: string, dir: string, pki: Awaited<ReturnType<typeof makePki>>) {
  return {
    address: rr,
    asn: ASN,
    clusterId: rr,
    neighbors: [{ address: frr, remoteAs: ASN, families: ['l2vpn-evpn'], rrClient: true }],
    extraYaml: [
      'networks:',
      '  - { name: blue, vni: 10100 }',
      `store: ${join(dir, 'store')}`,
      'api:',
      `  listen: { address: ${rr}, port: ${API_PORT} }`,
      `  tls: { cert: ${pki.serverCert}, key: ${pki.serverKey}, client-ca: ${pki.ca} }`,
      '  agents:',
      '    - { name: hv1, vteps: [10.0.0.21], networks: [blue] }',
      '    - { name: hv2, vteps: [10.0.0.22], networks: [blue] }',
      '  operators: [ops]',
      '',
    ].join('\n'),
  };
}

function agent(rr: string, pki: Awaited<ReturnType<typeof makePki>>, name: string): VmmiClient {
  const c = pki.clients[name]!;
  return connect({ api: `${rr}:${API_PORT}`, ca: pki.ca, cert: c.cert, key: c.key, serverName: 'localhost' });
}

function announce(c: VmmiClient, vtep: string): Promise<AnnounceVmResponse__Output> {
  return unaryCall<AnnounceVmResponse__Output>((cb) => c.mobility.announceVm({ vmId: 'vm-1', network: { name: 'blue' }, mac: MAC, ips: [IP], vtep }, cb));
}

/** FRR's type-2 routes for the test MAC: [RD, prefix, path] for each. */
async function frrMacRoutes(frr: FrrHandle): Promise<FrrEvpnRoute[]> {
  return (await frrEvpnRoutes(frr)).filter((r) => r.fields.mac === MAC);
}

function checkLocation(routes: readonly FrrEvpnRoute[], vtep: string, seq: number): void {
  assert.deepEqual(routes.map((r) => r.rd).sort(), [`${vtep}:10100`, `${vtep}:10100`], 'MAC-only and MAC+IP, RD VTEP:EVI (RFC 7432 §7.9)');
  assert.deepEqual(routes.map((r) => r.fields.ip ?? '').sort(), ['', IP]);
  for (const r of routes) {
    const p = r.paths[0]!;
    assert.equal(frrNextHop(p), vtep);
    assert.equal(p.vni, '10100');
    const ecs = frrExtCommunities(p);
    assert.ok(ecs.includes('RT:65000:10100'), `route target asn:VNI (RFC 8365 §5.1.2.1) in ${ecs.join(' ')}`);
    assert.ok(ecs.includes('ET:8'), 'VXLAN encapsulation (RFC 9012)');
    assert.equal(frrMacMobilitySeq(p), seq, 'MAC Mobility sequence number');
  }
}

test('agents announce, move and withdraw a VM over mTLS; FRR follows; authority is enforced; kill -9 loses nothing', async (t) => {
  if (!needPeers(t, 'frr', 'tshark')) return;
  const rr = freeLoopback(import.meta.url);
  const f1 = freeLoopback(import.meta.url);
  const dir = await makeRunDir('api-interop');
  const pki = await makePki(join(dir, 'pki'), ['hv1', 'hv2', 'ops']);
  const capture = await startCapture({ ports: [179], addresses: [rr, f1], name: 'api-capture' });
  const frr = await startFrr({
    name: 'api-frr',
    address: f1,
    port: 179,
    config: frrConfig({ routerId: f1, asn: ASN, neighbors: [{ address: rr, remoteAs: ASN, updateSource: f1, families: ['l2vpn-evpn'], passive: true }] }),
  });
  let vmmid: VmmidProcess | undefined = await spawnVmmid('api-vmmid', vmmidConfig(rr, f1, dir, pki));
  const clients: VmmiClient[] = [];
  t.after(async () => {
    clients.forEach((c) => c.close());
    await vmmid?.stop('SIGKILL');
    await frr.stop();
    await capture.stop();
  });
  await frrEstablished(frr, rr);
  const hv1 = agent(rr, pki, 'hv1');
  const hv2 = agent(rr, pki, 'hv2');
  clients.push(hv1, hv2);

  const first = await announce(hv1, '10.0.0.21');
  assert.equal(first.sequence, 0);
  assert.equal(first.routes.length, 3, 'MAC, MAC+IP and the VTEP\'s type-3 route');
  checkLocation(await waitFor(() => frrMacRoutes(frr), { what: 'FRR has the VM at 10.0.0.21', until: (r) => r.length === 2 }), '10.0.0.21', 0);
  // RFC 7432 §7.3 / RFC 8365 §9: the VTEP's Inclusive Multicast route, ingress replication with label = VNI.
  const imet = await waitFor(() => frrEvpnRoute(frr, '10.0.0.21:10100', '[3]:[0]:[32]:[10.0.0.21]'), { what: 'FRR has the type-3 route of 10.0.0.21' });
  assert.deepEqual(imet.paths[0]!.pmsi, { tunnelType: 'Ingress Replication', label: 10100 });
  assert.equal(frrNextHop(imet.paths[0]!), '10.0.0.21');

  const moved = await announce(hv2, '10.0.0.22');
  assert.equal(moved.sequence, 1);
  assert.equal(moved.previousVtep, '10.0.0.21');
  const afterMove = await waitFor(() => frrMacRoutes(frr), {
    what: 'FRR has only the new location',
    until: (r) => r.length === 2 && r.every((x) => x.rd === '10.0.0.22:10100'),
  });
  checkLocation(afterMove, '10.0.0.22', 1);
  await waitFor(() => frrEvpnRoute(frr, '10.0.0.22:10100', '[3]:[0]:[32]:[10.0.0.22]'), { what: 'FRR has the type-3 route of 10.0.0.22' });
  await waitFor(async () => (await frrEvpnRoute(frr, '10.0.0.21:10100', '[3]:[0]:[32]:[10.0.0.21]')) === undefined, {
    what: 'the type-3 route of 10.0.0.21 is withdrawn with its last VM',
  });
  // hv1 cannot take back or remove a VM that now sits at hv2's VTEP.
  await assert.rejects(
    unaryCall<object>((cb) => hv1.mobility.withdrawVm({ network: { name: 'blue' }, mac: MAC }, cb)),
    (e: unknown) => isServiceError(e) && e.code === grpc.status.PERMISSION_DENIED && /10\.0\.0\.22/.test(e.details),
  );

  // hv1 owns 10.0.0.21 only.
  await assert.rejects(
    unaryCall<AnnounceVmResponse__Output>((cb) => hv1.mobility.announceVm({ vmId: 'vm-2', network: { name: 'blue' }, mac: '52:54:00:aa:bb:02', ips: [], vtep: '10.0.0.22' }, cb)),
    (e: unknown) => isServiceError(e) && e.code === grpc.status.PERMISSION_DENIED && /10\.0\.0\.22/.test(e.details),
  );
  await sleep(1_000);
  assert.deepEqual((await frrEvpnRoutes(frr)).filter((r) => r.fields.mac === '52:54:00:aa:bb:02'), [], 'nothing advertised for a refused call');

  // kill -9 after the acknowledged move; the restarted vmmid re-announces it with the same number.
  await vmmid.stop('SIGKILL');
  vmmid = undefined;
  await waitFor(() => frrMacRoutes(frr), { what: 'FRR drops the routes of the dead session', until: (r) => r.length === 0, timeoutMs: 30_000 });
  vmmid = await spawnVmmid('api-vmmid-restarted', vmmidConfig(rr, f1, dir, pki));
  checkLocation(await waitFor(() => frrMacRoutes(frr), { what: 'FRR has the VM again after the restart', until: (r) => r.length === 2, timeoutMs: 30_000 }), '10.0.0.22', 1);

  const hv2b = agent(rr, pki, 'hv2');
  clients.push(hv2b);
  const gone = await unaryCall<WithdrawVmResponse__Output>((cb) => hv2b.mobility.withdrawVm({ network: { name: 'blue' }, mac: MAC }, cb));
  assert.equal(gone.routes.length, 3);
  await waitFor(() => frrMacRoutes(frr), { what: 'FRR drops the withdrawn VM', until: (r) => r.length === 0 });

  await vmmid.stop();
  vmmid = undefined;
  const pcap = await capture.stop();
  const check = await checkPcap(pcap, [179]);
  assert.ok(check.bgpMessages > 0, 'the capture holds the BGP sessions');
  assert.deepEqual(check.problems, [], 'tshark finds no malformed BGP message');
});
