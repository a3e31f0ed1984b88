import type { Clock, TimerHandle } from '../../core/clock.js';
import { assertNever } from '../../core/result.js';
import type { FsmContext } from './context.js';
import { step } from './step.js';
import type { Effect, FsmEvent, SessionEffect, State, TimerName } from './types.js';

export type TransitionListener = (from: State, to: State, event: FsmEvent) => void;

/** Maps a timer's nominal duration to the one actually armed. */
export type Jitter = (timer: TimerName, ms: number) => number;

export interface FsmRunnerOptions {
  readonly context: FsmContext;
  readonly clock: Clock;
  /** Runs every effect except the timer ones, in order; may call dispatch(). */
  readonly execute: (effect: SessionEffect) => void;
  /** Defaults to none, so timers fire exactly when step() asked. */
  readonly jitter?: Jitter;
}

const EXPIRY: { readonly [T in TimerName]: FsmEvent } = {
  connectRetry: { type: 'ConnectRetryTimerExpires' },
  hold: { type: 'HoldTimerExpires' },
  keepalive: { type: 'KeepaliveTimerExpires' },
  idleHold: { type: 'IdleHoldTimerExpires' },
};

/**
 * RFC 4271 §10: ConnectRetry and Keepalive timers are jittered to 75-100% so
 * that many peers started together do not keep firing in step. The hold
 * timer is not: shortening it would cut the peer's slack.
 */
export function rfc4271Jitter(random: () => number = Math.random): Jitter {
  return (timer, ms) => (timer === 'connectRetry' || timer === 'keepalive' ? ms * (0.75 + 0.25 * random()) : ms);
}

/** Owns one peer's FSM: feeds events through step(), runs its timers, hands out the rest. */
export class FsmRunner {
  #ctx: FsmContext;
  readonly #clock: Clock;
  readonly #execute: (effect: SessionEffect) => void;
  readonly #jitter: Jitter;
  readonly #timers = new Map<TimerName, TimerHandle>();
  readonly #listeners = new Set<TransitionListener>();
  readonly #queue: FsmEvent[] = [];
  #busy = false;
  #disposed = false;

  constructor(options: FsmRunnerOptions) {
    this.#ctx = options.context;
    this.#clock = options.clock;
    this.#execute = options.execute;
    this.#jitter = options.jitter ?? ((_t, ms) => ms);
  }

  get state(): State {
    return this.#ctx.state;
  }

  get context(): FsmContext {
    return this.#ctx;
  }

  isTimerRunning(timer: TimerName): boolean {
    return this.#timers.has(timer);
  }

  /** Called on every state change, before that step's effects run. Returns an unsubscribe. */
  onTransition(listener: TransitionListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Events dispatched while a step's effects or listeners run are queued and
   * handled after it, in order: each step then sees the context the previous
   * one left, which recursion would not guarantee.
   */
  dispatch(event: FsmEvent): void {
    if (this.#disposed) return;
    this.#queue.push(event);
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (let ev = this.#queue.shift(); ev !== undefined && !this.#disposed; ev = this.#queue.shift()) {
        this.#run(ev);
      }
    } catch (e) {
      // Effects after the failing one never ran, so later events would act
      // on a session that is not what the context says: drop them.
      this.#queue.length = 0;
      throw e;
    } finally {
      this.#busy = false;
    }
  }

  /** Cancels every timer and ignores later events; for a peer being removed. */
  dispose(): void {
    this.#disposed = true;
    this.#queue.length = 0;
    for (const timer of [...this.#timers.keys()]) this.#cancel(timer);
  }

  #run(event: FsmEvent): void {
    const from = this.#ctx.state;
    const { ctx, effects } = step(this.#ctx, event);
    this.#ctx = ctx;
    if (ctx.state !== from) for (const l of [...this.#listeners]) l(from, ctx.state, event);
    for (const effect of effects) this.#apply(effect);
  }

  #apply(effect: Effect): void {
    switch (effect.type) {
      case 'startTimer':
        this.#arm(effect.timer, effect.ms);
        return;
      case 'stopTimer':
        this.#cancel(effect.timer);
        return;
      case 'connect':
      case 'drop':
      case 'sendOpen':
      case 'sendKeepalive':
      case 'sendNotification':
      case 'established':
      case 'down':
      case 'processUpdate':
      case 'processRouteRefresh':
        this.#execute(effect);
        return;
      default:
        assertNever(effect, 'effect');
    }
  }

  #arm(timer: TimerName, ms: number): void {
    this.#cancel(timer);
    const handle = this.#clock.setTimer(this.#jitter(timer, ms), () => {
      // A clock may still call a timer that was cancelled or re-armed
      // meanwhile; only the current handle may raise the event.
      if (this.#timers.get(timer) !== handle) return;
      this.#timers.delete(timer);
      this.dispatch(EXPIRY[timer]);
    });
    this.#timers.set(timer, handle);
  }

  #cancel(timer: TimerName): void {
    this.#timers.get(timer)?.cancel();
    this.#timers.delete(timer);
  }
}
