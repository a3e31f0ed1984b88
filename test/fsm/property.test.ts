/** fast-check: arbitrary event sequences against the table's invariants. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { initialContext, type FsmOptions } from '../../src/bgp/fsm/context.js';
import { FsmRunner } from '../../src/bgp/fsm/runner.js';
import { step } from '../../src/bgp/fsm/step.js';
import { EVENT_TYPES, STATES, TIMERS, type FsmEvent, type State } from '../../src/bgp/fsm/types.js';
import { FakeClock } from './fake-clock.js';
import { SAMPLE, types } from './helpers.js';

const notifyArb = fc.record({
  code: fc.integer({ min: 1, max: 7 }),
  subcode: fc.integer({ min: 0, max: 11 }),
  data: fc.uint8Array({ maxLength: 4 }).map((a) => Buffer.from(a)),
});

const eventArb: fc.Arbitrary<FsmEvent> = fc.oneof(
  fc.constantFrom(...EVENT_TYPES.map((t) => SAMPLE[t])),
  fc.integer({ min: 0, max: 0xffff }).map((holdTime): FsmEvent => ({ type: 'BGPOpen', holdTime })),
  notifyArb.map((n): FsmEvent => ({ type: 'UpdateMsgErr', notify: n })),
  notifyArb.map((n): FsmEvent => ({ type: 'BGPHeaderErr', notify: n })),
);

/** The happy path events, weighted in so that runs get past OpenSent often. */
const progressArb: fc.Arbitrary<FsmEvent> = fc.constantFrom(
  SAMPLE.ManualStart, SAMPLE.TcpCRAcked, SAMPLE.TcpConnectionConfirmed, SAMPLE.BGPOpen, SAMPLE.KeepAliveMsg,
  SAMPLE.UpdateMsg, SAMPLE.IdleHoldTimerExpires,
);

const eventsArb = fc.array(fc.oneof({ arbitrary: eventArb, weight: 2 }, { arbitrary: progressArb, weight: 3 }), { maxLength: 80 });

/** Short bursts between clock moves, so that sessions often live long enough for timers to matter. */
const burstArb = fc.array(fc.oneof({ arbitrary: eventArb, weight: 1 }, { arbitrary: progressArb, weight: 4 }), { maxLength: 6 });

const optionsArb: fc.Arbitrary<FsmOptions> = fc.record({
  passive: fc.boolean(),
  holdTime: fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 180 })),
  connectRetryTime: fc.integer({ min: 1, max: 120 }),
  idleHoldBase: fc.integer({ min: 0, max: 10 }),
  idleHoldMax: fc.integer({ min: 10, max: 300 }),
});

const SESSION: readonly State[] = ['OpenSent', 'OpenConfirm', 'Established'];

describe('properties', () => {
  test('step never throws, keeps the context sane, and only OpenConfirm + KEEPALIVE reaches Established', () => {
    fc.assert(fc.property(optionsArb, eventsArb, (options, events) => {
      let ctx = initialContext(options);
      for (const ev of events) {
        const r = step(ctx, ev);
        const from = ctx.state;
        const to = r.ctx.state;
        const ty = types(r.effects);
        assert.ok(STATES.includes(to));
        const enters = to === 'Established' && from !== 'Established';
        if (enters) assert.ok(from === 'OpenConfirm' && ev.type === 'KeepAliveMsg', `${from} + ${ev.type}`);
        assert.equal(ty.includes('established'), enters);
        if (ty.includes('processUpdate')) assert.ok(from === 'Established' && ev.type === 'UpdateMsg');
        if (ty.includes('sendNotification')) {
          assert.ok(SESSION.includes(from), `NOTIFICATION sent from ${from}`);
          assert.ok(ty.indexOf('sendNotification') < ty.indexOf('drop'));
        }
        assert.equal(ty.includes('down'), SESSION.includes(from) && !SESSION.includes(to));
        if (ty.includes('connect')) assert.ok(!r.ctx.passive && to === 'Connect');
        assert.ok(r.ctx.idleHoldTime >= r.ctx.idleHoldBase && r.ctx.idleHoldTime <= r.ctx.idleHoldMax);
        assert.ok(r.ctx.negotiatedHoldTime <= r.ctx.configuredHoldTime);
        if (r.ctx.negotiatedHoldTime > 0) assert.ok(to === 'OpenConfirm' || to === 'Established');
        for (const e of r.effects) if (e.type === 'startTimer') assert.ok(Number.isFinite(e.ms) && e.ms >= 0);
        ctx = r.ctx;
      }
    }), { numRuns: 2000 });
  });

  test('the runner keeps exactly the timers each state needs, whatever happens in between', () => {
    const actionArb = fc.oneof(
      { arbitrary: burstArb.map((evs) => ({ kind: 'events' as const, evs })), weight: 3 },
      // Short steps land between keepalive and hold expiry; long ones reach the 240 s OpenSent hold.
      { arbitrary: fc.integer({ min: 0, max: 60_000 }).map((ms) => ({ kind: 'advance' as const, ms })), weight: 2 },
      { arbitrary: fc.integer({ min: 0, max: 400_000 }).map((ms) => ({ kind: 'advance' as const, ms })), weight: 1 },
    );
    fc.assert(fc.property(optionsArb, fc.array(actionArb, { maxLength: 20 }), (options, actions) => {
      const clock = new FakeClock();
      const fsm = new FsmRunner({ context: initialContext(options), clock, execute: () => {} });
      const check = (): void => {
        const c = fsm.context;
        const running = TIMERS.filter((t) => fsm.isTimerRunning(t));
        const expected: string[] = (() => {
          switch (c.state) {
            case 'Idle': return c.idleHoldRunning ? ['idleHold'] : [];
            case 'Connect': return ['connectRetry'];
            case 'Active': return c.passive ? [] : ['connectRetry'];
            case 'OpenSent': return ['hold'];
            case 'OpenConfirm':
            case 'Established': return c.negotiatedHoldTime > 0 ? ['hold', 'keepalive'] : [];
          }
        })();
        assert.deepEqual(running, expected, `${c.state} passive=${c.passive}`);
        assert.equal(clock.pending().length, running.length);
      };
      for (const a of actions) {
        if (a.kind === 'advance') clock.advance(a.ms);
        else for (const ev of a.evs) fsm.dispatch(ev);
        check();
      }
    }), { numRuns: 1500 });
  });

  test('hold-time negotiation: min of both, keepalive a third, 0 disables both', () => {
    fc.assert(fc.property(
      fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 0xffff })),
      fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 0xffff })),
      (ours, peers) => {
        const sent = step(step(initialContext({ holdTime: ours }), SAMPLE.ManualStart).ctx, SAMPLE.TcpCRAcked).ctx;
        const r = step(sent, { type: 'BGPOpen', holdTime: peers });
        const hold = Math.min(ours, peers);
        assert.equal(r.ctx.negotiatedHoldTime, hold);
        assert.equal(r.ctx.keepaliveTime, hold === 0 ? 0 : Math.max(1, Math.floor(hold / 3)));
        assert.ok(r.ctx.keepaliveTime * 3 <= hold);
      },
    ));
  });
});
