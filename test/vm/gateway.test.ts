import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/core/log.js';
import { bytesToIp, ipToBytes } from '../../src/core/ip.js';
import { IPV4_VPN, IPV6_VPN, L2VPN_EVPN } from '../../src/bgp/wire/family.js';
import { Origin } from '../../src/bgp/wire/constants.js';
import { decodeExtCommunities, encodeExtCommunities, formatExtCommunities } from '../../src/evpn/ext-communities.js';
import { labelToVni } from '../../src/evpn/label.js';
import { formatEvpnNlri, macIpRoute } from '../../src/evpn/nlri.js';
import type { EvpnRoute } from '../../src/evpn/route.js';
import { Rib } from '../../src/rib/rib.js';
import type { Path, PathSource } from '../../src/rib/path.js';
import { MemoryVmStore } from '../../src/store/vm-store.js';
import { formatVpnRoute } from '../../src/vpn/nlri.js';
import type { VpnRoute } from '../../src/vpn/nlri.js';
import { vpnNextHopAddress } from '../../src/vpn/route.js';
import { DcGateway } from '../../src/vm/gateway.js';
import { VmNetwork } from '../../src/vm/network.js';
import { VmRegistry } from '../../src/vm/registry.js';
import { FakeClock } from '../fsm/fake-clock.js';
import { configFrom } from '../support/speakers.js';

const LOCAL: PathSource = {
  id: 'local', address: Buffer.from([192, 0, 2, 1]), routerId: 0xc0000201, asn: 65000, ibgp: false, local: true, rrClient: false,
};
const PEER: PathSource = {
  id: '192.0.2.9', address: Buffer.from([192, 0, 2, 9]), routerId: 0xc0000209, asn: 65000, ibgp: true, local: false, rrClient: true,
};

const YAML = `
router-id: 192.0.2.1
asn: 65000
networks:
  - { name: red, vni: 10300, l3-vni: 50000, router-mac: "02:00:00:00:00:aa", vrf: tenant, duplicate-detection: { max-moves: 2, window: 60 } }
  - { name: blue, vni: 10100 }
dc-gateway:
  next-hop: 10.0.0.1
  router-mac: "02:00:00:00:00:01"
  vrfs:
    - { name: tenant, rd: "10.0.0.1:50", route-targets: ["65000:50000"], label: 5000, subnets: [10.3.0.0/24, "2001:db8:3::/64"] }
`;

/** A store whose writes fail while `failing` is set. */
class FlakyStore extends MemoryVmStore {
  failing = false;
  override put(r: Parameters<MemoryVmStore['put']>[0]): Promise<void> {
    return this.failing ? Promise.reject(new Error('EIO')) : super.put(r);
  }
  override remove(network: string, mac: string): Promise<void> {
    return this.failing ? Promise.reject(new Error('EIO')) : super.remove(network, mac);
  }
}

function setup(store = new FlakyStore()) {
  const config = configFrom(YAML);
  const rib = new Rib();
  const networks = new Map(config.networks.map((n) => [n.name, new VmNetwork(n, config.routerId)]));
  const reg = new VmRegistry(networks, rib, LOCAL, store, new FakeClock(), silentLogger());
  const gw = new DcGateway(config.dcGateway!, networks, rib, LOCAL);
  gw.start(reg.list());
  reg.events$.subscribe((e) => gw.onEvent(e, (n, m) => reg.advertisedIps(n, m)));
  return { rib, reg, gw, store, red: networks.get('red')!, blue: networks.get('blue')! };
}

/** The gateway's routes as FRR would list them: family, route, next hop, label, communities. */
function wan(rib: Rib): string[] {
  const out: string[] = [];
  const show = (p: Path, text: string, label: string) => {
    const nh = p.family === L2VPN_EVPN ? bytesToIp(p.attrs.nextHop!) : bytesToIp(vpnNextHopAddress(p.attrs.nextHop!)!);
    out.push(`${text} nh ${nh} ${label} ${formatExtCommunities(decodeExtCommunities(p.attrs.extCommunities!))}`);
  };
  for (const d of rib.destinations(L2VPN_EVPN)) {
    const r = d.best!.nlri as EvpnRoute;
    if (r.kind === 'ip-prefix') show(d.best!, formatEvpnNlri(r), `vni ${labelToVni(r.label)}`);
  }
  for (const f of [IPV4_VPN, IPV6_VPN]) for (const d of rib.destinations(f)) show(d.best!, formatVpnRoute(d.best!.nlri as VpnRoute), '');
  return out.sort();
}

test('config: dc-gateway VRFs take the l3-vni of their networks; errors name the field', () => {
  const c = configFrom(YAML);
  assert.deepEqual(c.dcGateway, {
    nextHop: '10.0.0.1',
    routerMac: '02:00:00:00:00:01',
    vrfs: [{ name: 'tenant', rd: '10.0.0.1:50', routeTargets: ['65000:50000'], l3Vni: 50000, label: 5000, subnets: ['10.3.0.0/24', '2001:db8:3::/64'] }],
  });
  assert.throws(() => configFrom(`router-id: 192.0.2.1\nasn: 65000\ndc-gateway:\n  next-hop: x\n  vrfs:\n    - { name: t, rd: "1:1", route-targets: ["1:1"], label: 3, subnets: [10.0.0.1/24] }\n`), (e: unknown) => {
    const m = String(e);
    return /dc-gateway.next-hop/.test(m) && /label: expected an MPLS label 16..1048575/.test(m) && /subnets\[0\]: expected a prefix/.test(m) && /set l3-vni/.test(m);
  });
});

