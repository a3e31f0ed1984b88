/**
 * vmmid as route reflector (RFC 4456) for EVPN (RFC 7432, RFC 9136) and BGP/MPLS
 * VPNs (RFC 4364, RFC 4659): every EVPN route type and VPNv4/VPNv6 crosses it
 * from GoBGP to FRR and from FRR to GoBGP with each field intact plus
 * ORIGINATOR_ID and CLUSTER_LIST; withdraws remove them everywhere; and two
 * PEs announcing one MAC/IP make it choose by MAC Mobility sequence number
 * (RFC 7432 §15). Every test checks its capture with tshark.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { IPV4_VPN, IPV6_VPN, L2VPN_EVPN } from '../src/bgp/wire/family.js';
import { bytesToIp } from '../src/core/ip.js';
import {
  type Esi,
  type EvpnRoute,
  ethernetAdRoute,
  ethernetSegmentRoute,
  inclusiveMulticastRoute,
  ipPrefixRoute,
  labelFromVni,
  macIpRoute,
  parseEsi,
  parseMac,
  parseRouteTarget,
} from '../src/evpn/index.js';
import type { Speaker } from '../src/speaker.js';
import { vpnRouteOrThrow } from '../src/vpn/index.js';
import {
  type Capture,
  type DecodedFrame,
  type Family,
  type FrrConfigOptions,
  type FrrHandle,
  checkPcap,
  decodeFields,
  freeLoopback,
  frrConfig,
  gobgpConfig,
  needPeers,
  startCapture,
  startFrr,
  startGobgp,
  waitFor,
} from './harness/index.js';
import { type Injector, evpnUpdates, injectMacIp, sentWithin, startInjector } from './support/injector.js';
import {
  frrClusterList,
  frrEvpnRoute,
  frrExtCommunities,
  frrMacIpPaths,
  frrMacMobilitySeq,
  frrNextHop,
  frrVpnPath,
  gobgpRib,
  isRecord,
} from './support/peers.js';
import { startVmmi, vmmiEstablished } from './support/vmmi.js';

const ASN = 65000;
const CLUSTER_ID = '10.255.0.2';
const FAMILIES: readonly Family[] = ['l2vpn-evpn', 'ipv4-vpn', 'ipv6-vpn'];
const ESI = '00:11:22:33:44:55:66:77:88:99';

/** Collects what a test starts, so that t.after stops all of it whatever failed. */
class Running {
  capture: Capture | undefined;
  vmmi: Speaker | undefined;
  readonly daemons: { stop(): Promise<void> }[] = [];
  readonly injectors: Injector[] = [];

  constructor(t: TestContext) {
    t.after(async () => {
      await Promise.allSettled(this.injectors.map((i) => i.close()));
      await this.vmmi?.stop();
      await Promise.allSettled([...this.daemons.map((d) => d.stop()), this.capture?.stop()]);
    });
  }

  /** Stops vmmid and tshark, so the capture holds the whole of every session, and returns the pcap. */
  async finish(): Promise<string> {
    await Promise.allSettled(this.injectors.map((i) => i.close()));
    await this.vmmi?.stop();
    this.vmmi = undefined;
    const pcap = await this.capture!.stop();
    this.capture = undefined;
    return pcap;
  }
}

interface FrrClientOptions {
  readonly routeMapOut?: string;
  readonly networks?: FrrConfigOptions['networks'];
  readonly trailer?: readonly string[];
}

/** An FRR route-reflector client of vmmid in all three families; vmmid dials it. */
function frrClient(name: string, me: string, rr: string, o: FrrClientOptions = {}): Promise<FrrHandle> {
  return startFrr({
    name,
    address: me,
    port: 179,
    config: frrConfig({
      routerId: me,
      asn: ASN,
      neighbors: [{ address: rr, remoteAs: ASN, updateSource: me, families: FAMILIES, passive: true, routeMapOut: o.routeMapOut }],
      networks: o.networks,
      trailer: o.trailer,
    }),
  });
}

function startVmmiRr(rr: string, clients: readonly string[], passive: readonly string[] = []): Promise<Speaker> {
  return startVmmi({
    address: rr,
    asn: ASN,
    clusterId: CLUSTER_ID,
    neighbors: [
      ...clients.map((a) => ({ address: a, remoteAs: ASN, families: FAMILIES, rrClient: true })),
      // The injectors connect to vmmid; it must not dial them (nothing listens there).
      ...passive.map((a) => ({ address: a, remoteAs: ASN, families: ['l2vpn-evpn'], rrClient: true, passive: true })),
    ],
  });
}

