/**
 * The building blocks of the transition table: an Action turns a context and
 * an event into a new context plus effects, and go() chains actions into a
 * transition, the way FRR's table rows name an action function per cell.
 */
import { CeaseSubcode, ErrorCode, FsmSubcode } from '../wire/constants.js';
import { EMPTY, type Notify } from '../wire/errors.js';
import { assertNever } from '../../core/result.js';
import { keepaliveFor, type FsmContext } from './context.js';
import type { Effect, State, TimerName } from './types.js';

export interface StepResult {
  readonly ctx: FsmContext;
  readonly effects: Effect[];
}

/**
 * E is the event the action reads; actions that ignore the event take
 * `unknown`, so a cell whose event lacks what an action reads fails to compile.
 */
export type Action<E = unknown> = (ctx: FsmContext, ev: E) => StepResult;

/** Runs the actions in order against the current state, then moves to `next`. */
export function go<E>(next: State, ...actions: readonly Action<E>[]): Action<E> {
  return (ctx, ev) => {
    const r = seq(actions)(ctx, ev);
    return { ctx: { ...r.ctx, state: next }, effects: r.effects };
  };
}

/** A transition that keeps the state. */
export function stay<E>(...actions: readonly Action<E>[]): Action<E> {
  return seq(actions);
}

export const ignore: Action = (ctx) => ({ ctx, effects: [] });

/** Picks the transition from the context, e.g. a passive peer's variant. */
export function choose<E>(pick: (ctx: FsmContext) => Action<E>): Action<E> {
  return (ctx, ev) => pick(ctx)(ctx, ev);
}

function seq<E>(actions: readonly Action<E>[]): Action<E> {
  return (ctx, ev) => {
    let cur = ctx;
    const effects: Effect[] = [];
    for (const a of actions) {
      const r = a(cur, ev);
      cur = r.ctx;
      effects.push(...r.effects);
    }
    return { ctx: cur, effects };
  };
}

function emit(...effects: readonly Effect[]): Action {
  return (ctx) => ({ ctx, effects: [...effects] });
}

function update(patch: (ctx: FsmContext) => Partial<FsmContext>): Action {
  return (ctx) => ({ ctx: { ...ctx, ...patch(ctx) }, effects: [] });
}

const seconds = (s: number): number => s * 1000;

export const connect = emit({ type: 'connect' });
export const drop = emit({ type: 'drop' });
export const sendOpen = emit({ type: 'sendOpen' });
export const sendKeepalive = emit({ type: 'sendKeepalive' });
export const established = emit({ type: 'established' });
export const processUpdate = emit({ type: 'processUpdate' });
export const processRouteRefresh = emit({ type: 'processRouteRefresh' });

export function stopTimer(timer: TimerName): Action {
  return emit({ type: 'stopTimer', timer });
}

/** Session exits stop every timer: cheaper to reason about than tracking which run. */
export const stopAllTimers: Action = (ctx) => ({
  ctx: { ...ctx, idleHoldRunning: false },
  effects: (['connectRetry', 'hold', 'keepalive', 'idleHold'] as const).map((timer) => ({ type: 'stopTimer', timer })),
});

/** A manual start overrides a pending automatic one. */
export const cancelIdleHold: Action = (ctx) => ({
  ctx: { ...ctx, idleHoldRunning: false },
  effects: [{ type: 'stopTimer', timer: 'idleHold' }],
});

/** A passive peer never initiates, so it has no connection attempt to retry. */
export const startConnectRetry: Action = (ctx) => ({
  ctx,
  effects: ctx.passive ? [] : [{ type: 'startTimer', timer: 'connectRetry', ms: seconds(ctx.connectRetryTime) }],
});

/** §8.2.2 Connect/Active: until the peer's OPEN fixes the hold time, a large one applies. */
export const startLargeHold: Action = (ctx) => ({
  ctx,
  effects: [{ type: 'startTimer', timer: 'hold', ms: seconds(ctx.largeHoldTime) }],
});

/** §4.4, §8.2.2: a negotiated hold time of 0 means neither hold nor keepalive timers. */
export const restartHold: Action = (ctx) => ({
  ctx,
  effects: ctx.negotiatedHoldTime > 0
    ? [{ type: 'startTimer', timer: 'hold', ms: seconds(ctx.negotiatedHoldTime) }]
    : [],
});

