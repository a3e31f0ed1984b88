/**
 * vmmi against gobgpd 3.10: iBGP and eBGP, vmmid active and passive, IPv4 and
 * IPv6 unicast both ways, withdraws, and a tshark check. (GoBGP 3.10's
 * softresetin sends no ROUTE-REFRESH, so route refresh is tested against FRR.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AsPathSegmentType, Origin } from '../src/bgp/wire/constants.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../src/bgp/wire/family.js';
import type { Speaker } from '../src/speaker.js';
import {
  type Capture,
  type GobgpHandle,
  checkPcap,
  freeLoopback,
  gobgpConfig,
  needPeers,
  startCapture,
  startGobgp,
  waitFor,
} from './harness/index.js';
import { gobgpAttrs, gobgpEstablished, isRecord } from './support/peers.js';
import { startVmmi, vmmiBest, vmmiEstablished } from './support/vmmi.js';

const cases = [
  { name: 'iBGP, vmmid active', ibgp: true, vmmidPassive: false },
  { name: 'iBGP, vmmid passive', ibgp: true, vmmidPassive: true },
  { name: 'eBGP, vmmid active', ibgp: false, vmmidPassive: false },
  { name: 'eBGP, vmmid passive', ibgp: false, vmmidPassive: true },
] as const;

describe('vmmi ↔ GoBGP', () => {
  for (const c of cases) {
    test(`${c.name}: IPv4 and IPv6 routes both ways, withdraws, clean on the wire`, async (t) => {
      if (!needPeers(t, 'gobgp-suite', 'tshark')) return;
      const me = freeLoopback(import.meta.url);
      const them = freeLoopback(import.meta.url);
      const myAs = 65000;
      const theirAs = c.ibgp ? 65000 : 65001;
      let capture: Capture | undefined;
      let gobgp: GobgpHandle | undefined;
      let vmmi: Speaker | undefined;
      t.after(async () => {
        await vmmi?.stop();
        await Promise.allSettled([gobgp?.stop(), capture?.stop()]);
      });
      capture = await startCapture({ ports: [179], addresses: [me, them], name: 'gobgp-capture' });
      gobgp = await startGobgp({
        name: 'gobgp',
        address: them,
        port: 179,
        config: gobgpConfig({
          asn: theirAs,
          routerId: them,
          port: 179,
          localAddresses: [them],
          neighbors: [{ address: me, peerAs: myAs, localAddress: them, families: ['ipv4-unicast', 'ipv6-unicast'], passive: !c.vmmidPassive }],
        }),
      });
      const g = gobgp;
      vmmi = await startVmmi(
        {
          address: me,
          asn: myAs,
          neighbors: [{ address: them, remoteAs: theirAs, passive: c.vmmidPassive }],
          originate: [
            { family: 'ipv4-unicast', prefix: '10.72.0.0/24', nextHop: '10.0.0.1', med: 50, communities: ['65000:7'] },
            { family: 'ipv6-unicast', prefix: '2001:db8:72::/48', nextHop: '2001:db8::1' },
          ],
        },
      );
      const v = vmmi;
      await vmmiEstablished(v, them);
      await gobgpEstablished(g, me);

      // vmmi → GoBGP
      const a4 = await waitFor(() => gobgpAttrs(g, 'ipv4', '10.72.0.0/24'), { what: 'GoBGP has 10.72.0.0/24' });
      assert.equal(a4.get(1)?.value, 0, 'ORIGIN IGP');
      assert.equal(a4.get(3)?.nexthop, '10.0.0.1');
      assert.equal(a4.get(4)?.metric, 50);
      assert.deepEqual(a4.get(8)?.communities, [65000 * 65536 + 7]);
      assert.deepEqual(a4.get(2)?.as_paths ?? [], c.ibgp ? [] : [{ segment_type: 2, num: 1, asns: [65000] }]);
      if (c.ibgp) assert.equal(a4.get(5)?.value, 100);
      const a6 = await waitFor(() => gobgpAttrs(g, 'ipv6', '2001:db8:72::/48'), { what: 'GoBGP has 2001:db8:72::/48' });
      assert.equal(a6.get(14)?.nexthop, '2001:db8::1');

      // GoBGP → vmmi
      await g.cli(['global', 'rib', 'add', '10.71.0.0/24', 'nexthop', '10.0.0.2', 'origin', 'igp', 'med', '30', '-a', 'ipv4']);
      await g.cli(['global', 'rib', 'add', '2001:db8:71::/48', 'nexthop', '2001:db8::2', '-a', 'ipv6']);
      const r4 = await waitFor(() => vmmiBest(v, IPV4_UNICAST, '10.71.0.0/24'), { what: 'vmmi has 10.71.0.0/24' });
      assert.equal(r4.attrs.origin, Origin.Igp);
      assert.deepEqual([...(r4.attrs.nextHop ?? [])], [10, 0, 0, 2]);
      assert.equal(r4.attrs.med, 30);
      assert.deepEqual(r4.attrs.asPath, c.ibgp ? [] : [{ type: AsPathSegmentType.AsSequence, asns: [65001] }]);
      const r6 = await waitFor(() => vmmiBest(v, IPV6_UNICAST, '2001:db8:71::/48'), { what: 'vmmi has 2001:db8:71::/48' });
      assert.equal(r6.attrs.nextHop?.subarray(0, 16).toString('hex'), '20010db8000000000000000000000002');

      // Withdraws, both ways
      assert.ok(v.withdrawOriginated(IPV6_UNICAST, '2001:db8:72::/48'));
      await waitFor(async () => (await gobgpAttrs(g, 'ipv6', '2001:db8:72::/48')) === undefined, { what: 'GoBGP drops 2001:db8:72::/48' });
      await g.cli(['global', 'rib', 'del', '10.71.0.0/24', '-a', 'ipv4']);
      await waitFor(() => vmmiBest(v, IPV4_UNICAST, '10.71.0.0/24') === undefined, { what: 'vmmi drops 10.71.0.0/24' });
      assert.ok(vmmiBest(v, IPV6_UNICAST, '2001:db8:71::/48'), 'the other GoBGP route stays');

      await v.stop();
      vmmi = undefined;
      await g.stop();
      gobgp = undefined;
      const pcap = await capture.stop();
      capture = undefined;
      const check = await checkPcap(pcap, [179]);
      assert.deepEqual(check.problems, [], 'tshark found malformed BGP or expert warnings');
      assert.ok(check.bgpMessages >= 10, `only ${check.bgpMessages} BGP messages in ${check.frames} frames of ${pcap}`);
    });
  }
});
