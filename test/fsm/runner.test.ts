/** FsmRunner driving the table with a fake clock, as the session layer would. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../src/core/clock.js';
import { initialContext, type FsmOptions } from '../../src/bgp/fsm/context.js';
import { FsmRunner, rfc4271Jitter } from '../../src/bgp/fsm/runner.js';
import type { FsmEvent, SessionEffect, State } from '../../src/bgp/fsm/types.js';
import { FakeClock } from './fake-clock.js';
import { open, SAMPLE } from './helpers.js';

interface Harness {
  readonly clock: FakeClock;
  readonly fsm: FsmRunner;
  /** Every effect executed, stamped with the clock in seconds. */
  readonly log: { readonly at: number; readonly effect: SessionEffect }[];
  count(type: SessionEffect['type']): number;
  times(type: SessionEffect['type']): number[];
}

function harness(options: FsmOptions = {}, react?: (e: SessionEffect, fsm: FsmRunner) => void, clock: Clock = new FakeClock()): Harness {
  const log: { at: number; effect: SessionEffect }[] = [];
  // A test that brings its own non-fake clock drives that clock itself; h.clock is then idle.
  const fake = clock instanceof FakeClock ? clock : new FakeClock();
  const fsm: FsmRunner = new FsmRunner({
    context: initialContext(options),
    clock,
    execute: (effect) => {
      log.push({ at: clock.now() / 1000, effect });
      react?.(effect, fsm);
    },
  });
  return {
    clock: fake, fsm, log,
    count: (type) => log.filter((l) => l.effect.type === type).length,
    times: (type) => log.filter((l) => l.effect.type === type).map((l) => l.at),
  };
}

function establish(h: Harness, peerHold: number): void {
  for (const ev of [SAMPLE.ManualStart, SAMPLE.TcpCRAcked, open(peerHold), SAMPLE.KeepAliveMsg]) h.fsm.dispatch(ev);
  assert.equal(h.fsm.state, 'Established');
}