export const restartKeepalive: Action = (ctx) => ({
  ctx,
  effects: ctx.keepaliveTime > 0 && ctx.negotiatedHoldTime > 0
    ? [{ type: 'startTimer', timer: 'keepalive', ms: seconds(ctx.keepaliveTime) }]
    : [],
});

/**
 * §4.2: the session uses the smaller of the two proposals; §8.2.2 OpenSent:
 * the large hold timer gives way to the negotiated one, or to none at all.
 */
export const negotiateHold: Action<{ readonly holdTime: number }> = (ctx, ev) => {
  const hold = Math.max(0, Math.min(ctx.configuredHoldTime, Math.floor(ev.holdTime)));
  const next = { ...ctx, negotiatedHoldTime: hold, keepaliveTime: keepaliveFor(hold) };
  if (hold === 0) return { ctx: next, effects: [{ type: 'stopTimer', timer: 'hold' }] };
  return { ctx: next, effects: [...restartHold(next, ev).effects, ...restartKeepalive(next, ev).effects] };
};

export function sendNotification(code: ErrorCode, subcode: number): Action {
  const notify: Notify = { code, subcode, data: EMPTY };
  return emit({ type: 'sendNotification', notify });
}

/** RFC 4486: the session layer may swap in an RFC 9003 shutdown communication. */
export function sendCease(subcode: CeaseSubcode): Action {
  return sendNotification(ErrorCode.Cease, subcode);
}

/** Header, OPEN and UPDATE errors carry the NOTIFICATION the decoder built. */
export const sendEventNotify: Action<{ readonly notify: Notify }> = (ctx, ev) => ({
  ctx,
  effects: [{ type: 'sendNotification', notify: ev.notify }],
});

/** RFC 6608 §3: the subcode says which state did not expect the message. */
export const sendFsmError: Action = (ctx, ev) =>
  sendNotification(ErrorCode.Fsm, fsmSubcode(ctx.state))(ctx, ev);

export function fsmSubcode(state: State): FsmSubcode {
  switch (state) {
    case 'OpenSent': return FsmSubcode.UnexpectedInOpenSent;
    case 'OpenConfirm': return FsmSubcode.UnexpectedInOpenConfirm;
    case 'Established': return FsmSubcode.UnexpectedInEstablished;
    case 'Idle':
    case 'Connect':
    case 'Active':
      return FsmSubcode.Unspecified;
    default:
      return assertNever(state, 'state');
  }
}

/** The negotiated values belonged to the session that ends here. */
export function down<E>(reason: string | ((ctx: FsmContext, ev: E) => string)): Action<E> {
  return (ctx, ev) => ({
    ctx: { ...ctx, negotiatedHoldTime: 0, keepaliveTime: keepaliveFor(ctx.configuredHoldTime) },
    effects: [{ type: 'down', reason: typeof reason === 'string' ? reason : reason(ctx, ev) }],
  });
}

export function setPassive(passive: boolean): Action {
  return update(() => ({ passive }));
}

export const countRetry = update((c) => ({ connectRetryCounter: c.connectRetryCounter + 1 }));
export const resetRetries = update(() => ({ connectRetryCounter: 0 }));

/**
 * §8.1.1 DampPeerOscillations, done as FRR and Junos do: wait idleHoldTime
 * before the automatic restart and double the wait for the next failure.
 */
export const backoff: Action = (ctx) => ({
  ctx: { ...ctx, idleHoldRunning: true, idleHoldTime: Math.min(ctx.idleHoldTime * 2, ctx.idleHoldMax) },
  effects: [{ type: 'startTimer', timer: 'idleHold', ms: seconds(ctx.idleHoldTime) }],
});

/** Restart after the current wait without lengthening it: the failure was not the peer's. */
export const holdOff: Action = (ctx) => ({
  ctx: { ...ctx, idleHoldRunning: true },
  effects: [{ type: 'startTimer', timer: 'idleHold', ms: seconds(ctx.idleHoldTime) }],
});

export const resetBackoff = update((c) => ({ idleHoldTime: c.idleHoldBase }));
