import { initialContext, type FsmContext, type FsmOptions } from '../../src/bgp/fsm/context.js';
import { step } from '../../src/bgp/fsm/step.js';
import type { Effect, EventOf, EventType, FsmEvent, State, TimerName } from '../../src/bgp/fsm/types.js';
import type { Notify } from '../../src/bgp/wire/errors.js';

export function notify(code: number, subcode: number, data: Buffer = Buffer.alloc(0)): Notify {
  return { code, subcode, data };
}

/** One representative event of each type. */
export const SAMPLE: { readonly [K in EventType]: EventOf<K> } = {
  ManualStart: { type: 'ManualStart' },
  ManualStartPassive: { type: 'ManualStartPassive' },
  ManualStop: { type: 'ManualStop' },
  AutomaticStart: { type: 'AutomaticStart' },
  AutomaticStartPassive: { type: 'AutomaticStartPassive' },
  ConnectRetryTimerExpires: { type: 'ConnectRetryTimerExpires' },
  HoldTimerExpires: { type: 'HoldTimerExpires' },
  KeepaliveTimerExpires: { type: 'KeepaliveTimerExpires' },
  IdleHoldTimerExpires: { type: 'IdleHoldTimerExpires' },
  TcpConnectionValid: { type: 'TcpConnectionValid' },
  TcpCRAcked: { type: 'TcpCRAcked' },
  TcpConnectionConfirmed: { type: 'TcpConnectionConfirmed' },
  TcpConnectionFails: { type: 'TcpConnectionFails' },
  BGPOpen: { type: 'BGPOpen', holdTime: 90 },
  BGPHeaderErr: { type: 'BGPHeaderErr', notify: notify(1, 2, Buffer.from([0, 5])) },
  BGPOpenMsgErr: { type: 'BGPOpenMsgErr', notify: notify(2, 2) },
  OpenCollisionDump: { type: 'OpenCollisionDump' },
  NotifMsgVerErr: { type: 'NotifMsgVerErr' },
  NotifMsg: { type: 'NotifMsg' },
  KeepAliveMsg: { type: 'KeepAliveMsg' },
  UpdateMsg: { type: 'UpdateMsg' },
  UpdateMsgErr: { type: 'UpdateMsgErr', notify: notify(3, 1) },
  RouteRefreshMsg: { type: 'RouteRefreshMsg' },
};

export const open = (holdTime: number): FsmEvent => ({ type: 'BGPOpen', holdTime });

/** Steps through the events, checking nothing; returns the final context and every step's effects. */
export function run(ctx: FsmContext, events: readonly FsmEvent[]): { ctx: FsmContext; effects: Effect[][] } {
  const effects: Effect[][] = [];
  let cur = ctx;
  for (const ev of events) {
    const r = step(cur, ev);
    cur = r.ctx;
    effects.push(r.effects);
  }
  return { ctx: cur, effects };
}

/**
 * A context in `state`, reached the way a real session gets there, by an
 * active peer (Active via a refused outbound connection) whose peer proposes
 * `peerHold`.
 */
export function reach(state: State, options: FsmOptions = {}, peerHold = 90): FsmContext {
  const paths: { readonly [S in State]: readonly FsmEvent[] } = {
    Idle: [],
    Connect: [SAMPLE.ManualStart],
    Active: [SAMPLE.ManualStart, SAMPLE.TcpConnectionFails],
    OpenSent: [SAMPLE.ManualStart, SAMPLE.TcpCRAcked],
    OpenConfirm: [SAMPLE.ManualStart, SAMPLE.TcpCRAcked, open(peerHold)],
    Established: [SAMPLE.ManualStart, SAMPLE.TcpCRAcked, open(peerHold), SAMPLE.KeepAliveMsg],
  };
  const ctx = run(initialContext(options), paths[state]).ctx;
  if (ctx.state !== state) throw new Error(`reach(${state}) ended in ${ctx.state}`);
  return ctx;
}

export function types(effects: readonly Effect[]): string[] {
  return effects.map((e) => e.type);
}

/** The timer effects only, as 'start hold 90000' / 'stop hold'. */
export function timerOps(effects: readonly Effect[]): string[] {
  return effects.flatMap((e) =>
    e.type === 'startTimer' ? [`start ${e.timer} ${e.ms}`] : e.type === 'stopTimer' ? [`stop ${e.timer}`] : []);
}

export function started(effects: readonly Effect[], timer: TimerName): number | undefined {
  const e = effects.find((x) => x.type === 'startTimer' && x.timer === timer);
  return e?.type === 'startTimer' ? e.ms : undefined;
}

/** The effects other than timers, which the session layer sees. */
export function visible(effects: readonly Effect[]): Effect[] {
  return effects.filter((e) => e.type !== 'startTimer' && e.type !== 'stopTimer');
}

export function sentNotify(effects: readonly Effect[]): Notify | undefined {
  const e = effects.find((x) => x.type === 'sendNotification');
  return e?.type === 'sendNotification' ? e.notify : undefined;
}