describe('FsmRunner timers', () => {
  test('sends KEEPALIVEs every third of the hold time while the peer keeps the session alive', () => {
    const h = harness({ holdTime: 90 });
    establish(h, 30);
    for (let t = 0; t < 60; t += 5) {
      h.clock.advance(5000);
      h.fsm.dispatch(SAMPLE.KeepAliveMsg);
    }
    assert.equal(h.fsm.state, 'Established');
    // The first answers the OPEN (§8.2.2 OpenSent); then one per 10 s.
    assert.deepEqual(h.times('sendKeepalive'), [0, 10, 20, 30, 40, 50, 60]);
  });

  test('hold timer in OpenSent is the large value: fires at 240 s with Hold Timer Expired', () => {
    const h = harness();
    h.fsm.dispatch(SAMPLE.ManualStart);
    h.fsm.dispatch(SAMPLE.TcpCRAcked);
    h.clock.advance(239_999);
    assert.equal(h.fsm.state, 'OpenSent');
    h.clock.advance(1);
    assert.equal(h.fsm.state, 'Idle');
    const sent = h.log.find((l) => l.effect.type === 'sendNotification');
    assert.deepEqual(sent, { at: 240, effect: { type: 'sendNotification', notify: { code: 4, subcode: 0, data: Buffer.alloc(0) } } });
  });

  test('hold timer in OpenConfirm runs with the negotiated value', () => {
    const h = harness({ holdTime: 90 });
    for (const ev of [SAMPLE.ManualStart, SAMPLE.TcpCRAcked, open(12)]) h.fsm.dispatch(ev);
    h.clock.advance(11_999);
    assert.equal(h.fsm.state, 'OpenConfirm');
    h.clock.advance(1);
    assert.equal(h.fsm.state, 'Idle');
    assert.deepEqual(h.times('sendNotification'), [12]);
  });

  test('in Established, KEEPALIVE and UPDATE restart the hold timer; silence expires it', () => {
    const h = harness({ holdTime: 9 });
    establish(h, 90);
    h.clock.advance(8000);
    h.fsm.dispatch(SAMPLE.UpdateMsg);
    h.clock.advance(8000);
    h.fsm.dispatch(SAMPLE.KeepAliveMsg);
    h.clock.advance(8999);
    assert.equal(h.fsm.state, 'Established');
    h.clock.advance(1);
    assert.equal(h.fsm.state, 'Idle');
    assert.deepEqual(h.times('down'), [25]);
    assert.equal(h.count('processUpdate'), 1);
  });

  test('hold time 0: no timers at all, no KEEPALIVEs beyond the one answering OPEN', () => {
    const h = harness({ holdTime: 0 });
    establish(h, 90);
    assert.equal(h.fsm.isTimerRunning('hold'), false);
    assert.equal(h.fsm.isTimerRunning('keepalive'), false);
    h.clock.advance(3_600_000);
    assert.equal(h.fsm.state, 'Established');
    assert.equal(h.count('sendKeepalive'), 1);
  });

  test('Connect retries every connectRetryTime; Active connects when it fires', () => {
    const h = harness({ connectRetryTime: 5 });
    h.fsm.dispatch(SAMPLE.ManualStart);
    h.clock.advance(12_000);
    assert.deepEqual(h.times('connect'), [0, 5, 10]);
    h.fsm.dispatch(SAMPLE.TcpConnectionFails);
    assert.equal(h.fsm.state, 'Active');
    h.clock.advance(4999);
    assert.equal(h.fsm.state, 'Active');
    h.clock.advance(1);
    assert.equal(h.fsm.state, 'Connect');
    assert.deepEqual(h.times('connect'), [0, 5, 10, 17]);
  });

  test('a passive peer never connects and runs no timer until a peer connects', () => {
    const h = harness({ connectRetryTime: 5 });
    h.fsm.dispatch(SAMPLE.ManualStartPassive);
    h.clock.advance(600_000);
    assert.equal(h.fsm.state, 'Active');
    assert.equal(h.count('connect'), 0);
    assert.deepEqual(h.clock.pending(), []);
    h.fsm.dispatch(SAMPLE.TcpConnectionConfirmed);
    assert.equal(h.fsm.state, 'OpenSent');
    assert.equal(h.count('sendOpen'), 1);
  });

  test('idle hold back-off: restarts after 1, 2, 4 ... s, capped, and Established resets it', () => {
    // The peer closes every connection with a NOTIFICATION as soon as our OPEN arrives.
    const h = harness({ idleHoldBase: 1, idleHoldMax: 8 }, (e, fsm) => {
      if (e.type === 'connect') fsm.dispatch(SAMPLE.TcpCRAcked);
      if (e.type === 'sendOpen') fsm.dispatch(SAMPLE.NotifMsg);
    });
    h.fsm.dispatch(SAMPLE.ManualStart);
    h.clock.advance(60_000);
    assert.deepEqual(h.times('connect'), [0, 1, 3, 7, 15, 23, 31, 39, 47, 55]);
  });

  test('ManualStop from Established sends Cease, cancels every timer and never restarts', () => {
    const h = harness();
    establish(h, 90);
    h.fsm.dispatch(SAMPLE.ManualStop);
    assert.equal(h.fsm.state, 'Idle');
    assert.deepEqual(h.clock.pending(), []);
    h.clock.advance(3_600_000);
    assert.equal(h.count('connect'), 1);
    assert.deepEqual(h.log.map((l) => l.effect.type).slice(-3), ['sendNotification', 'drop', 'down']);
  });

  test('a timer its clock fails to cancel cannot raise a stale event', () => {
    // Models a clock whose cancel() raced with the callback being queued.
    const inner = new FakeClock();
    const leaky: Clock = { now: () => inner.now(), setTimer: (ms, fire) => { inner.setTimer(ms, fire); return { cancel() {} }; } };
    const h = harness({ holdTime: 9 }, undefined, leaky);
    establish(h, 90);
    inner.advance(8000);
    h.fsm.dispatch(SAMPLE.KeepAliveMsg);
    inner.advance(1000);
    assert.equal(h.fsm.state, 'Established');
    inner.advance(8000);
    assert.equal(h.fsm.state, 'Idle');
  });

  test('rfc4271Jitter shortens connect retry and keepalive to 75-100%, never the hold timer', () => {
    const j = rfc4271Jitter(() => 0);
    assert.equal(j('connectRetry', 120_000), 90_000);
    assert.equal(j('keepalive', 30_000), 22_500);
    assert.equal(j('hold', 90_000), 90_000);
    assert.equal(rfc4271Jitter(() => 0.999_999)('keepalive', 4000) <= 4000, true);
    const clock = new FakeClock();
    const fsm = new FsmRunner({ context: initialContext({ connectRetryTime: 8 }), clock, execute: () => {}, jitter: j });
    fsm.dispatch(SAMPLE.ManualStart);
    assert.deepEqual(clock.pending(), [6000]);
  });
});

