import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytesToIp, ipv4ToNumber } from '../../src/core/ip.js';
import { L2VPN_EVPN } from '../../src/bgp/wire/family.js';
import { Writer } from '../../src/bgp/wire/writer.js';
import {
  type EvpnRoute,
  type ExtCommunity,
  type PmsiTunnel,
  decodeExtCommunities,
  decodePmsiTunnel,
  encodeExtCommunities,
  encodePmsiTunnel,
  evpnCodec,
  formatExtCommunities,
} from '../../src/evpn/index.js';
import { ZERO_ESI_TEXT as Z, decodeEvpnUpdate, evpnVectors, ip, mac, rawAttributes, rawNlriField, routeView, vector } from './support.js';

/*
 * Every field of every captured EVPN UPDATE, written out from the tshark notes in
 * test/vectors/evpn-vpn-messages.json, then the NLRI and extended communities re-encoded and
 * compared with the captured octets.
 */

const rt = (admin: number, assigned: number): ExtCommunity => ({ kind: 'route-target', format: 'as2', admin, assigned });
const VXLAN: ExtCommunity = { kind: 'encapsulation', tunnelType: 8 };
const rmac = (m: string): ExtCommunity => ({ kind: 'router-mac', mac: mac(m) });
const mm = (seq: number): ExtCommunity => ({ kind: 'mac-mobility', sticky: false, seq });

interface Expected {
  readonly name: string;
  /** MP_REACH next hop as text; absent for withdrawals. */
  readonly nextHop?: string;
  readonly routes: readonly Record<string, string | number>[];
  readonly ecs?: readonly ExtCommunity[];
  /** FRR's `extendedCommunity.string` for the same list. */
  readonly ecText?: string;
  readonly pmsi?: PmsiTunnel;
  /** Set on routes FRR reflected: ORIGINATOR_ID and CLUSTER_LIST (RFC 4456). */
  readonly reflectedFrom?: string;
}

const ESI_LACP = '01:aa:bb:cc:dd:ee:ff:00:64:00';
const ESI_MSTP = '02:aa:bb:cc:dd:ee:01:80:00:00';
const ESI_ARB = '00:11:22:33:44:55:66:77:88:99';
const ESI_MAC = '03:aa:bb:cc:dd:ee:02:00:00:64';
const ESI_AS = '05:00:00:fd:e8:00:00:00:64:00';
const ESI_RID = '04:0a:00:00:10:00:00:00:05:00';

const macIp = (rd: string, m: string, ipText: string | undefined, label1: string, label2?: string, esi = Z): Record<string, string | number> => {
  const v: Record<string, string | number> = { kind: 'mac-ip', rd, esi, tag: 0, mac: m, label1 };
  if (ipText !== undefined) v.ip = ipText;
  if (label2 !== undefined) v.label2 = label2;
  return v;
};
const ad = (rd: string, esi: string, tag: number, label: string): Record<string, string | number> => ({ kind: 'ethernet-ad', rd, esi, tag, label });
const es = (rd: string, esi: string, originator: string): Record<string, string | number> => ({ kind: 'ethernet-segment', rd, esi, originator });
const pfx = (rd: string, prefix: string, gateway: string, label: string): Record<string, string | number> => ({ kind: 'ip-prefix', rd, esi: Z, tag: 0, prefix, gateway, label });

const A = '127.0.9.14';
const B = '127.0.9.15';
const B03 = '52:54:00:aa:bb:03';

