/**
 * Smoke test of the interop harness itself: FRR and gobgpd peer over loopback
 * (iBGP, ipv4-unicast), FRR's network reaches GoBGP, tshark sees clean BGP,
 * and stop() really ends both daemons.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkPcap,
  freeLoopback,
  frrConfig,
  gobgpConfig,
  needPeers,
  processGone,
  startCapture,
  startFrr,
  startGobgp,
  waitFor,
  type Capture,
  type FrrHandle,
  type GobgpHandle,
} from './harness/index.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function frrState(j: unknown, peer: string): unknown {
  return isRecord(j) && isRecord(j[peer]) ? j[peer].bgpState : undefined;
}

/** `gobgp neighbor -j` is an array of peers; session_state 6 is ESTABLISHED in GoBGP's API enum. */
function gobgpState(j: unknown, peer: string): unknown {
  if (!Array.isArray(j)) return undefined;
  for (const p of j as unknown[]) {
    if (isRecord(p) && isRecord(p.state) && p.state.neighbor_address === peer) return p.state.session_state;
  }
  return undefined;
}

test('FRR and GoBGP peer over loopback, exchange a route, and stop cleanly', async (t) => {
  if (!needPeers(t, 'frr', 'gobgp-suite', 'tshark')) return;
  const frrAddr = freeLoopback(import.meta.url);
  const gobgpAddr = freeLoopback(import.meta.url);
  const asn = 65000;

  let capture: Capture | undefined;
  let frr: FrrHandle | undefined;
  let gobgp: GobgpHandle | undefined;
  t.after(async () => {
    await Promise.allSettled([frr?.stop(), gobgp?.stop(), capture?.stop()]);
  });

  capture = await startCapture({ ports: [179], addresses: [frrAddr, gobgpAddr], name: 'harness-smoke-capture' });
  frr = await startFrr({
    name: 'harness-smoke-frr',
    address: frrAddr,
    port: 179,
    config: frrConfig({
      routerId: frrAddr,
      asn,
      neighbors: [
        { address: gobgpAddr, remoteAs: asn, updateSource: frrAddr, families: ['ipv4-unicast'], routeMapOut: 'NH' },
      ],
      networks: { 'ipv4-unicast': ['10.55.0.0/24'] },
      // GoBGP treats an UPDATE with a 127/8 next hop as a withdraw ("invalid nexthop address").
      trailer: ['route-map NH permit 10', ' set ip next-hop 10.0.0.1', 'exit'],
    }),
  });
  gobgp = await startGobgp({
    name: 'harness-smoke-gobgp',
    address: gobgpAddr,
    port: 179,
    config: gobgpConfig({
      asn,
      routerId: gobgpAddr,
      port: 179,
      localAddresses: [gobgpAddr],
      neighbors: [{ address: frrAddr, peerAs: asn, localAddress: gobgpAddr, families: ['ipv4-unicast'] }],
    }),
  });
  const f = frr;
  const g = gobgp;

  await waitFor(async () => frrState(await f.json(`show bgp neighbors ${gobgpAddr} json`), gobgpAddr), {
    what: `FRR ${frrAddr} → ${gobgpAddr} Established`,
    until: (s) => s === 'Established',
  });
  await waitFor(async () => gobgpState(await g.json(['neighbor']), frrAddr), {
    what: `GoBGP ${gobgpAddr} → ${frrAddr} Established`,
    until: (s) => s === 6,
  });

  const rib = await waitFor(() => g.json(['global', 'rib']), {
    what: '10.55.0.0/24 in GoBGP global rib',
    until: (r) => isRecord(r) && Array.isArray(r['10.55.0.0/24']) && r['10.55.0.0/24'].length > 0,
  });
  assert.ok(isRecord(rib));
  const paths = rib['10.55.0.0/24'];
  assert.ok(Array.isArray(paths));
  assert.match(JSON.stringify(paths), /10\.0\.0\.1/, 'next hop from FRR route-map');

  const pids = [f.pid, g.pid];
  await Promise.all([f.stop(), g.stop()]);
  for (const pid of pids) assert.ok(processGone(pid), `pid ${pid} still running after stop()`);

  const pcap = await capture.stop();
  capture = undefined;
  const check = await checkPcap(pcap, [179]);
  assert.deepEqual(check.problems, [], 'tshark found malformed BGP or expert warnings');
  assert.ok(check.bgpMessages > 0, `no BGP messages in ${pcap}`);
});
