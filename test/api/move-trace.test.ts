/**
 * GetMoveTrace between two in-process speakers: A holds the VM (API), B is
 * its iBGP peer. After a move, A's trace says when B was sent the new
 * location and the withdrawal of the old one; when B itself advertised the
 * MAC before (another PE), its withdrawal of the old location is recorded too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, unaryCall } from '../../src/api/client.js';
import type { GetMoveTraceResponse__Output } from '../../gen/proto/vmmi/v1/GetMoveTraceResponse.js';
import type { AnnounceVmResponse__Output } from '../../gen/proto/vmmi/v1/AnnounceVmResponse.js';
import { L2VPN_EVPN } from '../../src/bgp/wire/family.js';
import type { Speaker } from '../../src/speaker.js';
import { eventually, startSpeaker } from '../support/speakers.js';

const A = '127.0.5.11';
const B = '127.0.5.12';

function yaml(me: string, other: string, api: boolean): string {
  return `
router-id: ${me}
asn: 65000
listen: { address: ${me}, port: 1179 }
neighbors:
  - { address: ${other}, remote-as: 65000, port: 1179, local-address: ${me}, hold-time: 9, connect-retry: 1, families: [l2vpn-evpn] }
networks:
  - { name: blue, vni: 10100 }
${api ? `api:\n  listen: { address: 127.0.0.1, port: 0 }\n  agents: [{ name: hv, vteps: [10.0.0.21, 10.0.0.22, 10.0.0.23], networks: [blue] }]` : 'api: { listen: false }'}
`;
}

test('a move\'s trace: the API call, the new location sent to each peer and the old one withdrawn, and a peer yielding its own route', async (t) => {
  const a: Speaker = await startSpeaker(yaml(A, B, true));
  const b: Speaker = await startSpeaker(yaml(B, A, false));
  const port = (a as unknown as { api: { endpoint: { port: number } } }).api.endpoint.port;
  const c = connect({ api: `127.0.0.1:${port}` });
  t.after(async () => {
    c.close();
    await Promise.all([a.stop(), b.stop()]);
  });
  await eventually('A and B Established', () => a.peers.get(B)?.state === 'Established' && b.peers.get(A)?.state === 'Established');
  const announce = (vtep: string) =>
    unaryCall<AnnounceVmResponse__Output>((cb) => c.mobility.announceVm({ vmId: 'vm-1', network: { name: 'blue' }, mac: '52:54:00:aa:bb:01', ips: ['10.1.0.5'], vtep }, cb));
  const traces = () => unaryCall<GetMoveTraceResponse__Output>((cb) => c.mobility.getMoveTrace({ network: { name: 'blue' }, mac: '52:54:00:aa:bb:01' }, cb));

  await announce('10.0.0.21');
  assert.deepEqual((await traces()).traces, [], 'an arrival of a new MAC is not a move');
  const moved = await announce('10.0.0.22');
  assert.equal(moved.sequence, 1);
  let got = (await traces()).traces;
  for (const until = Date.now() + 5000; (got[0]?.withdrawals.length ?? 0) === 0 && Date.now() < until; got = (await traces()).traces) await new Promise((r) => setTimeout(r, 20));
  assert.equal(got.length, 1);
  const m = got[0]!;
  assert.deepEqual([m.fromVtep, m.toVtep, m.sequence, m.vmId], ['10.0.0.21', '10.0.0.22', 1, 'vm-1']);
  assert.deepEqual(m.updates.map((u) => u.peer), [B]);
  assert.deepEqual(m.withdrawals.map((u) => u.peer), [B]);
  assert.ok(m.updates[0]!.afterMs >= 0 && m.updates[0]!.afterMs < 5000, `sent ${m.updates[0]!.afterMs} ms after the call`);
  assert.ok(Number(m.requestedAt?.seconds) <= Number(m.announcedAt?.seconds));

  // B becomes another PE that has the VM (seq 2) at 10.0.0.99: A yields; then A's agent brings it back with 3 and B withdraws.
  const { macIpRoute } = await import('../../src/evpn/nlri.js');
  const { encodeExtCommunities } = await import('../../src/evpn/ext-communities.js');
  const { ipToBytes } = await import('../../src/core/ip.js');
  b.rib.announce(
    { id: 'local', address: ipToBytes(B)!, routerId: ipToBytes(B)!.readUInt32BE(0), asn: 65000, ibgp: false, local: true, rrClient: false },
    L2VPN_EVPN,
    macIpRoute({ rd: '10.0.0.99:10100', tag: 0, mac: '52:54:00:aa:bb:01', label1: Buffer.from([0, 0x27, 0x74]) }),
    {
      origin: 1, asPath: [], nextHop: ipToBytes('10.0.0.99'),
      extCommunities: encodeExtCommunities([{ kind: 'route-target', format: 'as2', admin: 65000, assigned: 10100 }, { kind: 'mac-mobility', sticky: false, seq: 2 }]),
    },
  );
  await eventually('A yields to B\'s newer route', () => a.vms?.size === 0);
  const back = await announce('10.0.0.23');
  assert.equal(back.sequence, 3);
  // B's "agent" sees the newer number and withdraws its own route.
  b.rib.withdraw('local', L2VPN_EVPN, macIpRoute({ rd: '10.0.0.99:10100', tag: 0, mac: '52:54:00:aa:bb:01', label1: Buffer.from([0, 0x27, 0x74]) }));
  for (const until = Date.now() + 5000; (got[0]?.peerWithdrawals.length ?? 0) === 0 && Date.now() < until; got = (await traces()).traces) await new Promise((r) => setTimeout(r, 20));
  const fromElsewhere = got[0]!;
  assert.deepEqual([fromElsewhere.fromVtep, fromElsewhere.toVtep, fromElsewhere.sequence], ['', '10.0.0.23', 3]);
  assert.deepEqual(fromElsewhere.peerWithdrawals.map((p) => p.peer), [B]);
  assert.deepEqual(fromElsewhere.updates.map((p) => p.peer), [B]);
});