const EXPECTED: readonly Expected[] = [
  { name: 'frr-ibgp-eor-l2vpn-evpn', routes: [] },
  {
    name: 'frr-ibgp-update-l2vpn-evpn-type5-10.30.0.0/24',
    nextHop: '::ffff:7f00:901',
    routes: [pfx('127.0.9.1:5000', '10.30.0.0/24', '0.0.0.0', '013881')],
    ecs: [rmac('52:54:00:00:00:02')],
    ecText: 'Rmac:52:54:00:00:00:02',
  },
  {
    name: 'gobgp-ibgp-update-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:01-10.1.1.10',
    nextHop: '10.0.0.2',
    routes: [macIp('127.0.9.2:100', '52:54:00:aa:bb:01', '10.1.1.10', '002774')],
    ecs: [rt(65000, 100), VXLAN],
    ecText: 'RT:65000:100 ET:8',
  },
  {
    name: 'gobgp-ibgp-update-l2vpn-evpn-type2-mac-only-52:54:00:aa:bb:02',
    nextHop: '10.0.0.2',
    routes: [macIp('127.0.9.2:100', '52:54:00:aa:bb:02', undefined, '002774')],
    ecs: [rt(65000, 100), VXLAN],
  },
  {
    name: 'gobgp-ibgp-update-l2vpn-evpn-type3-10.0.0.2',
    nextHop: '10.0.0.2',
    routes: [{ kind: 'inclusive-multicast', rd: '127.0.9.2:100', tag: 0, originator: '10.0.0.2' }],
    ecs: [rt(65000, 100), VXLAN],
    pmsi: { kind: 'ingress-replication', tunnelType: 6, flags: 0, label: Buffer.from('002774', 'hex'), endpoint: ip('10.0.0.2') },
  },
  {
    name: 'gobgp-ibgp-update-l2vpn-evpn-type5-10.20.0.0/24',
    nextHop: '10.0.0.2',
    routes: [pfx('127.0.9.2:5000', '10.20.0.0/24', '0.0.0.0', '00c350')],
    ecs: [rt(65000, 5000), VXLAN, rmac('52:54:00:00:00:01')],
    ecText: 'RT:65000:5000 ET:8 Rmac:52:54:00:00:00:01',
  },
  {
    name: 'gobgp-ibgp-withdraw-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:01-10.1.1.10',
    routes: [macIp('127.0.9.2:100', '52:54:00:aa:bb:01', '10.1.1.10', '002774')],
  },
  // S7: GoBGP A/B through the FRR route reflector 127.0.9.13. FRR zeroes the type 1 label on reflection.
  ...(['gobgp-evpn-a', 'frr-evpn-rr'] as const).flatMap((s): Expected[] => {
    const frr = s === 'frr-evpn-rr';
    const via = frr ? { reflectedFrom: A } : {};
    return [
      {
        name: `${s}-update-l2vpn-evpn-type1-esi01aabbccddeeff006400-etag201`,
        nextHop: '10.0.0.14',
        routes: [ad(`${A}:201`, ESI_LACP, 201, frr ? '000000' : '00012c')],
        ecs: [rt(65000, 201), VXLAN, { kind: 'esi-label', singleActive: false, label: Buffer.from('000190', 'hex') }],
        ecText: 'RT:65000:201 ET:8 ESI-label-Rt:AA',
        ...via,
      },
      {
        name: `${s}-update-l2vpn-evpn-type1-esi02aabbccddee01800000-etag202`,
        nextHop: '10.0.0.14',
        routes: [ad('65000:202', ESI_MSTP, 202, frr ? '000000' : '003e80')],
        ecs: [{ kind: 'route-target', format: 'ipv4', admin: ipv4ToNumber('10.0.0.14')!, assigned: 202 }, { kind: 'encapsulation', tunnelType: 10 }],
        ecText: 'RT:10.0.0.14:202 ET:10',
        ...via,
      },
      {
        name: `${s}-update-l2vpn-evpn-type1-esi00112233445566778899-etag203`,
        nextHop: '10.0.0.14',
        routes: [ad('4200000000:203', ESI_ARB, 203, '000000')],
        ecs: [{ kind: 'route-target', format: 'as4', admin: 4200000000, assigned: 203 }],
        ecText: 'RT:4200000000:203',
        ...via,
      },
      {
        name: `${s}-update-l2vpn-evpn-type4-esi03aabbccddee02000064-10.0.0.14`,
        nextHop: '10.0.0.14',
        routes: [es(`${A}:4`, ESI_MAC, '10.0.0.14')],
        ecs: [rt(65000, 204), VXLAN, { kind: 'es-import', mac: mac('aa:bb:cc:dd:ee:02') }],
        ecText: 'RT:65000:204 ET:8 ES-Import-Rt:aa:bb:cc:dd:ee:02',
        ...via,
      },
      {
        name: `${s}-update-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:03-10.1.1.30`,
        nextHop: '10.0.0.14',
        routes: [macIp(`${A}:100`, B03, '10.1.1.30', '002774', '00c350')],
        ecs: [rt(65000, 100), VXLAN, rmac('52:54:00:00:00:14')],
        ...via,
      },
      {
        name: `${s}-update-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:04-2001:db8:1::40`,
        nextHop: '10.0.0.14',
        routes: [macIp(`${A}:100`, '52:54:00:aa:bb:04', '2001:db8:1::40', '002774', undefined, ESI_AS)],
        ecs: [rt(65000, 100), VXLAN, { kind: 'default-gateway' }],
        ecText: 'RT:65000:100 ET:8 Default Gateway',
        ...via,
      },
      {
        // FRR 8.4 reflects a MAC-only route with its first label only.
        name: `${s}-update-l2vpn-evpn-type2-mac-only-52:54:00:aa:bb:05`,
        nextHop: '10.0.0.14',
        routes: [macIp(`${A}:100`, '52:54:00:aa:bb:05', undefined, '002774', frr ? undefined : '00c350')],
        ecs: [rt(65000, 100), VXLAN],
        ...via,
      },
      {
        // FRR 8.4 reflects a type 5 route with the gateway IP zeroed.
        name: `${s}-update-l2vpn-evpn-type5-2001:db8:20::/64`,
        nextHop: '2001:db8::14',
        routes: [pfx(`${A}:5000`, '2001:db8:20::/64', frr ? '::' : '2001:db8::1', '00c350')],
        ecs: [rt(65000, 5000), VXLAN, rmac('52:54:00:00:00:14')],
        ...via,
      },
      {
        name: `${s}-withdraw-l2vpn-evpn-type1-esi01aabbccddeeff006400-etag201`,
        routes: [ad(`${A}:201`, ESI_LACP, 201, frr ? '000000' : '00012c')],
      },
      { name: `${s}-withdraw-l2vpn-evpn-type4-esi03aabbccddee02000064-10.0.0.14`, routes: [es(`${A}:4`, ESI_MAC, '10.0.0.14')] },
      {
        name: `${s}-withdraw-l2vpn-evpn-type5-2001:db8:20::/64`,
        routes: [pfx(`${A}:5000`, '2001:db8:20::/64', frr ? '::' : '2001:db8::1', frr ? '000000' : '00c350')],
      },
    ];
  }),
  // MAC Mobility: B announces A's MAC (GoBGP adds MM:0), A withdraws, A announces again (MM:1), B withdraws.
  {
    name: 'gobgp-evpn-b-update-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:03-10.1.1.30',
    nextHop: '10.0.0.15',
    routes: [macIp(`${B}:100`, B03, '10.1.1.30', '002774')],
    ecs: [rt(65000, 100), VXLAN, mm(0)],
    ecText: 'RT:65000:100 ET:8 MM:0',
  },
  {
    name: 'frr-evpn-rr-update-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:03-10.1.1.30-2',
    nextHop: '10.0.0.15',
    routes: [macIp(`${B}:100`, B03, '10.1.1.30', '002774')],
    ecs: [rt(65000, 100), VXLAN, mm(0)],
    reflectedFrom: B,
  },
  { name: 'gobgp-evpn-a-withdraw-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:03-10.1.1.30', routes: [macIp(`${A}:100`, B03, '10.1.1.30', '002774', '00c350')] },
  // FRR withdraws with a zero label and no second label: labels are not part of the route key.
  { name: 'frr-evpn-rr-withdraw-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:03-10.1.1.30', routes: [macIp(`${A}:100`, B03, '10.1.1.30', '000000')] },
  {
    name: 'gobgp-evpn-a-update-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:03-10.1.1.30-2',
    nextHop: '10.0.0.14',
    routes: [macIp(`${A}:100`, B03, '10.1.1.30', '002774', '00c350')],
    ecs: [rt(65000, 100), VXLAN, rmac('52:54:00:00:00:14'), mm(1)],
    ecText: 'RT:65000:100 ET:8 Rmac:52:54:00:00:00:14 MM:1',
  },
  {
    // FRR puts the communities in its own order (sorted by type and subtype).
    name: 'frr-evpn-rr-update-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:03-10.1.1.30-3',
    nextHop: '10.0.0.14',
    routes: [macIp(`${A}:100`, B03, '10.1.1.30', '002774', '00c350')],
    ecs: [rt(65000, 100), VXLAN, mm(1), rmac('52:54:00:00:00:14')],
    ecText: 'RT:65000:100 ET:8 MM:1 Rmac:52:54:00:00:00:14',
    reflectedFrom: A,
  },
  { name: 'gobgp-evpn-b-withdraw-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:03-10.1.1.30', routes: [macIp(`${B}:100`, B03, '10.1.1.30', '002774')] },
  { name: 'frr-evpn-rr-withdraw-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:03-10.1.1.30-2', routes: [macIp(`${B}:100`, B03, '10.1.1.30', '000000')] },
  // S8: GoBGP to GoBGP, what FRR 8.4 refuses.
  {
    name: 'gobgp-evpn-c-update-l2vpn-evpn-type4-esi040a0000100000000500-2001:db8::16',
    nextHop: '10.0.0.16',
    routes: [es('127.0.9.16:5', ESI_RID, '2001:db8::16')],
  },
  {
    name: 'gobgp-evpn-c-update-l2vpn-evpn-type3-2001:db8::16',
    nextHop: '2001:db8::16',
    routes: [{ kind: 'inclusive-multicast', rd: '127.0.9.16:100', tag: 0, originator: '2001:db8::16' }],
    ecs: [rt(65000, 100), VXLAN],
    pmsi: { kind: 'ingress-replication', tunnelType: 6, flags: 0, label: Buffer.from('002774', 'hex'), endpoint: ip('2001:db8::16') },
  },
];

