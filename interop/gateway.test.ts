/**
 * vmmid as DC gateway (RFC 9014 interworking): a VM announced by its agent
 * becomes a /32 host route that a WAN peer (FRR, eBGP) receives both as an
 * EVPN type-5 route (RFC 9136) and as a VPNv4 route (RFC 4364), next hop the
 * gateway, beside the VRF's /24 aggregate; when the VM leaves the data
 * center only the aggregate is left. This is what keeps remote users' traffic
 * from entering the old data center (the "roundabout").
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type VmmiClient, connect, unaryCall } from '../src/api/client.js';
import type { AnnounceVmResponse__Output } from '../gen/proto/vmmi/v1/AnnounceVmResponse.js';
import type { Speaker } from '../src/speaker.js';
import { checkPcap, freeLoopback, frrConfig, needPeers, startCapture, startFrr, waitFor } from './harness/index.js';
import { frrEstablished, frrEvpnRoute, frrExtCommunities, frrNextHop, frrVpnPath } from './support/peers.js';
import { startVmmi } from './support/vmmi.js';

const GW_RD = '10.0.0.1:50';

test('DC gateway: a VM\'s /32 reaches a WAN peer as type-5 and VPNv4 via the gateway, and goes when the VM leaves; the /24 stays', async (t) => {
  if (!needPeers(t, 'frr', 'tshark')) return;
  const gw = freeLoopback(import.meta.url);
  const wan = freeLoopback(import.meta.url);
  const capture = await startCapture({ ports: [179], addresses: [gw, wan], name: 'gateway-capture' });
  const frr = await startFrr({
    name: 'gateway-frr',
    address: wan,
    port: 179,
    config: frrConfig({
      routerId: wan,
      asn: 65100,
      neighbors: [{ address: gw, remoteAs: 65000, updateSource: wan, families: ['l2vpn-evpn', 'ipv4-vpn'], passive: true }],
    }),
  });
  let vmmi: Speaker | undefined;
  let client: VmmiClient | undefined;
  t.after(async () => {
    client?.close();
    await vmmi?.stop();
    await frr.stop();
    await capture.stop();
  });
  vmmi = await startVmmi({
    address: gw,
    asn: 65000,
    neighbors: [{ address: wan, remoteAs: 65100, families: ['l2vpn-evpn', 'ipv4-vpn'] }],
    extraYaml: [
      'networks:',
      '  - { name: red, vni: 10300, l3-vni: 50000, router-mac: "02:00:00:00:00:aa", vrf: tenant }',
      'api:',
      `  listen: { address: ${gw}, port: 0 }`,
      '  agents: [{ name: hv, vteps: [10.0.0.21], networks: [red] }]',
      'dc-gateway:',
      '  next-hop: 10.0.0.1',
      '  router-mac: "02:00:00:00:00:01"',
      '  vrfs:',
      `    - { name: tenant, rd: "${GW_RD}", route-targets: ["65000:50000"], label: 5000, subnets: [10.3.0.0/24] }`,
      '',
    ].join('\n'),
  });
  await frrEstablished(frr, gw);
  const port = (vmmi as unknown as { api: { endpoint: { port: number } } }).api.endpoint.port;
  client = connect({ api: `${gw}:${port}` });
  const c = client;

  const agg = await waitFor(() => frrVpnPath(frr, 'ipv4', GW_RD, '10.3.0.0/24'), { what: 'FRR has the VPNv4 aggregate' });
  assert.equal(agg.remoteLabel, 5000);
  assert.equal(await frrVpnPath(frr, 'ipv4', GW_RD, '10.3.0.5/32'), undefined);

  const r = await unaryCall<AnnounceVmResponse__Output>((cb) =>
    c.mobility.announceVm({ vmId: 'vm-1', network: { name: 'red' }, mac: '52:54:00:aa:bb:01', ips: ['10.3.0.5'], vtep: '10.0.0.21' }, cb),
  );
  assert.equal(r.sequence, 0);
  const host = await waitFor(() => frrVpnPath(frr, 'ipv4', GW_RD, '10.3.0.5/32'), { what: 'FRR has the VPNv4 host route' });
  assert.equal(host.remoteLabel, 5000);
  assert.equal(frrNextHop(host), '10.0.0.1');
  assert.ok(frrExtCommunities(host).includes('RT:65000:50000'));
  const t5 = await waitFor(() => frrEvpnRoute(frr, GW_RD, '[5]:[0]:[32]:[10.3.0.5]'), { what: 'FRR has the type-5 host route' });
  const p5 = t5.paths[0]!;
  assert.equal(frrNextHop(p5), '10.0.0.1');
  assert.ok(frrExtCommunities(p5).includes('RT:65000:50000'), frrExtCommunities(p5).join(' '));
  assert.ok(frrExtCommunities(p5).includes('Rmac:02:00:00:00:00:01'));

  await unaryCall<object>((cb) => c.mobility.withdrawVm({ network: { name: 'red' }, mac: '52:54:00:aa:bb:01' }, cb));
  await waitFor(async () => (await frrVpnPath(frr, 'ipv4', GW_RD, '10.3.0.5/32')) === undefined, { what: 'the host route is withdrawn' });
  await waitFor(async () => (await frrEvpnRoute(frr, GW_RD, '[5]:[0]:[32]:[10.3.0.5]')) === undefined, { what: 'the type-5 host route is withdrawn' });
  assert.ok(await frrVpnPath(frr, 'ipv4', GW_RD, '10.3.0.0/24'), 'the aggregate stays as the fallback');

  await vmmi.stop();
  vmmi = undefined;
  const check = await checkPcap(await capture.stop(), [179]);
  assert.ok(check.bgpMessages > 0);
  assert.deepEqual(check.problems, []);
});
