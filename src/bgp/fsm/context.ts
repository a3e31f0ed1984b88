import type { State } from './types.js';

/** Everything step() needs to know; all times in seconds. */
export interface FsmContext {
  readonly state: State;
  /**
   * This run's mode: a passive peer only accepts connections (§8.1.1
   * PassiveTcpEstablishment). The *Passive start events force it; the plain
   * ones take configuredPassive, so a peer configured passive never dials out.
   */
  readonly passive: boolean;
  readonly configuredPassive: boolean;
  /** RFC 4271 §8.1.1; kept across automatic restarts so it counts consecutive failures. */
  readonly connectRetryCounter: number;
  readonly configuredHoldTime: number;
  /** min(ours, peer's) once an OPEN arrived (§4.2); 0 = no hold timer. */
  readonly negotiatedHoldTime: number;
  /** Interval between our KEEPALIVEs; 0 when the negotiated hold time is 0. */
  readonly keepaliveTime: number;
  readonly connectRetryTime: number;
  /** The wait before the next automatic restart; doubles per consecutive failure. */
  readonly idleHoldTime: number;
  readonly idleHoldBase: number;
  readonly idleHoldMax: number;
  /**
   * Whether an automatic restart is pending. Not in the original design:
   * it lets AutomaticStart defer to the pending back-off (§8.2.1.3
   * DampPeerOscillations) and makes a stray IdleHoldTimerExpires harmless.
   */
  readonly idleHoldRunning: boolean;
  /** §8.2.2 OpenSent: the hold timer before the peer's OPEN fixed the real one. */
  readonly largeHoldTime: number;
}

export interface FsmOptions {
  readonly passive?: boolean;
  /** Our proposed hold time; RFC 4271 §10 suggests 90 s. */
  readonly holdTime?: number;
  /** RFC 4271 §10 suggests 120 s; tests and interop runs use less. */
  readonly connectRetryTime?: number;
  readonly idleHoldBase?: number;
  readonly idleHoldMax?: number;
  /** RFC 4271 §8.2.2 suggests 4 minutes. */
  readonly largeHoldTime?: number;
}

export const FSM_DEFAULTS = {
  passive: false,
  holdTime: 90,
  connectRetryTime: 120,
  // FRR's choice: retry after 1 s, doubling, but never wait more than 2 minutes.
  idleHoldBase: 1,
  idleHoldMax: 120,
  largeHoldTime: 240,
} as const satisfies Required<FsmOptions>;

/** RFC 4271 §4.2: a hold time is 0 or at least 3 s, and fits in 16 bits. */
export function isValidHoldTime(s: number): boolean {
  return Number.isInteger(s) && (s === 0 || (s >= 3 && s <= 0xffff));
}

/** RFC 4271 §10: KeepaliveTime is a third of the hold time, but at least 1 s when hold is on. */
export function keepaliveFor(holdTime: number): number {
  return holdTime > 0 ? Math.max(1, Math.floor(holdTime / 3)) : 0;
}

/** Throws RangeError on options no session could run with (a configuration error). */
export function initialContext(options: FsmOptions = {}): FsmContext {
  // `??` rather than spreading, so `{ holdTime: undefined }` from a config loader keeps the default.
  const d = FSM_DEFAULTS;
  const o = {
    passive: options.passive ?? d.passive,
    holdTime: options.holdTime ?? d.holdTime,
    connectRetryTime: options.connectRetryTime ?? d.connectRetryTime,
    idleHoldBase: options.idleHoldBase ?? d.idleHoldBase,
    idleHoldMax: options.idleHoldMax ?? d.idleHoldMax,
    largeHoldTime: options.largeHoldTime ?? d.largeHoldTime,
  };
  if (!isValidHoldTime(o.holdTime)) throw new RangeError(`hold time ${o.holdTime} must be 0 or 3..65535 s`);
  if (!(o.connectRetryTime > 0)) throw new RangeError(`connect retry time ${o.connectRetryTime} must be > 0`);
  if (!(o.idleHoldBase >= 0 && o.idleHoldBase <= o.idleHoldMax)) {
    throw new RangeError(`idle hold base ${o.idleHoldBase} must be within 0..${o.idleHoldMax} s`);
  }
  if (!(o.largeHoldTime > 0)) throw new RangeError(`large hold time ${o.largeHoldTime} must be > 0`);
  return {
    state: 'Idle',
    passive: o.passive,
    configuredPassive: o.passive,
    connectRetryCounter: 0,
    configuredHoldTime: o.holdTime,
    negotiatedHoldTime: 0,
    keepaliveTime: keepaliveFor(o.holdTime),
    connectRetryTime: o.connectRetryTime,
    idleHoldTime: o.idleHoldBase,
    idleHoldBase: o.idleHoldBase,
    idleHoldMax: o.idleHoldMax,
    idleHoldRunning: false,
    largeHoldTime: o.largeHoldTime,
  };
}