describe('FsmRunner dispatch', () => {
  test('an event dispatched from execute is queued until the current step has finished', () => {
    const trace: string[] = [];
    let depth = 0;
    const h = harness({}, (e, fsm) => {
      depth++;
      trace.push(`${e.type}@${depth}:${fsm.state}`);
      if (e.type === 'connect') fsm.dispatch(SAMPLE.TcpCRAcked);
      depth--;
    });
    const transitions: string[] = [];
    h.fsm.onTransition((from, to, ev) => transitions.push(`${from}->${to} on ${ev.type}`));
    h.fsm.dispatch(SAMPLE.ManualStart);
    assert.deepEqual(trace, ['connect@1:Connect', 'sendOpen@1:OpenSent']);
    assert.deepEqual(transitions, ['Idle->Connect on ManualStart', 'Connect->OpenSent on TcpCRAcked']);
  });

  test('queued events run in order, each on the state the previous one left', () => {
    const h = harness({}, (e, fsm) => {
      if (e.type === 'sendOpen') {
        fsm.dispatch(open(90));
        fsm.dispatch(SAMPLE.KeepAliveMsg);
      }
    });
    h.fsm.dispatch(SAMPLE.ManualStart);
    h.fsm.dispatch(SAMPLE.TcpCRAcked);
    assert.equal(h.fsm.state, 'Established');
    assert.equal(h.count('established'), 1);
  });

  test('onTransition reports state changes only, and can be unsubscribed', () => {
    const h = harness();
    const seen: [State, State, FsmEvent['type']][] = [];
    const off = h.fsm.onTransition((from, to, ev) => seen.push([from, to, ev.type]));
    establish(h, 90);
    h.fsm.dispatch(SAMPLE.KeepAliveMsg);
    off();
    h.fsm.dispatch(SAMPLE.ManualStop);
    assert.deepEqual(seen, [
      ['Idle', 'Connect', 'ManualStart'],
      ['Connect', 'OpenSent', 'TcpCRAcked'],
      ['OpenSent', 'OpenConfirm', 'BGPOpen'],
      ['OpenConfirm', 'Established', 'KeepAliveMsg'],
    ]);
  });

  test('a throwing execute leaves the runner usable and drops the events it queued', () => {
    let fail = true;
    const h = harness({}, (e, fsm) => {
      if (e.type === 'connect' && fail) {
        fsm.dispatch(SAMPLE.TcpCRAcked);
        throw new Error('socket error');
      }
    });
    assert.throws(() => h.fsm.dispatch(SAMPLE.ManualStart), /socket error/);
    assert.equal(h.fsm.state, 'Connect');
    fail = false;
    h.fsm.dispatch(SAMPLE.TcpConnectionFails);
    assert.equal(h.fsm.state, 'Active');
    assert.equal(h.count('sendOpen'), 0);
  });

  test('dispose cancels the timers and ignores later events', () => {
    const h = harness();
    establish(h, 90);
    h.fsm.dispose();
    assert.deepEqual(h.clock.pending(), []);
    h.fsm.dispatch(SAMPLE.NotifMsg);
    assert.equal(h.fsm.state, 'Established');
  });
});
