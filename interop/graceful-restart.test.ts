/**
 * Graceful restart as receiver (RFC 4724 §4.2) against gobgpd: when gobgpd is
 * killed, its routes stay in vmmi as stale; when it comes back and sends
 * End-of-RIB, what it re-advertised is fresh and the rest is swept.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IPV4_UNICAST } from '../src/bgp/wire/family.js';
import { type GobgpHandle, freeLoopback, gobgpConfig, needPeers, startGobgp, waitFor } from './harness/index.js';
import { MemoryLog, startVmmi, vmmiBest, vmmiEstablished } from './support/vmmi.js';

/** vmmi (AS 65000) and a gobgpd (AS 65001) with graceful restart for IPv4, on two fresh loopback addresses. */
function grPair(): { me: string; them: string; config: string } {
  const me = freeLoopback(import.meta.url);
  const them = freeLoopback(import.meta.url);
  const config = gobgpConfig({
    asn: 65001,
    routerId: them,
    port: 179,
    localAddresses: [them],
    neighbors: [{ address: me, peerAs: 65000, localAddress: them, families: ['ipv4-unicast'], gracefulRestart: true }],
  });
  return { me, them, config };
}

test('a gobgpd killed and restarted keeps its routes in vmmi as stale until its End-of-RIB', async (t) => {
  if (!needPeers(t, 'gobgp-suite')) return;
  const { me, them, config } = grPair();
  let g: GobgpHandle | undefined = await startGobgp({ name: 'gr-gobgp', address: them, port: 179, config });
  t.after(async () => g?.stop());
  const log = new MemoryLog();
  const v = await startVmmi({ address: me, asn: 65000, neighbors: [{ address: them, remoteAs: 65001, families: ['ipv4-unicast'] }] }, log);
  t.after(() => v.stop());
  await vmmiEstablished(v, them);
  const gr = v.peers.get(them)!.status().negotiated?.peerGracefulRestart;
  assert.ok(gr && gr.families.some((f) => f.afi === 1 && f.safi === 1), `GoBGP advertises GR for IPv4: ${JSON.stringify(gr)}`);
  await g.cli(['global', 'rib', 'add', '10.91.0.0/24', 'nexthop', '10.0.0.9', '-a', 'ipv4']);
  await g.cli(['global', 'rib', 'add', '10.92.0.0/24', 'nexthop', '10.0.0.9', '-a', 'ipv4']);
  await waitFor(() => vmmiBest(v, IPV4_UNICAST, '10.92.0.0/24'), { what: 'vmmi has both routes' });

  // SIGKILL: the TCP session ends without a NOTIFICATION.
  process.kill(g.pid, 'SIGKILL');
  await g.stop();
  g = undefined;
  await waitFor(() => v.peers.get(them)?.state, { what: 'vmmi sees the session end', until: (s) => s !== 'Established' });
  const stale = vmmiBest(v, IPV4_UNICAST, '10.91.0.0/24');
  assert.equal(stale?.stale, true, 'route kept and marked stale');
  assert.equal(vmmiBest(v, IPV4_UNICAST, '10.92.0.0/24')?.stale, true);

  // gobgpd restarts (-r: R bit, and F bit per family: forwarding preserved) with only one of the routes.
  g = await startGobgp({ name: 'gr-gobgp-again', address: them, port: 179, config, args: ['-r'] });
  const g2 = g;
  await vmmiEstablished(v, them);
  const again = v.peers.get(them)!.status().negotiated?.peerGracefulRestart;
  assert.ok(again?.restarting && again.families.every((f) => f.forwarding), `R and F bits: ${JSON.stringify(again)}`);
  await g2.cli(['global', 'rib', 'add', '10.91.0.0/24', 'nexthop', '10.0.0.9', '-a', 'ipv4']);
  await waitFor(() => vmmiBest(v, IPV4_UNICAST, '10.91.0.0/24')?.stale === false, { what: '10.91.0.0/24 fresh again' });
  // GoBGP sends End-of-RIB after its initial table; then the route it did not re-advertise is swept.
  await waitFor(() => vmmiBest(v, IPV4_UNICAST, '10.92.0.0/24') === undefined, { what: '10.92.0.0/24 swept', timeoutMs: 30_000 });
  assert.ok(
    log.entries.some((e) => /graceful restart: \d+ stale ipv4-unicast routes removed \(End-of-RIB\)/.test(e.msg)),
    log.entries.map((e) => e.msg).join('\n'),
  );
});

test('a restarted gobgpd that does not preserve forwarding state has its stale routes removed at once', async (t) => {
  if (!needPeers(t, 'gobgp-suite')) return;
  const { me, them, config } = grPair();
  let g: GobgpHandle | undefined = await startGobgp({ name: 'gr-nof-gobgp', address: them, port: 179, config });
  t.after(async () => g?.stop());
  const v = await startVmmi({ address: me, asn: 65000, neighbors: [{ address: them, remoteAs: 65001, families: ['ipv4-unicast'] }] });
  t.after(() => v.stop());
  await vmmiEstablished(v, them);
  await g.cli(['global', 'rib', 'add', '10.93.0.0/24', 'nexthop', '10.0.0.9', '-a', 'ipv4']);
  await waitFor(() => vmmiBest(v, IPV4_UNICAST, '10.93.0.0/24'), { what: 'vmmi has the route' });
  process.kill(g.pid, 'SIGKILL');
  await g.stop();
  await waitFor(() => vmmiBest(v, IPV4_UNICAST, '10.93.0.0/24')?.stale, { what: 'route kept as stale' });
  // RFC 4724 §4.2: F bit clear in the new OPEN → the stale routes go when the session is back.
  g = await startGobgp({ name: 'gr-nof-gobgp-again', address: them, port: 179, config });
  await vmmiEstablished(v, them);
  assert.equal(vmmiBest(v, IPV4_UNICAST, '10.93.0.0/24'), undefined);
});
