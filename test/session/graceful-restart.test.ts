import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GracefulRestartHelper, type GracefulRestartCapability, STALE_PATH_TIME_MS } from '../../src/bgp/session/graceful-restart.js';
import { CapabilityCode } from '../../src/bgp/wire/constants.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../../src/bgp/wire/family.js';
import { silentLogger } from '../../src/core/log.js';
import { Rib } from '../../src/rib/rib.js';
import { FakeClock } from '../fsm/fake-clock.js';
import { attrs, prefix, source } from '../rib/support.js';

function cap(families: { afi: number; safi: number; forwarding: boolean }[], restartTime = 120): GracefulRestartCapability {
  return { code: CapabilityCode.GracefulRestart, restarting: false, notification: false, restartTime, families };
}

function setup(): { rib: Rib; clock: FakeClock; gr: GracefulRestartHelper } {
  const rib = new Rib();
  const peer = source('1.1.1.1');
  rib.announce(peer, IPV4_UNICAST, prefix('10.1.0.0/24'), attrs());
  rib.announce(peer, IPV4_UNICAST, prefix('10.2.0.0/24'), attrs());
  rib.announce(peer, IPV6_UNICAST, prefix('2001:db8::/32'), attrs());
  const clock = new FakeClock();
  return { rib, clock, gr: new GracefulRestartHelper(rib, '1.1.1.1', clock, silentLogger()) };
}

const v4 = { afi: 1, safi: 1, forwarding: true };

test('routes of the families the peer preserves stay stale until its End-of-RIB', () => {
  const { rib, clock, gr } = setup();
  assert.equal(gr.sessionDown(cap([v4]), false), true);
  assert.equal(rib.best(IPV4_UNICAST, prefix('10.1.0.0/24').key)?.stale, true);
  // The peer is back and re-advertises one route; the other is swept at End-of-RIB.
  gr.sessionUp(cap([v4]));
  rib.announce(source('1.1.1.1'), IPV4_UNICAST, prefix('10.1.0.0/24'), attrs());
  assert.equal(rib.best(IPV4_UNICAST, prefix('10.1.0.0/24').key)?.stale, false);
  gr.endOfRib(IPV4_UNICAST);
  assert.ok(rib.best(IPV4_UNICAST, prefix('10.1.0.0/24').key));
  assert.equal(rib.best(IPV4_UNICAST, prefix('10.2.0.0/24').key), undefined);
  assert.equal(clock.pending().length, 0, 'no timer left');
});

test('the restart timer sweeps the stale routes when the peer does not come back', () => {
  const { rib, clock, gr } = setup();
  gr.sessionDown(cap([v4], 5), false);
  clock.advance(4_999);
  assert.equal(rib.count(IPV4_UNICAST), 2);
  clock.advance(1);
  assert.equal(rib.count(IPV4_UNICAST), 0);
});

test('a session ended by a NOTIFICATION, or a peer without GR families, loses its routes at once', () => {
  for (const [c, notified] of [[cap([v4]), true], [cap([]), false], [undefined, false]] as const) {
    const { rib, gr } = setup();
    assert.equal(gr.sessionDown(c, notified), false);
    // The caller drops the source when sessionDown says false.
    rib.dropSource('1.1.1.1');
    assert.equal(rib.count(IPV4_UNICAST), 0);
  }
});

test('families the restarted peer no longer preserves are swept when it is back; the stale-path timer bounds the rest', () => {
  const { rib, clock, gr } = setup();
  gr.sessionDown(cap([v4, { afi: 2, safi: 1, forwarding: true }]), false);
  assert.equal(rib.best(IPV6_UNICAST, prefix('2001:db8::/32').key)?.stale, true, 'IPv6 kept too');
  gr.sessionUp(cap([v4, { afi: 2, safi: 1, forwarding: false }]));
  assert.equal(rib.count(IPV6_UNICAST), 0, 'F bit clear: swept now');
  assert.equal(rib.count(IPV4_UNICAST), 2);
  clock.advance(STALE_PATH_TIME_MS);
  assert.equal(rib.count(IPV4_UNICAST), 0, 'no End-of-RIB within the stale-path time');
});