/**
 * The PMSI_TUNNEL value as the UPDATE decoder keeps it: PathAttributes.pmsiTunnel once the wire
 * layer knows type 22, an unknown optional transitive attribute before that.
 */
function pmsiValue(u: ReturnType<typeof decodeEvpnUpdate>): Buffer | undefined {
  const typed: unknown = Reflect.get(u.attrs, 'pmsiTunnel');
  if (Buffer.isBuffer(typed)) return typed;
  return u.attrs.unknown?.find((a) => a.type === 22)?.value;
}

function routesOf(v: ReturnType<typeof decodeEvpnUpdate>): EvpnRoute[] {
  const list = v.mpReach?.nlri ?? v.mpUnreach?.withdrawn ?? [];
  return list as EvpnRoute[];
}

test('every EVPN vector has explicit expectations', () => {
  const covered = new Set(EXPECTED.map((e) => e.name));
  assert.deepEqual(evpnVectors.map((v) => v.name).filter((n) => !covered.has(n)), []);
});

for (const e of EXPECTED) {
  test(`vector ${e.name}: every field`, () => {
    const v = vector(e.name);
    const u = decodeEvpnUpdate(v);
    if (e.routes.length === 0) {
      assert.equal(u.endOfRib, L2VPN_EVPN);
      return;
    }
    if (e.nextHop !== undefined) {
      assert.equal(u.mpReach?.family, L2VPN_EVPN);
      assert.equal(bytesToIp(u.mpReach!.nextHop), e.nextHop);
      assert.equal(u.mpUnreach, undefined);
    } else {
      assert.equal(u.mpReach, undefined);
      assert.equal(u.mpUnreach?.family, L2VPN_EVPN);
    }
    const routes = routesOf(u);
    assert.deepEqual(routes.map(routeView), e.routes);
    for (const r of routes) assert.equal(r.pathId, 0);

    const ecs = u.attrs.extCommunities === undefined ? undefined : decodeExtCommunities(u.attrs.extCommunities);
    assert.deepEqual(ecs, e.ecs);
    if (e.ecText !== undefined) assert.equal(formatExtCommunities(ecs ?? []), e.ecText);

    const pmsiRaw = pmsiValue(u);
    assert.deepEqual(pmsiRaw, rawAttributes(v).get(22));
    if (e.pmsi === undefined) assert.equal(pmsiRaw, undefined);
    else {
      const p = decodePmsiTunnel(pmsiRaw!);
      assert.ok(p.ok);
      assert.deepEqual(p.value, e.pmsi);
    }
    if (e.reflectedFrom !== undefined) {
      assert.equal(u.attrs.originatorId, ipv4ToNumber(e.reflectedFrom));
      assert.deepEqual(u.attrs.clusterList, [ipv4ToNumber('127.0.9.13')]);
    } else {
      assert.equal(u.attrs.originatorId, undefined);
    }
  });
}