test('the aggregates are there from the start; a VM\'s addresses add /32 and /128 host routes as type-5 and VPN routes via the gateway', async () => {
  const { rib, reg, red, blue } = setup();
  assert.deepEqual(wan(rib), [
    '10.0.0.1:50:10.3.0.0/24 label 5000 nh 10.0.0.1  RT:65000:50000',
    '10.0.0.1:50:2001:db8:3::/64 label 5000 nh ::ffff:a00:1  RT:65000:50000',
    'RD 10.0.0.1:50 [5]:[0]:[24]:[10.3.0.0] nh 10.0.0.1 vni 50000 RT:65000:50000 ET:8 Rmac:02:00:00:00:00:01',
    'RD 10.0.0.1:50 [5]:[0]:[64]:[2001:db8:3::] nh 10.0.0.1 vni 50000 RT:65000:50000 ET:8 Rmac:02:00:00:00:00:01',
  ]);
  await reg.announce({ vmId: 'vm-1', network: red, mac: '52:54:00:aa:bb:01', ips: ['10.3.0.5', '2001:db8:3::5'], vtep: '10.0.0.21', agent: 'hv' });
  await reg.announce({ vmId: 'vm-2', network: blue, mac: '52:54:00:aa:bb:02', ips: ['10.1.0.5'], vtep: '10.0.0.21', agent: 'hv' });
  const routes = wan(rib);
  assert.equal(routes.length, 8, 'two aggregates and two host routes, each as type-5 and VPN; blue has no VRF');
  assert.ok(routes.includes('RD 10.0.0.1:50 [5]:[0]:[32]:[10.3.0.5] nh 10.0.0.1 vni 50000 RT:65000:50000 ET:8 Rmac:02:00:00:00:00:01'));
  assert.ok(routes.includes('10.0.0.1:50:10.3.0.5/32 label 5000 nh 10.0.0.1  RT:65000:50000'));
  assert.ok(routes.includes('10.0.0.1:50:2001:db8:3::5/128 label 5000 nh ::ffff:a00:1  RT:65000:50000'));
});

test('host routes follow the VM: kept across a move inside the data center, changed with its addresses, gone when it leaves or moves to another PE', async () => {
  const { rib, reg, red, gw } = setup();
  await reg.announce({ vmId: 'vm-1', network: red, mac: '52:54:00:aa:bb:01', ips: ['10.3.0.5'], vtep: '10.0.0.21', agent: 'hv' });
  assert.equal(gw.hostRoutes, 2);
  let changes = 0;
  const sub = rib.changes$.subscribe((c) => (c.family !== L2VPN_EVPN || (c.nlri as EvpnRoute).kind === 'ip-prefix' ? changes++ : 0));
  await reg.announce({ vmId: 'vm-1', network: red, mac: '52:54:00:aa:bb:01', ips: ['10.3.0.5'], vtep: '10.0.0.22', agent: 'hv' });
  assert.equal(changes, 0, 'a move between hypervisors of this data center does not touch the WAN');
  sub.unsubscribe();
  await reg.announce({ vmId: 'vm-1', network: red, mac: '52:54:00:aa:bb:01', ips: ['10.3.0.6'], vtep: '10.0.0.22', agent: 'hv' });
  assert.ok(wan(rib).some((r) => r.includes('10.3.0.6/32')) && !wan(rib).some((r) => r.includes('10.3.0.5')));
  // Another PE (another data center) now has the VM with a newer number: vmmi yields, the host routes go.
  rib.announce(PEER, L2VPN_EVPN, macIpRoute({ rd: '10.9.9.9:1', tag: 0, mac: '52:54:00:aa:bb:01', label1: Buffer.from([0, 0x28, 0x3c]) }), {
    origin: Origin.Igp, asPath: [], nextHop: ipToBytes('10.9.9.9'),
    extCommunities: encodeExtCommunities([
      { kind: 'route-target', format: 'as2', admin: 65000, assigned: 10300 },
      { kind: 'mac-mobility', sticky: false, seq: 9 },
    ]),
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(gw.hostRoutes, 0);
  assert.equal(wan(rib).length, 4, 'only the aggregates are left: the fallback');
});

test('no host route for a MAC marked duplicate, whatever the agent announces meanwhile; none left by a change the store refused', async () => {
  const { reg, gw, red, store } = setup();
  const at = (vtep: string, ips = ['10.3.0.5']) => reg.announce({ vmId: 'vm-1', network: red, mac: '52:54:00:aa:bb:01', ips, vtep, agent: 'hv' });
  await at('10.0.0.21');
  await at('10.0.0.22');
  assert.equal((await at('10.0.0.21')).duplicate, true);
  assert.equal(gw.hostRoutes, 0, 'duplicate: the WAN must not be steered here');
  await at('10.0.0.21', ['10.3.0.5', '10.3.0.6']);
  await at('10.0.0.22', ['10.3.0.6']);
  assert.equal(gw.hostRoutes, 0, 'still duplicate after more announcements');
  assert.equal(reg.clearDuplicate(red, '52:54:00:aa:bb:01'), true);
  assert.equal(gw.hostRoutes, 2, 'back with its current address');

  store.failing = true;
  await assert.rejects(reg.announce({ vmId: 'vm-2', network: red, mac: '52:54:00:aa:bb:02', ips: ['10.3.0.9'], vtep: '10.0.0.21', agent: 'hv' }));
  assert.equal(gw.hostRoutes, 2, 'an arrival the store refused leaves no host route');
  await assert.rejects(reg.withdraw({ network: red, mac: '52:54:00:aa:bb:01' }));
  assert.equal(gw.hostRoutes, 2, 'a withdrawal the store refused keeps the host route');
});
