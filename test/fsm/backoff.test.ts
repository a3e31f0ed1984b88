/** The idle hold back-off (RFC 4271 §8.1.1 DampPeerOscillations, FRR/Junos style). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initialContext, type FsmContext, type FsmOptions } from '../../src/bgp/fsm/context.js';
import { step } from '../../src/bgp/fsm/step.js';
import type { FsmEvent } from '../../src/bgp/fsm/types.js';
import { open, run, SAMPLE, started } from './helpers.js';

const toOpenSent: readonly FsmEvent[] = [SAMPLE.TcpCRAcked];
const toEstablished: readonly FsmEvent[] = [SAMPLE.TcpCRAcked, open(90), SAMPLE.KeepAliveMsg];

/** Restarts via the idle hold timer, walks `path`, fails with `failure`; returns the wait it armed. */
function cycle(ctx: FsmContext, path: readonly FsmEvent[], failure: FsmEvent): { ctx: FsmContext; waitMs: number } {
  const r = run(ctx, [...path, failure]);
  const waitMs = started(r.effects.at(-1) ?? [], 'idleHold');
  if (waitMs === undefined) throw new Error('no idle hold armed');
  const restarted = step(r.ctx, SAMPLE.IdleHoldTimerExpires).ctx;
  return { ctx: restarted, waitMs };
}

function waits(options: FsmOptions, n: number, path: readonly FsmEvent[], failure: FsmEvent): number[] {
  let ctx = step(initialContext(options), SAMPLE.ManualStart).ctx;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = cycle(ctx, path, failure);
    ctx = c.ctx;
    out.push(c.waitMs / 1000);
  }
  return out;
}

describe('idle hold back-off', () => {
  test('doubles with each consecutive failure and caps at idleHoldMax', () => {
    assert.deepEqual(waits({ idleHoldBase: 1, idleHoldMax: 20 }, 7, toOpenSent, SAMPLE.NotifMsg), [1, 2, 4, 8, 16, 20, 20]);
  });

  test('applies whatever the failure', () => {
    for (const failure of [SAMPLE.HoldTimerExpires, SAMPLE.BGPOpenMsgErr, SAMPLE.KeepAliveMsg, SAMPLE.TcpConnectionFails]) {
      const path = failure.type === 'TcpConnectionFails' ? [...toOpenSent, open(90)] : toOpenSent;
      assert.deepEqual(waits({ idleHoldBase: 3, idleHoldMax: 100 }, 3, path, failure), [3, 6, 12], failure.type);
    }
  });

  test('the retry counter counts the consecutive failures', () => {
    let ctx = step(initialContext(), SAMPLE.ManualStart).ctx;
    for (let i = 0; i < 4; i++) ctx = cycle(ctx, toOpenSent, SAMPLE.NotifMsg).ctx;
    assert.equal(ctx.connectRetryCounter, 4);
  });

  test('reaching Established resets the wait to the base', () => {
    const options = { idleHoldBase: 2, idleHoldMax: 100 };
    let ctx = step(initialContext(options), SAMPLE.ManualStart).ctx;
    for (let i = 0; i < 3; i++) ctx = cycle(ctx, toOpenSent, SAMPLE.NotifMsg).ctx;
    assert.equal(ctx.idleHoldTime, 16);
    const afterUp = cycle(ctx, toEstablished, SAMPLE.HoldTimerExpires);
    assert.equal(afterUp.waitMs, 2000);
    assert.equal(cycle(afterUp.ctx, toOpenSent, SAMPLE.NotifMsg).waitMs, 4000);
  });

  test('ManualStop forgets the back-off: the next failure waits the base again', () => {
    let ctx = step(initialContext({ idleHoldBase: 1, idleHoldMax: 100 }), SAMPLE.ManualStart).ctx;
    for (let i = 0; i < 3; i++) ctx = cycle(ctx, toOpenSent, SAMPLE.NotifMsg).ctx;
    ctx = run(ctx, [SAMPLE.ManualStop, SAMPLE.ManualStart]).ctx;
    assert.equal(cycle(ctx, toOpenSent, SAMPLE.NotifMsg).waitMs, 1000);
  });

  test('a collision dump waits the current time without lengthening it', () => {
    let ctx = step(initialContext({ idleHoldBase: 1, idleHoldMax: 100 }), SAMPLE.ManualStart).ctx;
    ctx = cycle(ctx, toOpenSent, SAMPLE.NotifMsg).ctx;
    const dumped = cycle(ctx, toOpenSent, SAMPLE.OpenCollisionDump);
    assert.equal(dumped.waitMs, 2000);
    assert.equal(cycle(dumped.ctx, toOpenSent, SAMPLE.NotifMsg).waitMs, 2000);
  });

  test('a refused connection in Connect does not back off: the retry timer handles it', () => {
    const r = run(initialContext(), [SAMPLE.ManualStart, SAMPLE.TcpConnectionFails, SAMPLE.ConnectRetryTimerExpires,
      SAMPLE.TcpConnectionFails]);
    assert.equal(r.ctx.state, 'Active');
    assert.equal(r.ctx.idleHoldTime, r.ctx.idleHoldBase);
    assert.equal(r.ctx.idleHoldRunning, false);
  });
});