for (const v of evpnVectors) {
  test(`vector ${v.name}: NLRI, extended communities and PMSI re-encode to the captured octets`, () => {
    const u = decodeEvpnUpdate(v);
    const w = new Writer();
    for (const r of routesOf(u)) evpnCodec.encode(w, r, false);
    assert.equal(w.toBuffer().toString('hex'), rawNlriField(v).toString('hex'));

    const raw = rawAttributes(v);
    const ec = raw.get(16);
    if (ec) assert.equal(encodeExtCommunities(decodeExtCommunities(ec)).toString('hex'), ec.toString('hex'));
    const pmsi = raw.get(22);
    if (pmsi) {
      const p = decodePmsiTunnel(pmsi);
      assert.ok(p.ok);
      assert.equal(encodePmsiTunnel(p.value).toString('hex'), pmsi.toString('hex'));
    }
  });
}

test('a withdrawal finds the route it withdraws, whatever labels it carries', () => {
  const keyOf = (name: string): string => routesOf(decodeEvpnUpdate(vector(name)))[0]!.key;
  const pairs: [string, string][] = [
    ['gobgp-ibgp-update-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:01-10.1.1.10', 'gobgp-ibgp-withdraw-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:01-10.1.1.10'],
    // FRR's withdrawal carries label 0 and drops label 2.
    ['gobgp-evpn-a-update-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:03-10.1.1.30', 'frr-evpn-rr-withdraw-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:03-10.1.1.30'],
    ['gobgp-evpn-b-update-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:03-10.1.1.30', 'frr-evpn-rr-withdraw-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:03-10.1.1.30-2'],
    // Type 1: GoBGP's label 300, FRR's 0. Type 5: FRR drops the gateway and the label.
    ['gobgp-evpn-a-update-l2vpn-evpn-type1-esi01aabbccddeeff006400-etag201', 'frr-evpn-rr-withdraw-l2vpn-evpn-type1-esi01aabbccddeeff006400-etag201'],
    ['gobgp-evpn-a-update-l2vpn-evpn-type5-2001:db8:20::/64', 'frr-evpn-rr-withdraw-l2vpn-evpn-type5-2001:db8:20::/64'],
    ['gobgp-evpn-a-update-l2vpn-evpn-type4-esi03aabbccddee02000064-10.0.0.14', 'frr-evpn-rr-withdraw-l2vpn-evpn-type4-esi03aabbccddee02000064-10.0.0.14'],
  ];
  for (const [announce, withdraw] of pairs) assert.equal(keyOf(withdraw), keyOf(announce), withdraw);
  // The same MAC/IP under two RDs (A's and B's) are two routes.
  assert.notEqual(
    keyOf('gobgp-evpn-a-update-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:03-10.1.1.30'),
    keyOf('gobgp-evpn-b-update-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:03-10.1.1.30'),
  );
});

