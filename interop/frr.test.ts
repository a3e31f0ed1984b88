/**
 * vmmi against FRR 8.4 bgpd: iBGP and eBGP, vmmid active and passive, IPv4 and
 * IPv6 unicast both ways, withdraws, Cease on shutdown, hold-timer expiry, and a
 * tshark check of every message on the wire.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { AsPathSegmentType, Origin } from '../src/bgp/wire/constants.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../src/bgp/wire/family.js';
import type { Speaker } from '../src/speaker.js';
import {
  type Capture,
  type FrrHandle,
  checkPcap,
  decodeFields,
  freeLoopback,
  frrConfig,
  needPeers,
  startCapture,
  startFrr,
  waitFor,
} from './harness/index.js';
import { frrEstablished, frrNextHop as nextHopOf, frrPath, isRecord } from './support/peers.js';
import { MemoryLog, spawnVmmid, startVmmi, vmmiBest, vmmiEstablished } from './support/vmmi.js';

const cases = [
  { name: 'iBGP, vmmid active', ibgp: true, vmmidPassive: false },
  { name: 'iBGP, vmmid passive', ibgp: true, vmmidPassive: true },
  { name: 'eBGP, vmmid active', ibgp: false, vmmidPassive: false },
  { name: 'eBGP, vmmid passive', ibgp: false, vmmidPassive: true },
] as const;

describe('vmmi ↔ FRR', () => {
  for (const c of cases) {
    test(`${c.name}: IPv4 and IPv6 routes both ways, route refresh, withdraws, clean on the wire`, async (t) => {
      if (!needPeers(t, 'frr', 'tshark')) return;
      const me = freeLoopback(import.meta.url);
      const them = freeLoopback(import.meta.url);
      const myAs = 65000;
      const theirAs = c.ibgp ? 65000 : 65001;
      let capture: Capture | undefined;
      let frr: FrrHandle | undefined;
      let vmmi: Speaker | undefined;
      t.after(async () => {
        await vmmi?.stop();
        await Promise.allSettled([frr?.stop(), capture?.stop()]);
      });
      capture = await startCapture({ ports: [179], addresses: [me, them], name: 'frr-capture' });
      frr = await startFrr({
        name: 'frr',
        address: them,
        port: 179,
        config: frrConfig({
          routerId: them,
          asn: theirAs,
          neighbors: [
            {
              address: me,
              remoteAs: myAs,
              updateSource: them,
              families: ['ipv4-unicast', 'ipv6-unicast'],
              passive: !c.vmmidPassive,
              routeMapOut: 'NH',
            },
          ],
          networks: { 'ipv4-unicast': ['10.61.0.0/24'], 'ipv6-unicast': ['2001:db8:61::/48'] },
          trailer: ['route-map NH permit 10', ' set ip next-hop 10.0.0.2', ' set ipv6 next-hop global 2001:db8::2', 'exit'],
        }),
      });
      const f = frr;
      const log = new MemoryLog();
      vmmi = await startVmmi({
        address: me,
        asn: myAs,
        neighbors: [{ address: them, remoteAs: theirAs, passive: c.vmmidPassive }],
        originate: [
          { family: 'ipv4-unicast', prefix: '10.62.0.0/24', nextHop: '10.0.0.1', med: 50, communities: ['65000:7'] },
          { family: 'ipv6-unicast', prefix: '2001:db8:62::/48', nextHop: '2001:db8::1' },
        ],
      }, log);
      const v = vmmi;
      await vmmiEstablished(v, them);
      await frrEstablished(f, me);

      // vmmi → FRR
      const p4 = await waitFor(() => frrPath(f, 'ipv4', '10.62.0.0/24'), { what: 'FRR has 10.62.0.0/24' });
      assert.equal(nextHopOf(p4), '10.0.0.1');
      assert.equal(p4.metric, 50);
      assert.equal(p4.origin, 'IGP');
      assert.ok(isRecord(p4.community) && p4.community.string === '65000:7', JSON.stringify(p4.community));
      assert.ok(isRecord(p4.aspath));
      // FRR prints an empty AS_PATH as "Local".
      assert.equal(p4.aspath.length, c.ibgp ? 0 : 1);
      if (!c.ibgp) assert.equal(p4.aspath.string, '65000');
      if (c.ibgp) assert.equal(p4.locPrf, 100, JSON.stringify(p4));
      const p6 = await waitFor(() => frrPath(f, 'ipv6', '2001:db8:62::/48'), { what: 'FRR has 2001:db8:62::/48' });
      assert.equal(nextHopOf(p6), '2001:db8::1');

      // FRR → vmmi
      const r4 = await waitFor(() => vmmiBest(v, IPV4_UNICAST, '10.61.0.0/24'), { what: 'vmmi has 10.61.0.0/24' });
      assert.equal(r4.attrs.origin, Origin.Igp);
      assert.deepEqual([...(r4.attrs.nextHop ?? [])], [10, 0, 0, 2]);
      assert.deepEqual(r4.attrs.asPath, c.ibgp ? [] : [{ type: AsPathSegmentType.AsSequence, asns: [65001] }]);
      assert.equal(r4.source.ibgp, c.ibgp);
      if (c.ibgp) assert.equal(r4.attrs.localPref, 100);
      const r6 = await waitFor(() => vmmiBest(v, IPV6_UNICAST, '2001:db8:61::/48'), { what: 'vmmi has 2001:db8:61::/48' });
      assert.equal(r6.attrs.nextHop?.subarray(0, 16).toString('hex'), '20010db8000000000000000000000002');

      // Route refresh: FRR asks (RFC 2918), vmmi answers within BoRR/EoRR (RFC 7313) and FRR keeps the route.
      await f.vtysh(`clear bgp ipv4 unicast ${me} soft in`);
      await waitFor(() => log.entries.some((e) => /route refresh for ipv4-unicast answered/.test(e.msg)), { what: 'vmmi answers ROUTE-REFRESH' });
      await waitFor(() => frrPath(f, 'ipv4', '10.62.0.0/24'), { what: 'FRR still has 10.62.0.0/24 after the refresh' });

      // Withdraws, both ways
      assert.ok(v.withdrawOriginated(IPV4_UNICAST, '10.62.0.0/24'));
      await waitFor(async () => (await frrPath(f, 'ipv4', '10.62.0.0/24')) === undefined, { what: 'FRR drops 10.62.0.0/24' });
      await f.configure(['router bgp ' + theirAs, 'address-family ipv6 unicast', 'no network 2001:db8:61::/48']);
      await waitFor(() => vmmiBest(v, IPV6_UNICAST, '2001:db8:61::/48') === undefined, { what: 'vmmi drops 2001:db8:61::/48' });
      assert.ok(vmmiBest(v, IPV4_UNICAST, '10.61.0.0/24'), 'the other FRR route stays');

      await v.stop();
      vmmi = undefined;
      await f.stop();
      frr = undefined;
      const pcap = await capture.stop();
      capture = undefined;
      const check = await checkPcap(pcap, [179]);
      assert.deepEqual(check.problems, [], 'tshark found malformed BGP or expert warnings');
      assert.ok(check.bgpMessages >= 10, `only ${check.bgpMessages} BGP messages captured`);
      // RFC 7313: FRR's request, then vmmi's BoRR (subtype 1) and EoRR (subtype 2).
      const refreshes = await decodeFields(pcap, [179], `bgp.type == 5 && ip.src == ${me}`, ['bgp.route_refresh.subtype']);
      assert.deepEqual(refreshes.flatMap((r) => r['bgp.route_refresh.subtype'] ?? []), ['1', '2']);
    });
  }

  test('vmmid on SIGTERM sends Cease / Administrative Shutdown with its message and exits 0 within a second', async (t) => {
    if (!needPeers(t, 'frr')) return;
    const me = freeLoopback(import.meta.url);
    const them = freeLoopback(import.meta.url);
    const frr = await startFrr({
      name: 'frr-sigterm',
      address: them,
      port: 179,
      config: frrConfig({
        routerId: them,
        asn: 65001,
        neighbors: [{ address: me, remoteAs: 65000, updateSource: them, families: ['ipv4-unicast'], passive: true }],
      }),
    });
    t.after(() => frr.stop());
    const vmmid = await spawnVmmid('vmmid-sigterm', {
      address: me,
      asn: 65000,
      neighbors: [{ address: them, remoteAs: 65001, families: ['ipv4-unicast'], shutdownMessage: 'vmmi maintenance window' }],
    });
    t.after(() => (vmmid.child.exitCode === null ? vmmid.stop('SIGKILL').then(() => undefined) : undefined));
    await frrEstablished(frr, me);
    const { code, ms } = await vmmid.stop('SIGTERM');
    assert.equal(code, 0, vmmid.output());
    assert.ok(ms < 1000, `vmmid took ${ms} ms to exit`);
    const logged = await waitFor(
      () => {
        const text = readFileSync(frr.logPath, 'utf8');
        return /received from neighbor \S+ 6\/2 \(Cease\/Administrative Shutdown\)/.test(text) ? text : undefined;
      },
      { what: 'FRR logs the Cease NOTIFICATION', timeoutMs: 5_000 },
    );
    assert.match(logged, /vmmi maintenance window/);
    // vmmid logged its side too, as one JSON object per line.
    const sent = vmmid
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((e) => e.event === 'notification');
    assert.ok(sent, vmmid.output());
    assert.match(String(sent.msg), /Cease \/ Administrative Shutdown: "vmmi maintenance window"/);
  });

  test('a peer that stops sending KEEPALIVEs is dropped when the hold timer expires', async (t) => {
    if (!needPeers(t, 'frr')) return;
    const me = freeLoopback(import.meta.url);
    const them = freeLoopback(import.meta.url);
    const frr = await startFrr({
      name: 'frr-hold',
      address: them,
      port: 179,
      config: frrConfig({
        routerId: them,
        asn: 65001,
        neighbors: [{ address: me, remoteAs: 65000, updateSource: them, families: ['ipv4-unicast'], passive: true, timers: { keepalive: 1, hold: 3 } }],
        networks: { 'ipv4-unicast': ['10.63.0.0/24'] },
      }),
    });
    let frozen = false;
    t.after(async () => {
      if (frozen) process.kill(frr.pid, 'SIGCONT');
      await frr.stop();
    });
    const log = new MemoryLog();
    const v = await startVmmi({ address: me, asn: 65000, neighbors: [{ address: them, remoteAs: 65001, holdTime: 3, families: ['ipv4-unicast'] }] }, log);
    t.after(() => v.stop());
    await vmmiEstablished(v, them);
    await waitFor(() => vmmiBest(v, IPV4_UNICAST, '10.63.0.0/24'), { what: 'vmmi has FRR route' });
    // SIGSTOP freezes bgpd with its TCP session open: no KEEPALIVE, no FIN.
    process.kill(frr.pid, 'SIGSTOP');
    frozen = true;
    const t0 = Date.now();
    await waitFor(() => v.peers.get(them)?.state, { what: 'vmmi leaves Established', until: (s) => s !== 'Established', timeoutMs: 10_000 });
    const took = Date.now() - t0;
    assert.ok(took >= 1500 && took <= 5000, `hold timer of 3 s fired after ${took} ms`);
    assert.equal(vmmiBest(v, IPV4_UNICAST, '10.63.0.0/24'), undefined, 'routes of the dead peer are removed');
    assert.ok(
      log.entries.some((e) => /NOTIFICATION sent: Hold Timer Expired/.test(e.msg)),
      log.entries.map((e) => e.msg).join('\n'),
    );
    process.kill(frr.pid, 'SIGCONT');
    frozen = false;
  });
});