function values(frames: readonly DecodedFrame[], field: string): Set<string> {
  return new Set(frames.flatMap((f) => f[field] ?? []));
}

function esi(text: string): Esi {
  const r = parseEsi(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

const sorted = (xs: readonly string[]): string[] => [...xs].sort();

interface EvpnCase {
  readonly name: string;
  /** What follows `gobgp global rib add|del -a evpn`. */
  readonly gobgp: readonly string[];
  /** The same route from the project's builders: its key finds the destination in vmmid's RIB. */
  readonly route: EvpnRoute;
  readonly rd: string;
  readonly frrPrefix: string;
  readonly ext: readonly string[];
  /** Checks of the fields FRR shows for this route type, on the route and its path. */
  readonly check?: (fields: Record<string, unknown>, path: Record<string, unknown>) => void;
}

test('GoBGP → vmmid (route reflector) → FRR: EVPN route types 1-5, VPNv4 and VPNv6 arrive intact and withdraw everywhere', async (t) => {
  if (!needPeers(t, 'frr', 'gobgp-suite', 'tshark')) return;
  const rr = freeLoopback(import.meta.url);
  const f1 = freeLoopback(import.meta.url);
  const g1 = freeLoopback(import.meta.url);
  const inj = freeLoopback(import.meta.url);
  const run = new Running(t);
  run.capture = await startCapture({ ports: [179], addresses: [rr, f1, g1, inj], name: 'evpn-rr-g2f-capture' });
  const frr = await frrClient('evpn-rr-g2f-frr', f1, rr);
  run.daemons.push(frr);
  const g = await startGobgp({
    name: 'evpn-rr-g2f-gobgp',
    address: g1,
    port: 179,
    config: gobgpConfig({
      asn: ASN,
      routerId: g1,
      port: 179,
      localAddresses: [g1],
      neighbors: [
        { address: rr, peerAs: ASN, localAddress: g1, families: FAMILIES, passive: true },
        // The gobgp CLI cannot attach an ES-Import route target, so a type-4 route with one
        // comes from an eBGP injector behind GoBGP, which passes it to vmmid as its own.
        { address: inj, peerAs: 65001, localAddress: g1, families: ['l2vpn-evpn'], passive: true },
      ],
    }),
  });
  run.daemons.push(g);
  run.vmmi = await startVmmiRr(rr, [f1, g1]);
  const v = run.vmmi;
  await vmmiEstablished(v, f1);
  await vmmiEstablished(v, g1);

  const cases: EvpnCase[] = [
    {
      name: 'type 1 Ethernet A-D',
      // Its own label, so the capture can tell it from the type-2 routes' (FRR shows no type-1 label).
      gobgp: ['a-d', 'esi', 'ARBITRARY', ESI.slice(3), 'etag', '100', 'label', '10200', 'rd', '65000:1', 'rt', '65000:100', 'encap', 'vxlan'],
      route: ethernetAdRoute({ rd: '65000:1', esi: esi(ESI), tag: 100, label: labelFromVni(10200) }),
      rd: '65000:1',
      frrPrefix: `[1]:[100]:[${ESI}]`,
      ext: ['RT:65000:100', 'ET:8'],
    },
    {
      name: 'type 2 MAC+IP',
      gobgp: [
        'macadv', '52:54:00:aa:bb:01', '10.1.1.10', 'esi', 'ARBITRARY', ESI.slice(3), 'etag', '0', 'label', '10100',
        'rd', '65000:2', 'rt', '65000:100', 'encap', 'vxlan', 'router-mac', '52:54:00:00:00:01',
      ],
      route: macIpRoute({ rd: '65000:2', tag: 0, mac: '52:54:00:aa:bb:01', ip: '10.1.1.10', label1: labelFromVni(10100) }),
      rd: '65000:2',
      frrPrefix: '[2]:[0]:[48]:[52:54:00:aa:bb:01]:[32]:[10.1.1.10]',
      ext: ['RT:65000:100', 'ET:8', 'Rmac:52:54:00:00:00:01'],
      check: (f, p) => {
        assert.equal(f.mac, '52:54:00:aa:bb:01');
        assert.equal(f.ip, '10.1.1.10');
        assert.equal(f.ethTag, 0);
        assert.equal(p.vni, '10100');
        assert.equal(p.esi, ESI);
      },
    },
    {
      name: 'type 2 MAC only',
      gobgp: ['macadv', '52:54:00:aa:bb:02', '0.0.0.0', 'etag', '0', 'label', '10100', 'rd', '65000:2', 'rt', '65000:100', 'encap', 'vxlan'],
      route: macIpRoute({ rd: '65000:2', tag: 0, mac: '52:54:00:aa:bb:02', label1: labelFromVni(10100) }),
      rd: '65000:2',
      frrPrefix: '[2]:[0]:[48]:[52:54:00:aa:bb:02]',
      ext: ['RT:65000:100', 'ET:8'],
      check: (f, p) => {
        assert.equal(f.mac, '52:54:00:aa:bb:02');
        assert.equal(f.ip, undefined, 'a MAC-only route has no IP');
        assert.equal(p.vni, '10100');
      },
    },
    {
      name: 'type 3 Inclusive Multicast with PMSI ingress replication',
      gobgp: ['multicast', '10.0.0.1', 'etag', '0', 'rd', '65000:3', 'rt', '65000:100', 'encap', 'vxlan', 'pmsi', 'ingress-repl', '10100', '10.0.0.1'],
      route: inclusiveMulticastRoute({ rd: '65000:3', tag: 0, originator: '10.0.0.1' }),
      rd: '65000:3',
      frrPrefix: '[3]:[0]:[32]:[10.0.0.1]',
      ext: ['RT:65000:100', 'ET:8'],
      check: (f, p) => {
        assert.equal(f.ip, '10.0.0.1');
        assert.deepEqual(p.pmsi, { tunnelType: 'Ingress Replication', label: 10100 });
      },
    },
    {
      name: 'type 4 Ethernet Segment',
      gobgp: ['esi', '10.0.0.1', 'esi', 'ARBITRARY', ESI.slice(3), 'rd', '65000:4', 'rt', '65000:100', 'encap', 'vxlan'],
      route: ethernetSegmentRoute({ rd: '65000:4', esi: esi(ESI), originator: '10.0.0.1' }),
      rd: '65000:4',
      frrPrefix: `[4]:[${ESI}]:[32]:[10.0.0.1]`,
      ext: ['RT:65000:100', 'ET:8'],
    },
    {
      name: 'type 5 IP Prefix with gateway and router MAC',
      gobgp: [
        'prefix', '10.20.0.0/24', 'gw', '10.0.0.254', 'etag', '0', 'label', '50000', 'rd', '65000:5', 'rt', '65000:5000',
        'encap', 'vxlan', 'router-mac', '52:54:00:00:00:01',
      ],
      route: ipPrefixRoute({ rd: '65000:5', tag: 0, prefix: '10.20.0.0/24', gateway: '10.0.0.254', label: labelFromVni(50000) }),
      rd: '65000:5',
      frrPrefix: '[5]:[0]:[24]:[10.20.0.0]',
      ext: ['RT:65000:5000', 'ET:8', 'Rmac:52:54:00:00:00:01'],
      check: (f, p) => {
        assert.equal(f.ip, '10.20.0.0');
        assert.equal(f.ipLen, 24);
        assert.equal(p.vni, '50000');
      },
    },
  ];
  const add = (c: EvpnCase) => g.cli(['global', 'rib', 'add', '-a', 'evpn', ...c.gobgp, 'nexthop', '10.0.0.1']);
  for (const c of cases) await add(c);
  await g.cli(['global', 'rib', 'add', '-a', 'vpnv4', '192.168.10.0/24', 'label', '100', 'rd', '65000:10', 'rt', '65000:10', 'nexthop', '10.0.0.1']);
  await g.cli(['global', 'rib', 'add', '-a', 'vpnv6', '2001:db8:10::/64', 'label', '200', 'rd', '65000:20', 'rt', '65000:20', 'nexthop', '2001:db8:ffff::1']);

  const esImport = ethernetSegmentRoute({ rd: '65000:44', esi: esi('00:11:22:33:44:55:66:77:88:aa'), originator: '10.0.0.1' });
  const rt = parseRouteTarget('65000:100');
  const importMac = parseMac('11:22:33:44:55:66');
  assert.ok(rt.ok && importMac.ok);
  const injector = await startInjector({
    local: inj,
    peer: g1,
    asn: 65001,
    updates: evpnUpdates([esImport], { nextHop: '10.0.0.1', asPath: [65001], extCommunities: [rt.value, { kind: 'es-import', mac: importMac.value }] }),
  });
  run.injectors.push(injector);
  await sentWithin(injector, 20_000);

  const commonChecks = (what: string, p: Record<string, unknown>, nextHop = '10.0.0.1'): void => {
    assert.equal(frrNextHop(p), nextHop, `${what}: next hop unchanged by reflection`);
    assert.equal(p.originatorId, g1, `${what}: ORIGINATOR_ID is GoBGP's router id`);
    assert.deepEqual(frrClusterList(p), [CLUSTER_ID], `${what}: CLUSTER_LIST`);
    assert.ok(isRecord(p.peer) && p.peer.peerId === rr, `${what}: learned from vmmid`);
  };
  for (const c of cases) {
    const r = await waitFor(() => frrEvpnRoute(frr, c.rd, c.frrPrefix), { what: `FRR has ${c.name}` });
    const p = r.paths[0]!;
    assert.equal(r.paths.length, 1, c.name);
    commonChecks(c.name, p);
    assert.deepEqual(sorted(frrExtCommunities(p)), sorted(c.ext), `${c.name}: extended communities`);
    c.check?.(r.fields, p);
    assert.ok(v.rib.destination(L2VPN_EVPN, c.route.key), `${c.name}: vmmid keys it as the project's builder does`);
  }
  const es = await waitFor(() => frrEvpnRoute(frr, '65000:44', '[4]:[00:11:22:33:44:55:66:77:88:aa]:[32]:[10.0.0.1]'), {
    what: 'FRR has the type-4 route with ES-Import',
  });
  commonChecks('type 4 with ES-Import', es.paths[0]!);
  assert.deepEqual(sorted(frrExtCommunities(es.paths[0]!)), sorted(['RT:65000:100', 'ES-Import-Rt:11:22:33:44:55:66']));
  assert.ok(isRecord(es.paths[0]!.aspath) && es.paths[0]!.aspath.string === '65001', 'AS_PATH of the eBGP origin');
  assert.ok(v.rib.destination(L2VPN_EVPN, esImport.key), 'vmmid has the type-4 route with ES-Import');

  const v4 = await waitFor(() => frrVpnPath(frr, 'ipv4', '65000:10', '192.168.10.0/24'), { what: 'FRR has VPNv4 192.168.10.0/24' });
  commonChecks('VPNv4', v4);
  assert.equal(v4.remoteLabel, 100);
  assert.deepEqual(frrExtCommunities(v4), ['RT:65000:10']);
  const v6 = await waitFor(() => frrVpnPath(frr, 'ipv6', '65000:20', '2001:db8:10::/64'), { what: 'FRR has VPNv6 2001:db8:10::/64' });
  commonChecks('VPNv6', v6, '2001:db8:ffff::1');
  assert.equal(v6.remoteLabel, 200);
  assert.deepEqual(frrExtCommunities(v6), ['RT:65000:20']);
  assert.ok(v.rib.destination(IPV4_VPN, vpnRouteOrThrow({ rd: '65000:10', prefix: '192.168.10.0/24', label: 100 }).key));
  assert.ok(v.rib.destination(IPV6_VPN, vpnRouteOrThrow({ rd: '65000:20', prefix: '2001:db8:10::/64', label: 200 }).key));
  assert.equal(v.rib.count(L2VPN_EVPN), cases.length + 1);

  // Withdraw each at its origin: it must leave FRR and vmmid's RIB.
  let left = v.rib.count(L2VPN_EVPN);
  for (const c of cases) {
    await g.cli(['global', 'rib', 'del', '-a', 'evpn', ...c.gobgp, 'nexthop', '10.0.0.1']);
    await waitFor(async () => (await frrEvpnRoute(frr, c.rd, c.frrPrefix)) === undefined, { what: `FRR loses ${c.name}` });
    await waitFor(() => v.rib.destination(L2VPN_EVPN, c.route.key) === undefined, { what: `vmmid loses ${c.name}` });
    assert.equal(v.rib.count(L2VPN_EVPN), --left, `${c.name}: only this route left vmmid's RIB`);
  }
  await injector.close();
  await waitFor(async () => (await frrEvpnRoute(frr, '65000:44', '[4]:[00:11:22:33:44:55:66:77:88:aa]')) === undefined, {
    what: 'FRR loses the type-4 route with ES-Import',
  });
  await waitFor(() => v.rib.destination(L2VPN_EVPN, esImport.key) === undefined, { what: 'vmmid loses the type-4 route with ES-Import' });
  await g.cli(['global', 'rib', 'del', '-a', 'vpnv4', '192.168.10.0/24', 'label', '100', 'rd', '65000:10']);
  await g.cli(['global', 'rib', 'del', '-a', 'vpnv6', '2001:db8:10::/64', 'label', '200', 'rd', '65000:20']);
  await waitFor(async () => (await frrVpnPath(frr, 'ipv4', '65000:10', '192.168.10.0/24')) === undefined, { what: 'FRR loses VPNv4' });
  await waitFor(async () => (await frrVpnPath(frr, 'ipv6', '65000:20', '2001:db8:10::/64')) === undefined, { what: 'FRR loses VPNv6' });
  await waitFor(() => v.rib.count(L2VPN_EVPN) + v.rib.count(IPV4_VPN) + v.rib.count(IPV6_VPN) === 0, {
    what: "vmmid's EVPN and VPN RIBs empty",
  });

  const pcap = await run.finish();
  const check = await checkPcap(pcap, [179]);
  assert.deepEqual(check.problems, []);
  // What vmmid sent FRR, as tshark reads it.
  const toFrr = await decodeFields(pcap, [179], `ip.src == ${rr} && ip.dst == ${f1} && bgp.update.path_attribute.originator_id`, [
    'bgp.evpn.nlri.rt',
    'bgp.evpn.nlri.mac_addr',
    'bgp.evpn.nlri.etag',
    'bgp.evpn.nlri.ipv4.gtw_addr',
    'bgp.evpn.nlri.mpls_ls1',
    'bgp.ext_com_evpn.esi.rt',
    'bgp.ext_com_evpn.esi.router_mac',
    'bgp.update.path_attribute.pmsi.ingress_rep_ip',
    'bgp.update.path_attribute.originator_id',
    'bgp.path_attribute.cluster_id',
  ]);
  assert.deepEqual(sorted([...values(toFrr, 'bgp.evpn.nlri.rt')]), ['1', '2', '3', '4', '5']);
  assert.deepEqual(sorted([...values(toFrr, 'bgp.evpn.nlri.mac_addr')]), ['52:54:00:aa:bb:01', '52:54:00:aa:bb:02']);
  assert.ok(values(toFrr, 'bgp.evpn.nlri.etag').has('100'), 'type-1 Ethernet tag');
  assert.deepEqual([...values(toFrr, 'bgp.evpn.nlri.ipv4.gtw_addr')], ['10.0.0.254'], 'type-5 gateway');
  assert.ok(values(toFrr, 'bgp.ext_com_evpn.esi.rt').has('11:22:33:44:55:66'), 'ES-Import route target');
  assert.ok(values(toFrr, 'bgp.ext_com_evpn.esi.router_mac').has('52:54:00:00:00:01'), "Router's MAC");
  assert.deepEqual([...values(toFrr, 'bgp.update.path_attribute.pmsi.ingress_rep_ip')], ['10.0.0.1'], 'PMSI tunnel endpoint');
  assert.deepEqual([...values(toFrr, 'bgp.update.path_attribute.originator_id')], [g1]);
  assert.deepEqual([...values(toFrr, 'bgp.path_attribute.cluster_id')], [CLUSTER_ID]);
  // tshark reads a VXLAN VNI in the 3-octet label field as an MPLS label, VNI >> 4:
  // 10100 (type 2) is 631 and 10200 (type 1) is 637.
  assert.deepEqual(sorted([...values(toFrr, 'bgp.evpn.nlri.mpls_ls1')]), ['631', '637']);
});

test('FRR → vmmid (route reflector) → GoBGP: EVPN type 5 and VPNv4 arrive intact and withdraw', async (t) => {
  if (!needPeers(t, 'frr', 'gobgp-suite', 'tshark')) return;
  const rr = freeLoopback(import.meta.url);
  const f1 = freeLoopback(import.meta.url);
  const g1 = freeLoopback(import.meta.url);
  const run = new Running(t);
  run.capture = await startCapture({ ports: [179], addresses: [rr, f1, g1], name: 'evpn-rr-f2g-capture' });
  // FRR 8.4 puts neither a static ESI nor a gwip on the wire (seen: both zero at vmmid and GoBGP),
  // so they stay zero here rather than pretend to be checked.
  const type5 = '10.30.0.0/24 rd 65000:30 ethtag 7 label 5000 esi 00:00:00:00:00:00:00:00:00:00 gwip 0.0.0.0 routermac 52:54:00:00:00:02';
  const vpn4 = '10.9.0.0/24 rd 65000:9 label 99';
  const frr = await frrClient('evpn-rr-f2g-frr', f1, rr, {
    routeMapOut: 'OUT',
    networks: { 'l2vpn-evpn': [type5], 'ipv4-vpn': [vpn4] },
    // FRR originates these without any RT; and its next hop would be the session's 127/8 address.
    trailer: ['route-map OUT permit 10', ' set extcommunity rt 65000:5000', ' set ip next-hop 10.0.0.30', 'exit'],
  });
  run.daemons.push(frr);
  const g = await startGobgp({
    name: 'evpn-rr-f2g-gobgp',
    address: g1,
    port: 179,
    config: gobgpConfig({
      asn: ASN,
      routerId: g1,
      port: 179,
      localAddresses: [g1],
      neighbors: [{ address: rr, peerAs: ASN, localAddress: g1, families: FAMILIES, passive: true }],
    }),
  });
  run.daemons.push(g);
  run.vmmi = await startVmmiRr(rr, [f1, g1]);
  const v = run.vmmi;
  await vmmiEstablished(v, f1);
  await vmmiEstablished(v, g1);

  const t5Key = '[type:Prefix][rd:65000:30][etag:7][prefix:10.30.0.0/24]';
  const t5 = await waitFor(async () => (await gobgpRib(g, 'evpn')).get(t5Key), { what: 'GoBGP has the type-5 route from FRR' });
  assert.equal(t5.nlri.type, 5);
  assert.deepEqual(t5.nlri.value, {
    rd: { type: 0, admin: 65000, assigned: 30 },
    esi: 'single-homed',
    etag: 7,
    prefix: '10.30.0.0/24',
    gateway: '0.0.0.0',
    // FRR sends label 5000 MPLS-encoded (5000 << 4 | bottom of stack); GoBGP reads the 24 bits whole.
    label: (5000 << 4) | 1,
  });
  assert.equal(t5.attrs.get(14)?.nexthop, '10.0.0.30');
  assert.equal(t5.attrs.get(9)?.value, f1, 'ORIGINATOR_ID is FRR');
  assert.deepEqual(t5.attrs.get(10)?.value, [CLUSTER_ID], 'CLUSTER_LIST');
  const ecs = t5.attrs.get(16)?.value;
  assert.ok(Array.isArray(ecs), JSON.stringify(t5.attrs.get(16)));
  assert.deepEqual(
    sorted((ecs as unknown[]).map((e) => JSON.stringify(e))),
    sorted([{ type: 6, subtype: 3, mac: '52:54:00:00:00:02' }, { type: 0, subtype: 2, value: '65000:5000' }].map((e) => JSON.stringify(e))),
  );

  const vKey = '65000:9:10.9.0.0/24';
  const vp = await waitFor(async () => (await gobgpRib(g, 'vpnv4')).get(vKey), { what: 'GoBGP has VPNv4 10.9.0.0/24 from FRR' });
  assert.deepEqual(vp.nlri, { prefix: '10.9.0.0/24', labels: [99], rd: { type: 0, admin: 65000, assigned: 9 } });
  assert.equal(vp.attrs.get(14)?.nexthop, '10.0.0.30');
  assert.equal(vp.attrs.get(9)?.value, f1);
  assert.deepEqual(vp.attrs.get(10)?.value, [CLUSTER_ID]);
  assert.deepEqual(vp.attrs.get(16)?.value, [{ type: 0, subtype: 2, value: '65000:5000' }]);

  // FRR's `no network` for EVPN takes every argument but routermac.
  await frr.configure(['router bgp 65000', 'address-family l2vpn evpn', `no network ${type5.replace(/ routermac \S+$/, '')}`]);
  await waitFor(async () => !(await gobgpRib(g, 'evpn')).has(t5Key), { what: 'GoBGP loses the type-5 route' });
  await frr.configure(['router bgp 65000', 'address-family ipv4 vpn', `no network ${vpn4}`]);
  await waitFor(async () => !(await gobgpRib(g, 'vpnv4')).has(vKey), { what: 'GoBGP loses VPNv4 10.9.0.0/24' });
  await waitFor(() => v.rib.count(L2VPN_EVPN) + v.rib.count(IPV4_VPN) === 0, { what: "vmmid's RIBs empty" });

  const pcap = await run.finish();
  const check = await checkPcap(pcap, [179]);
  assert.deepEqual(check.problems, []);
  const toGobgp = await decodeFields(pcap, [179], `ip.src == ${rr} && ip.dst == ${g1} && bgp.evpn.nlri`, [
    'bgp.evpn.nlri.rt',
    'bgp.evpn.nlri.etag',
    'bgp.evpn.nlri.prefix_len',
    'bgp.evpn.nlri.ip.addr',
    'bgp.ext_com_evpn.esi.router_mac',
    'bgp.update.path_attribute.originator_id',
  ]);
  assert.deepEqual([...values(toGobgp, 'bgp.evpn.nlri.rt')], ['5']);
  assert.deepEqual([...values(toGobgp, 'bgp.evpn.nlri.etag')], ['7']);
  assert.deepEqual([...values(toGobgp, 'bgp.evpn.nlri.prefix_len')], ['24']);
  assert.deepEqual([...values(toGobgp, 'bgp.evpn.nlri.ip.addr')], ['10.30.0.0']);
  assert.deepEqual([...values(toGobgp, 'bgp.ext_com_evpn.esi.router_mac')], ['52:54:00:00:00:02']);
  assert.deepEqual([...values(toGobgp, 'bgp.update.path_attribute.originator_id')], [f1]);
});

test('MAC mobility: vmmid prefers the higher sequence number over the lower router id, in either order of arrival', async (t) => {
  if (!needPeers(t, 'frr', 'tshark')) return;
  const rr = freeLoopback(import.meta.url);
  const f1 = freeLoopback(import.meta.url);
  // Handed out in ascending order: in each pair the first has the lower address and router id,
  // which the router-id step would prefer; it is the one with the lower sequence number.
  const low1 = freeLoopback(import.meta.url);
  const high1 = freeLoopback(import.meta.url);
  const low2 = freeLoopback(import.meta.url);
  const high2 = freeLoopback(import.meta.url);
  const run = new Running(t);
  run.capture = await startCapture({ ports: [179], addresses: [rr, f1, low1, high1, low2, high2], name: 'evpn-rr-mm-capture' });
  const frr = await frrClient('evpn-rr-mm-frr', f1, rr);
  run.daemons.push(frr);
  run.vmmi = await startVmmiRr(rr, [f1], [low1, high1, low2, high2]);
  const v = run.vmmi;
  await vmmiEstablished(v, f1);

  const rd = '65000:100';
  const scenario = async (order: 'low first' | 'high first', low: string, high: string, mac: string, ip: string): Promise<void> => {
    const announce = async (local: string, seq: number, nextHop: string) => {
      const r = await injectMacIp({ local, peer: rr }, { rd, mac, ip, nextHop, seq, rt: '65000:100', vni: 10100 });
      run.injectors.push(r.injector);
      return r;
    };
    const first = order === 'low first' ? await announce(low, 5, '10.0.0.7') : await announce(high, 7, '10.0.0.8');
    const key = first.route.key;
    await waitFor(() => v.rib.destination(L2VPN_EVPN, key)?.paths.length === 1, { what: `${order}: vmmid has the first path` });
    const second = order === 'low first' ? await announce(high, 7, '10.0.0.8') : await announce(low, 5, '10.0.0.7');
    assert.equal(second.route.key, key, 'same RD, MAC and IP: one NLRI');
    await waitFor(() => v.rib.destination(L2VPN_EVPN, key)?.paths.length === 2, { what: `${order}: vmmid has both paths` });

    const best = v.rib.best(L2VPN_EVPN, key);
    assert.ok(best?.attrs.nextHop, `${order}: a best path`);
    assert.equal(bytesToIp(best.attrs.nextHop), '10.0.0.8', `${order}: MM:7 via 10.0.0.8 is best`);
    const d = v.rib.explain(L2VPN_EVPN, key);
    assert.equal(d.best, best);
    const losers = [...d.losers].map(([p, reason]) => ({ nextHop: p.attrs.nextHop ? bytesToIp(p.attrs.nextHop) : '', source: p.source.id, reason }));
    assert.equal(losers.length, 1, JSON.stringify(losers));
    assert.equal(losers[0]!.nextHop, '10.0.0.7');
    assert.equal(losers[0]!.reason, 'mac-mobility-seq', `${order}: ${JSON.stringify(losers)}`);

    // vmmid reflects only its best path, so FRR sees one path: MM:7 via 10.0.0.8.
    const paths = await waitFor(
      async () => {
        const ps = await frrMacIpPaths(frr, rd, mac, ip);
        return ps.length === 1 && frrNextHop(ps[0]!) === '10.0.0.8' && frrMacMobilitySeq(ps[0]!) === 7 ? ps : undefined;
      },
      { what: `${order}: FRR shows MM:7 via 10.0.0.8` },
    );
    const p = paths[0]!;
    assert.ok(isRecord(p.bestpath) && p.bestpath.overall === true);
    assert.equal(p.originatorId, high);
    assert.deepEqual(frrClusterList(p), [CLUSTER_ID]);
    assert.deepEqual(sorted(frrExtCommunities(p)), sorted(['RT:65000:100', 'ET:8', 'MM:7']));
    assert.equal(p.vni, '10100');

    // The loser leaves first, so the best path never changes before the withdraw and the capture
    // shows exactly what vmmid reflected while both were there.
    const [loser, winner] = order === 'low first' ? [first, second] : [second, first];
    await loser.injector.close();
    await winner.injector.close();
    await waitFor(() => v.rib.destination(L2VPN_EVPN, key) === undefined, { what: `${order}: vmmid drops both paths` });
    await waitFor(async () => (await frrMacIpPaths(frr, rd, mac, ip)).length === 0, { what: `${order}: FRR loses the route` });
  };
  await scenario('low first', low1, high1, '52:54:00:aa:bb:03', '10.1.1.30');
  await scenario('high first', low2, high2, '52:54:00:aa:bb:04', '10.1.1.40');

  const pcap = await run.finish();
  const check = await checkPcap(pcap, [179]);
  assert.deepEqual(check.problems, []);
  // The injectors' UPDATEs are the project's encoder; vmmid's to FRR its re-encoding of the winner.
  const seqOf = async (src: string, dst: string) =>
    decodeFields(pcap, [179], `ip.src == ${src} && ip.dst == ${dst} && bgp.evpn.nlri`, ['bgp.evpn.nlri.mac_addr', 'bgp.ext_com_evpn.mmac.seq']);
  for (const [low, high, mac] of [
    [low1, high1, '52:54:00:aa:bb:03'],
    [low2, high2, '52:54:00:aa:bb:04'],
  ] as const) {
    const fromLow = await seqOf(low, rr);
    assert.deepEqual([...values(fromLow, 'bgp.evpn.nlri.mac_addr')], [mac]);
    assert.deepEqual([...values(fromLow, 'bgp.ext_com_evpn.mmac.seq')], ['5']);
    assert.deepEqual([...values(await seqOf(high, rr), 'bgp.ext_com_evpn.mmac.seq')], ['7']);
  }
  const toFrr = await seqOf(rr, f1);
  const seqsFor = (mac: string) => values(toFrr.filter((f) => f['bgp.evpn.nlri.mac_addr']?.includes(mac)), 'bgp.ext_com_evpn.mmac.seq');
  // "low first" may reflect seq 5 before 7 arrives; "high first" must never reflect the stale seq 5.
  assert.ok(seqsFor('52:54:00:aa:bb:03').has('7'));
  assert.deepEqual([...seqsFor('52:54:00:aa:bb:04')], ['7']);
});
