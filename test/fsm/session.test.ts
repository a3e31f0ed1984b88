/** RFC 4271 §8.2.2 OpenSent, OpenConfirm and Established in detail. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { step } from '../../src/bgp/fsm/step.js';
import { open, reach, run, SAMPLE, sentNotify, started, timerOps, types, visible } from './helpers.js';

describe('hold time negotiation (§4.2)', () => {
  const cases: readonly [ours: number, peers: number, hold: number, keepalive: number][] = [
    [90, 180, 90, 30],
    [90, 9, 9, 3],
    [30, 3, 3, 1],
    [4, 90, 4, 1],
    [10, 10, 10, 3],
    [90, 0, 0, 0],
    [0, 90, 0, 0],
  ];
  for (const [ours, peers, hold, keepalive] of cases) {
    test(`ours ${ours} s, peer ${peers} s: hold ${hold} s, keepalive ${keepalive} s`, () => {
      const r = step(reach('OpenSent', { holdTime: ours }), open(peers));
      assert.equal(r.ctx.state, 'OpenConfirm');
      assert.equal(r.ctx.negotiatedHoldTime, hold);
      assert.equal(r.ctx.keepaliveTime, keepalive);
      assert.deepEqual(types(visible(r.effects)), ['sendKeepalive']);
      if (hold === 0) {
        assert.deepEqual(timerOps(r.effects), ['stop hold']);
      } else {
        assert.deepEqual(timerOps(r.effects), [`start hold ${hold * 1000}`, `start keepalive ${keepalive * 1000}`]);
      }
    });
  }

  test('entering Established restarts the hold timer with the negotiated value', () => {
    const r = step(reach('OpenConfirm', { holdTime: 90 }, 30), SAMPLE.KeepAliveMsg);
    assert.equal(r.ctx.state, 'Established');
    assert.deepEqual(types(r.effects), ['startTimer', 'established']);
    assert.equal(started(r.effects, 'hold'), 30_000);
  });

  test('with hold 0 nothing is armed in OpenConfirm or Established', () => {
    const r = run(reach('OpenSent'), [open(0), SAMPLE.KeepAliveMsg, SAMPLE.KeepAliveMsg, SAMPLE.UpdateMsg]);
    assert.equal(r.ctx.state, 'Established');
    for (const effects of r.effects.slice(1)) assert.deepEqual(timerOps(effects), []);
  });

  test('the session going down forgets the negotiated values', () => {
    const r = run(reach('Established', { holdTime: 90 }, 9), [SAMPLE.NotifMsg]);
    assert.equal(r.ctx.negotiatedHoldTime, 0);
    assert.equal(r.ctx.keepaliveTime, 30);
  });
});

describe('OpenSent', () => {
  test('HoldTimerExpires sends Hold Timer Expired (§6.5) and backs off', () => {
    const r = step(reach('OpenSent'), SAMPLE.HoldTimerExpires);
    assert.equal(r.ctx.state, 'Idle');
    assert.deepEqual(sentNotify(r.effects), { code: 4, subcode: 0, data: Buffer.alloc(0) });
    assert.deepEqual(types(visible(r.effects)), ['sendNotification', 'drop', 'down']);
    assert.equal(r.ctx.connectRetryCounter, 1);
    assert.equal(r.ctx.idleHoldRunning, true);
  });

  test('TcpConnectionFails goes back to Active and retries', () => {
    const r = step(reach('OpenSent', { connectRetryTime: 4 }), SAMPLE.TcpConnectionFails);
    assert.equal(r.ctx.state, 'Active');
    assert.deepEqual(types(visible(r.effects)), ['drop', 'down']);
    assert.equal(timerOps(r.effects).at(-1), 'start connectRetry 4000');
    assert.equal(r.ctx.idleHoldRunning, false);
  });

  test('a passive peer that loses the connection goes back to waiting, without a retry timer', () => {
    const r = run(reach('Idle'), [SAMPLE.ManualStartPassive, SAMPLE.TcpConnectionConfirmed, SAMPLE.TcpConnectionFails]);
    assert.equal(r.ctx.state, 'Active');
    assert.ok(!timerOps(r.effects[2] ?? []).some((t) => t.startsWith('start')));
  });

  test('a second connection (collision candidate) does not disturb this one (§6.8)', () => {
    const c = reach('OpenSent');
    for (const ev of [SAMPLE.TcpConnectionConfirmed, SAMPLE.TcpCRAcked]) assert.deepEqual(step(c, ev), { ctx: c, effects: [] });
  });

  test('header and OPEN errors send their NOTIFICATION', () => {
    for (const ev of [SAMPLE.BGPHeaderErr, SAMPLE.BGPOpenMsgErr]) {
      const r = step(reach('OpenSent'), ev);
      assert.equal(r.ctx.state, 'Idle');
      assert.equal(sentNotify(r.effects), ev.notify);
      assert.equal(r.ctx.connectRetryCounter, 1);
    }
  });

  test('NotifMsg closes without answering; a version error is not counted as a retry', () => {
    const n = step(reach('OpenSent'), SAMPLE.NotifMsg);
    assert.deepEqual(types(visible(n.effects)), ['drop', 'down']);
    assert.equal(n.ctx.connectRetryCounter, 1);
    const v = step(reach('OpenSent'), SAMPLE.NotifMsgVerErr);
    assert.deepEqual(types(visible(v.effects)), ['drop', 'down']);
    assert.equal(v.ctx.connectRetryCounter, 0);
    assert.equal(v.ctx.idleHoldRunning, true);
  });

  test('KEEPALIVE or UPDATE before OPEN is an FSM error, subcode 1 (RFC 6608)', () => {
    for (const ev of [SAMPLE.KeepAliveMsg, SAMPLE.UpdateMsg, SAMPLE.UpdateMsgErr, SAMPLE.KeepaliveTimerExpires]) {
      const r = step(reach('OpenSent'), ev);
      assert.equal(r.ctx.state, 'Idle', ev.type);
      assert.deepEqual(sentNotify(r.effects), { code: 5, subcode: 1, data: Buffer.alloc(0) }, ev.type);
    }
  });
});

describe('OpenConfirm', () => {
  test('KeepaliveTimerExpires sends a KEEPALIVE and re-arms', () => {
    const r = step(reach('OpenConfirm', {}, 9), SAMPLE.KeepaliveTimerExpires);
    assert.equal(r.ctx.state, 'OpenConfirm');
    assert.deepEqual(types(r.effects), ['sendKeepalive', 'startTimer']);
    assert.equal(started(r.effects, 'keepalive'), 3000);
  });

  test('HoldTimerExpires sends Hold Timer Expired', () => {
    const r = step(reach('OpenConfirm'), SAMPLE.HoldTimerExpires);
    assert.equal(r.ctx.state, 'Idle');
    assert.deepEqual([sentNotify(r.effects)?.code, sentNotify(r.effects)?.subcode], [4, 0]);
  });

  test('TcpConnectionFails goes Idle (not Active) and backs off', () => {
    const r = step(reach('OpenConfirm'), SAMPLE.TcpConnectionFails);
    assert.equal(r.ctx.state, 'Idle');
    assert.equal(r.ctx.idleHoldRunning, true);
    assert.equal(sentNotify(r.effects), undefined);
  });

  test('a second OPEN or an UPDATE is an FSM error, subcode 2', () => {
    for (const ev of [SAMPLE.BGPOpen, SAMPLE.UpdateMsg, SAMPLE.RouteRefreshMsg, SAMPLE.UpdateMsgErr]) {
      const r = step(reach('OpenConfirm'), ev);
      assert.equal(r.ctx.state, 'Idle');
      assert.deepEqual([sentNotify(r.effects)?.code, sentNotify(r.effects)?.subcode], [5, 2], ev.type);
    }
  });
});

describe('Established', () => {
  test('KeepAliveMsg restarts the hold timer and nothing else', () => {
    const r = step(reach('Established', {}, 60), SAMPLE.KeepAliveMsg);
    assert.equal(r.ctx.state, 'Established');
    assert.deepEqual(timerOps(r.effects), ['start hold 60000']);
    assert.deepEqual(visible(r.effects), []);
  });

  test('UpdateMsg goes to the RIB and restarts the hold timer', () => {
    const r = step(reach('Established', {}, 60), SAMPLE.UpdateMsg);
    assert.deepEqual(types(r.effects), ['processUpdate', 'startTimer']);
    assert.equal(started(r.effects, 'hold'), 60_000);
  });

  test('RouteRefreshMsg is answered and counts as traffic for the hold timer', () => {
    const r = step(reach('Established', {}, 60), SAMPLE.RouteRefreshMsg);
    assert.equal(r.ctx.state, 'Established');
    assert.deepEqual(types(r.effects), ['processRouteRefresh', 'startTimer']);
  });

  test('UpdateMsgErr sends its NOTIFICATION and releases routes', () => {
    const r = step(reach('Established'), SAMPLE.UpdateMsgErr);
    assert.equal(r.ctx.state, 'Idle');
    assert.deepEqual(types(visible(r.effects)), ['sendNotification', 'drop', 'down']);
    assert.equal(sentNotify(r.effects), SAMPLE.UpdateMsgErr.notify);
  });

  test('HoldTimerExpires, NotifMsg and TcpConnectionFails all release routes', () => {
    for (const ev of [SAMPLE.HoldTimerExpires, SAMPLE.NotifMsg, SAMPLE.NotifMsgVerErr, SAMPLE.TcpConnectionFails]) {
      const r = step(reach('Established'), ev);
      assert.equal(r.ctx.state, 'Idle', ev.type);
      assert.ok(types(r.effects).includes('down'), ev.type);
      assert.equal(r.ctx.connectRetryCounter, 1, ev.type);
    }
  });

  test('an OPEN, valid or not, is an FSM error, subcode 3', () => {
    for (const ev of [SAMPLE.BGPOpen, SAMPLE.BGPOpenMsgErr, SAMPLE.ConnectRetryTimerExpires]) {
      const r = step(reach('Established'), ev);
      assert.deepEqual([sentNotify(r.effects)?.code, sentNotify(r.effects)?.subcode], [5, 3], ev.type);
    }
  });

  test('the down reason names the cause', () => {
    const down = (ev: Parameters<typeof step>[1]) => visible(step(reach('Established'), ev).effects).find((e) => e.type === 'down');
    assert.deepEqual(down(SAMPLE.HoldTimerExpires), { type: 'down', reason: 'hold timer expired' });
    assert.deepEqual(down(SAMPLE.BGPOpen), { type: 'down', reason: 'FSM error: unexpected BGPOpen in Established' });
    assert.match(JSON.stringify(down(SAMPLE.UpdateMsgErr)), /UpdateMsgErr: sent NOTIFICATION 3\/1/);
  });
});

describe('ManualStop and collision dump', () => {
  for (const state of ['OpenSent', 'OpenConfirm', 'Established'] as const) {
    test(`${state}: ManualStop sends Cease/Administrative Shutdown and stays down`, () => {
      const r = step({ ...reach(state), connectRetryCounter: 2, idleHoldTime: 16 }, SAMPLE.ManualStop);
      assert.equal(r.ctx.state, 'Idle');
      assert.deepEqual(sentNotify(r.effects), { code: 6, subcode: 2, data: Buffer.alloc(0) });
      assert.deepEqual(types(visible(r.effects)), ['sendNotification', 'drop', 'down']);
      assert.deepEqual(timerOps(r.effects), ['stop connectRetry', 'stop hold', 'stop keepalive', 'stop idleHold']);
      assert.equal(r.ctx.connectRetryCounter, 0);
      assert.equal(r.ctx.idleHoldTime, r.ctx.idleHoldBase);
      assert.equal(r.ctx.idleHoldRunning, false);
    });

    test(`${state}: OpenCollisionDump sends Cease/Collision Resolution and restarts without extra back-off`, () => {
      const r = step({ ...reach(state, { idleHoldBase: 1, idleHoldMax: 64 }), idleHoldTime: 4 }, SAMPLE.OpenCollisionDump);
      assert.equal(r.ctx.state, 'Idle');
      assert.deepEqual(sentNotify(r.effects), { code: 6, subcode: 7, data: Buffer.alloc(0) });
      assert.equal(started(r.effects, 'idleHold'), 4000);
      assert.equal(r.ctx.idleHoldTime, 4);
    });
  }
});
