/**
 * Time as a dependency: the FSM and the sessions read time and arm timers only
 * through this, so tests drive them with a fake clock.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  now(): number;
  setTimer(ms: number, fire: () => void): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fire) {
    const t = setTimeout(fire, ms);
    // A pending BGP timer must not keep the process alive after shutdown.
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};