test('vector routes print as FRR prints them', () => {
  const fmt = (name: string): string => evpnCodec.format(routesOf(decodeEvpnUpdate(vector(name)))[0]!);
  assert.equal(fmt('gobgp-ibgp-update-l2vpn-evpn-type2-mac-ip-52:54:00:aa:bb:01-10.1.1.10'), 'RD 127.0.9.2:100 [2]:[0]:[48]:[52:54:00:aa:bb:01]:[32]:[10.1.1.10]');
  assert.equal(fmt('gobgp-ibgp-update-l2vpn-evpn-type2-mac-only-52:54:00:aa:bb:02'), 'RD 127.0.9.2:100 [2]:[0]:[48]:[52:54:00:aa:bb:02]');
  assert.equal(fmt('gobgp-ibgp-update-l2vpn-evpn-type3-10.0.0.2'), 'RD 127.0.9.2:100 [3]:[0]:[32]:[10.0.0.2]');
  assert.equal(fmt('frr-ibgp-update-l2vpn-evpn-type5-10.30.0.0/24'), 'RD 127.0.9.1:5000 [5]:[0]:[24]:[10.30.0.0]');
  assert.equal(fmt('gobgp-evpn-a-update-l2vpn-evpn-type5-2001:db8:20::/64'), 'RD 127.0.9.14:5000 [5]:[0]:[64]:[2001:db8:20::]');
  assert.equal(fmt('gobgp-evpn-a-update-l2vpn-evpn-type1-esi01aabbccddeeff006400-etag201'), `RD ${A}:201 [1]:[201]:[${ESI_LACP}]`);
  assert.equal(fmt('gobgp-evpn-c-update-l2vpn-evpn-type4-esi040a0000100000000500-2001:db8::16'), `RD 127.0.9.16:5 [4]:[${ESI_RID}]:[128]:[2001:db8::16]`);
});
