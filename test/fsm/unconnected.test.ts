/** RFC 4271 §8.2.2 Idle, Connect and Active in detail. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initialContext } from '../../src/bgp/fsm/context.js';
import { step } from '../../src/bgp/fsm/step.js';
import { reach, run, SAMPLE, timerOps, types, visible } from './helpers.js';

describe('initialContext', () => {
  test('defaults follow RFC 4271 §10 and §8.2.2', () => {
    const c = initialContext();
    assert.equal(c.state, 'Idle');
    assert.equal(c.configuredHoldTime, 90);
    assert.equal(c.keepaliveTime, 30);
    assert.equal(c.connectRetryTime, 120);
    assert.equal(c.largeHoldTime, 240);
    assert.equal(c.negotiatedHoldTime, 0);
    assert.equal(c.idleHoldTime, c.idleHoldBase);
    assert.equal(c.passive, false);
  });

  test('undefined options keep the defaults', () => {
    assert.equal(initialContext({ holdTime: undefined, connectRetryTime: 5 }).configuredHoldTime, 90);
  });

  test('rejects hold times RFC 4271 §4.2 forbids and inconsistent back-off', () => {
    for (const holdTime of [1, 2, -1, 65536, 3.5]) {
      assert.throws(() => initialContext({ holdTime }), RangeError, `hold ${holdTime}`);
    }
    assert.doesNotThrow(() => initialContext({ holdTime: 0 }));
    assert.doesNotThrow(() => initialContext({ holdTime: 3 }));
    assert.throws(() => initialContext({ idleHoldBase: 10, idleHoldMax: 5 }), RangeError);
    assert.throws(() => initialContext({ connectRetryTime: 0 }), RangeError);
  });
});

describe('Idle', () => {
  test('ManualStart connects and arms the connect retry timer', () => {
    const r = step(initialContext({ connectRetryTime: 7 }), SAMPLE.ManualStart);
    assert.equal(r.ctx.state, 'Connect');
    assert.deepEqual(types(visible(r.effects)), ['connect']);
    assert.deepEqual(timerOps(r.effects), ['stop idleHold', 'start connectRetry 7000']);
    assert.equal(r.ctx.passive, false);
  });

  test('ManualStartPassive listens only: no connect, no retry timer', () => {
    const r = step(initialContext(), SAMPLE.ManualStartPassive);
    assert.equal(r.ctx.state, 'Active');
    assert.equal(r.ctx.passive, true);
    assert.deepEqual(visible(r.effects), []);
    assert.deepEqual(timerOps(r.effects), ['stop idleHold']);
  });

  test('a peer configured passive stays passive on a plain start; a passive start forces it', () => {
    for (const ev of [SAMPLE.ManualStart, SAMPLE.AutomaticStart, SAMPLE.ManualStartPassive, SAMPLE.AutomaticStartPassive]) {
      const r = step(initialContext({ passive: true }), ev);
      assert.equal(r.ctx.state, 'Active', ev.type);
      assert.equal(r.ctx.passive, true);
      assert.deepEqual(visible(r.effects), [], ev.type);
    }
    const forced = run(initialContext(), [SAMPLE.ManualStartPassive, SAMPLE.ManualStop, SAMPLE.ManualStart]);
    assert.equal(forced.ctx.state, 'Connect');
    assert.equal(forced.ctx.passive, false);
  });

  test('ManualStart resets the retry counter, AutomaticStart keeps it', () => {
    const failed = { ...initialContext(), connectRetryCounter: 3 };
    assert.equal(step(failed, SAMPLE.ManualStart).ctx.connectRetryCounter, 0);
    assert.equal(step(failed, SAMPLE.ManualStartPassive).ctx.connectRetryCounter, 0);
    assert.equal(step(failed, SAMPLE.AutomaticStart).ctx.connectRetryCounter, 3);
  });

  test('AutomaticStart waits for a pending idle hold; ManualStart overrides it', () => {
    const waiting = run(reach('OpenSent'), [SAMPLE.NotifMsg]).ctx;
    assert.equal(waiting.idleHoldRunning, true);
    const auto = step(waiting, SAMPLE.AutomaticStart);
    assert.equal(auto.ctx.state, 'Idle');
    assert.deepEqual(auto.effects, []);
    assert.equal(step(waiting, SAMPLE.AutomaticStartPassive).ctx.state, 'Idle');
    const manual = step(waiting, SAMPLE.ManualStart);
    assert.equal(manual.ctx.state, 'Connect');
    assert.equal(manual.ctx.idleHoldRunning, false);
    assert.ok(timerOps(manual.effects).includes('stop idleHold'));
  });

  test('IdleHoldTimerExpires restarts an active peer in Connect and a passive one in Active', () => {
    const active = run(reach('OpenSent'), [SAMPLE.NotifMsg, SAMPLE.IdleHoldTimerExpires]);
    assert.equal(active.ctx.state, 'Connect');
    assert.deepEqual(types(visible(active.effects[1] ?? [])), ['connect']);
    const passive = run(initialContext(), [SAMPLE.ManualStartPassive, SAMPLE.TcpConnectionConfirmed, SAMPLE.NotifMsg,
      SAMPLE.IdleHoldTimerExpires]);
    assert.equal(passive.ctx.state, 'Active');
    assert.deepEqual(visible(passive.effects[3] ?? []), []);
  });

  test('a stray IdleHoldTimerExpires without a pending restart is ignored', () => {
    const r = step(initialContext(), SAMPLE.IdleHoldTimerExpires);
    assert.equal(r.ctx.state, 'Idle');
    assert.deepEqual(r.effects, []);
  });

  test('ManualStop cancels a pending restart', () => {
    const waiting = run(reach('OpenSent'), [SAMPLE.NotifMsg]).ctx;
    const r = run(waiting, [SAMPLE.ManualStop, SAMPLE.IdleHoldTimerExpires]);
    assert.ok(timerOps(r.effects[0] ?? []).includes('stop idleHold'));
    assert.equal(r.ctx.state, 'Idle');
    assert.deepEqual(r.effects[1], []);
  });

  test('incoming connections are refused (§8.2.2 Idle)', () => {
    for (const ev of [SAMPLE.TcpConnectionConfirmed, SAMPLE.TcpCRAcked, SAMPLE.TcpConnectionValid]) {
      const r = step(initialContext(), ev);
      assert.equal(r.ctx.state, 'Idle');
      assert.deepEqual(types(r.effects), ['drop']);
    }
  });

  test('other events change nothing', () => {
    const c = initialContext();
    for (const ev of [SAMPLE.HoldTimerExpires, SAMPLE.KeepAliveMsg, SAMPLE.UpdateMsg, SAMPLE.BGPOpen, SAMPLE.NotifMsg]) {
      assert.deepEqual(step(c, ev), { ctx: c, effects: [] }, ev.type);
    }
  });
});

describe('Connect', () => {
  test('ConnectRetryTimerExpires abandons the attempt and tries again', () => {
    const r = step(reach('Connect', { connectRetryTime: 5 }), SAMPLE.ConnectRetryTimerExpires);
    assert.equal(r.ctx.state, 'Connect');
    assert.deepEqual(types(r.effects), ['drop', 'startTimer', 'connect']);
    assert.deepEqual(timerOps(r.effects), ['start connectRetry 5000']);
  });

  for (const ev of [SAMPLE.TcpCRAcked, SAMPLE.TcpConnectionValid, SAMPLE.TcpConnectionConfirmed]) {
    test(`${ev.type} sends OPEN and arms the large hold timer`, () => {
      const r = step(reach('Connect', { largeHoldTime: 240 }), ev);
      assert.equal(r.ctx.state, 'OpenSent');
      assert.deepEqual(types(visible(r.effects)), ['sendOpen']);
      assert.deepEqual(timerOps(r.effects), ['stop connectRetry', 'start hold 240000']);
    });
  }

  test('TcpConnectionFails falls back to Active with the retry timer running', () => {
    const r = step(reach('Connect', { connectRetryTime: 5 }), SAMPLE.TcpConnectionFails);
    assert.equal(r.ctx.state, 'Active');
    assert.deepEqual(types(r.effects), ['drop', 'startTimer']);
    assert.deepEqual(timerOps(r.effects), ['start connectRetry 5000']);
    assert.equal(r.ctx.connectRetryCounter, 0);
    assert.equal(r.ctx.idleHoldRunning, false);
  });

  test('ManualStop drops and stays down', () => {
    const r = step(reach('Connect'), SAMPLE.ManualStop);
    assert.equal(r.ctx.state, 'Idle');
    assert.deepEqual(types(visible(r.effects)), ['drop']);
    assert.equal(r.ctx.idleHoldRunning, false);
    assert.ok(!timerOps(r.effects).some((t) => t.startsWith('start')));
  });

  test('any other event drops, counts a retry and backs off (§8.2.2 Connect)', () => {
    const r = step(reach('Connect', { idleHoldBase: 2 }), SAMPLE.KeepAliveMsg);
    assert.equal(r.ctx.state, 'Idle');
    assert.deepEqual(types(visible(r.effects)), ['drop']);
    assert.equal(r.ctx.connectRetryCounter, 1);
    assert.deepEqual(timerOps(r.effects).at(-1), 'start idleHold 2000');
  });
});

describe('Active', () => {
  test('ConnectRetryTimerExpires: an active peer tries to connect', () => {
    const r = step(reach('Active', { connectRetryTime: 3 }), SAMPLE.ConnectRetryTimerExpires);
    assert.equal(r.ctx.state, 'Connect');
    assert.deepEqual(types(r.effects), ['startTimer', 'connect']);
  });

  test('ConnectRetryTimerExpires: a passive peer keeps waiting', () => {
    const passive = step(initialContext(), SAMPLE.ManualStartPassive).ctx;
    const r = step(passive, SAMPLE.ConnectRetryTimerExpires);
    assert.equal(r.ctx.state, 'Active');
    assert.deepEqual(r.effects, []);
  });

  test('an accepted connection sends OPEN', () => {
    const passive = step(initialContext(), SAMPLE.ManualStartPassive).ctx;
    const r = step(passive, SAMPLE.TcpConnectionConfirmed);
    assert.equal(r.ctx.state, 'OpenSent');
    assert.deepEqual(types(visible(r.effects)), ['sendOpen']);
  });

  test('TcpConnectionFails goes Idle and backs off (§8.2.2 Active)', () => {
    const r = step(reach('Active'), SAMPLE.TcpConnectionFails);
    assert.equal(r.ctx.state, 'Idle');
    assert.equal(r.ctx.connectRetryCounter, 1);
    assert.equal(r.ctx.idleHoldRunning, true);
  });

  test('start events are ignored', () => {
    const c = reach('Active');
    for (const ev of [SAMPLE.ManualStart, SAMPLE.AutomaticStart, SAMPLE.ManualStartPassive]) {
      assert.deepEqual(step(c, ev), { ctx: c, effects: [] });
    }
  });
});
