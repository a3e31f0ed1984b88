import type { Clock, TimerHandle } from '../../src/core/clock.js';

interface Pending {
  readonly due: number;
  /** Breaks ties between timers due at the same instant: first armed fires first. */
  readonly seq: number;
  readonly fire: () => void;
  cancelled: boolean;
}

/** A Clock that only moves when told to, firing due timers in time order. */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #pending: Pending[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fire: () => void): TimerHandle {
    const t: Pending = { due: this.#now + Math.max(0, ms), seq: this.#seq++, fire, cancelled: false };
    this.#pending.push(t);
    return {
      cancel: () => {
        t.cancelled = true;
      },
    };
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way,
   * including ones armed by earlier callbacks; now() reads each timer's due
   * time while it fires.
   */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('time does not go backwards');
    const end = this.#now + ms;
    for (let t = this.#next(end); t !== undefined; t = this.#next(end)) {
      this.#now = t.due;
      t.fire();
    }
    this.#now = end;
  }

  /** Advances to the next due timer, fires it (and any due with it); returns false if none. */
  advanceToNext(): boolean {
    const next = this.#live()[0];
    if (next === undefined) return false;
    this.advance(next.due - this.#now);
    return true;
  }

  /** Live timers' remaining times, soonest first. */
  pending(): number[] {
    return this.#live().map((t) => t.due - this.#now);
  }

  #live(): Pending[] {
    this.#pending = this.#pending.filter((t) => !t.cancelled);
    return [...this.#pending].sort((a, b) => a.due - b.due || a.seq - b.seq);
  }

  #next(end: number): Pending | undefined {
    const t = this.#live()[0];
    if (t === undefined || t.due > end) return undefined;
    t.cancelled = true; // fired: a later cancel() must be a no-op
    return t;
  }
}
