/**
 * Every (state, event) cell against a matrix written out from RFC 4271 §8.2.2
 * (with the documented deviations), independently of the table's code.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { step } from '../../src/bgp/fsm/step.js';
import { EVENT_TYPES, STATES, type EventType, type State } from '../../src/bgp/fsm/types.js';
import { reach, SAMPLE, sentNotify, types } from './helpers.js';

type Row = (ev: EventType) => State;

/** The states listed for some events; `fallback` for the rest. */
function row(fallback: State, cells: { readonly [K in EventType]?: State }): Row {
  return (ev) => cells[ev] ?? fallback;
}

const starts = (s: State) => ({ ManualStart: s, ManualStartPassive: s, AutomaticStart: s, AutomaticStartPassive: s });
const connected = (s: State) => ({ TcpConnectionValid: s, TcpCRAcked: s, TcpConnectionConfirmed: s });

const NEXT: { readonly [S in State]: Row } = {
  Idle: row('Idle', { ManualStart: 'Connect', AutomaticStart: 'Connect', ManualStartPassive: 'Active', AutomaticStartPassive: 'Active' }),
  Connect: row('Idle', {
    ...starts('Connect'), ...connected('OpenSent'), ConnectRetryTimerExpires: 'Connect', TcpConnectionFails: 'Active',
  }),
  Active: row('Idle', { ...starts('Active'), ...connected('OpenSent'), ConnectRetryTimerExpires: 'Connect' }),
  OpenSent: row('Idle', { ...starts('OpenSent'), ...connected('OpenSent'), TcpConnectionFails: 'Active', BGPOpen: 'OpenConfirm' }),
  OpenConfirm: row('Idle', {
    ...starts('OpenConfirm'), ...connected('OpenConfirm'), KeepaliveTimerExpires: 'OpenConfirm', KeepAliveMsg: 'Established',
  }),
  Established: row('Idle', {
    ...starts('Established'), ...connected('Established'), KeepaliveTimerExpires: 'Established',
    KeepAliveMsg: 'Established', UpdateMsg: 'Established', RouteRefreshMsg: 'Established',
  }),
};

/** [code, subcode] sent, or null for none; only the session states send any. */
type Sent = readonly [number, number] | null;
function sends(state: State, ev: EventType): Sent {
  const fsm: Sent = state === 'OpenSent' ? [5, 1] : state === 'OpenConfirm' ? [5, 2] : [5, 3];
  if (NEXT[state](ev) !== 'Idle') return null;
  switch (ev) {
    case 'ManualStop': return [6, 2];
    case 'HoldTimerExpires': return [4, 0];
    case 'OpenCollisionDump': return [6, 7];
    case 'BGPHeaderErr': return [1, 2];
    case 'BGPOpenMsgErr': return state === 'Established' ? fsm : [2, 2];
    case 'UpdateMsgErr': return state === 'Established' ? [3, 1] : fsm;
    case 'NotifMsg': case 'NotifMsgVerErr': case 'TcpConnectionFails': return null;
    default: return fsm;
  }
}

describe('transition matrix', () => {
  for (const state of STATES) {
    test(`${state}: next state for each of the ${EVENT_TYPES.length} events`, () => {
      const ctx = reach(state);
      const got = Object.fromEntries(EVENT_TYPES.map((t) => [t, step(ctx, SAMPLE[t]).ctx.state]));
      const want = Object.fromEntries(EVENT_TYPES.map((t) => [t, NEXT[state](t)]));
      assert.deepEqual(got, want);
    });
  }

  for (const state of ['OpenSent', 'OpenConfirm', 'Established'] as const) {
    test(`${state}: the NOTIFICATION each event sends, always followed by drop`, () => {
      const ctx = reach(state);
      for (const t of EVENT_TYPES) {
        const { effects } = step(ctx, SAMPLE[t]);
        const n = sentNotify(effects);
        assert.deepEqual(n ? [n.code, n.subcode] : null, sends(state, t), `${state} + ${t}`);
        if (n) {
          const ty = types(effects);
          assert.ok(ty.indexOf('sendNotification') < ty.indexOf('drop'), `${state} + ${t}: notify before drop`);
        }
      }
    });

    test(`${state}: every way out of the session reports down exactly once`, () => {
      const ctx = reach(state);
      for (const t of EVENT_TYPES) {
        const r = step(ctx, SAMPLE[t]);
        const downs = types(r.effects).filter((x) => x === 'down').length;
        const left = r.ctx.state === 'Idle' || r.ctx.state === 'Active';
        assert.equal(downs, left ? 1 : 0, `${state} + ${t}`);
        if (left) assert.ok(types(r.effects).includes('drop'), `${state} + ${t} drops the connection`);
      }
    });
  }

  test('Idle, Connect and Active never send a NOTIFICATION (no OPEN was exchanged)', () => {
    for (const state of ['Idle', 'Connect', 'Active'] as const) {
      for (const t of EVENT_TYPES) {
        assert.equal(sentNotify(step(reach(state), SAMPLE[t]).effects), undefined, `${state} + ${t}`);
      }
    }
  });

  test('the FSM error NOTIFICATION has empty data (RFC 6608 §3)', () => {
    const n = sentNotify(step(reach('Established'), SAMPLE.BGPOpen).effects);
    assert.deepEqual(n, { code: 5, subcode: 3, data: Buffer.alloc(0) });
  });

  test('error events pass the decoder-built NOTIFICATION through unchanged', () => {
    const n = sentNotify(step(reach('OpenSent'), SAMPLE.BGPHeaderErr).effects);
    assert.equal(n, SAMPLE.BGPHeaderErr.notify);
  });
});
