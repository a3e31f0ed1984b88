/**
 * Duplicate MAC detection, RFC 7432 §15.1: "If a PE detects that a MAC
 * address moves N times within M seconds (N=5, M=180 by default), it MUST ...
 * alert the operator and stop sending and processing any BGP MAC/IP
 * Advertisement routes for that MAC address until a corrective action is
 * taken."
 *
 * One detector per speaker, keyed by whatever the caller chooses (the VM
 * registry uses `network|mac`). Each key keeps a sliding window of the times
 * of its unplanned moves; the move that brings the count inside the window to
 * N makes the key duplicate and fires one 'duplicate' event. A duplicate key
 * stays so until `clear()` (the ClearDuplicate API) or, when the policy has
 * `freezeMs`, until that timer runs out; either way a 'cleared' event fires
 * and the key starts again with an empty window.
 *
 * Moves an agent announced through a committed migration are planned: they
 * are counted (so inspection and metrics show them) but never trip detection,
 * so a vMotion storm is not mistaken for a loop.
 *
 * A move at `t` is inside the window at `now` while `now - t < windowMs`, so
 * N moves exactly M apart from first to last do not trip. Memory is bounded:
 * a key with an empty window that is not duplicate is dropped whenever it is
 * looked at and by `sweep()`, and no key keeps more than
 * max(N, MAX_TRACKED_MOVES) times per kind.
 */
import type { Clock, TimerHandle } from '../core/clock.js';

export interface DuplicatePolicy {
  /** Moves within `windowMs` that make a MAC duplicate (RFC 7432 §15.1 N, default 5). */
  readonly maxMoves: number;
  /** M, default 180 s. */
  readonly windowMs: number;
  /** How long a duplicate MAC stays frozen; undefined = until cleared (ClearDuplicate). */
  readonly freezeMs?: number;
}

/** RFC 7432 §15.1 defaults: 5 moves within 180 s, frozen until cleared. */
export const DEFAULT_DUPLICATE_POLICY: DuplicatePolicy = Object.freeze({ maxMoves: 5, windowMs: 180_000 });

/** The longest timer Node arms faithfully (setTimeout fires at once above 2^31-1 ms, about 24.8 days). */
export const MAX_FREEZE_MS = 2_147_483_647;

/** Times kept per key and kind, beyond N: counts saturate there rather than grow without bound. */
export const MAX_TRACKED_MOVES = 256;

export interface DuplicateState {
  readonly key: string;
  /** When the key became duplicate. */
  readonly since: number;
  /** Unplanned moves: the N that tripped it plus any recorded while duplicate. */
  readonly moves: number;
  /** When the freeze timer clears it; absent when only `clear()` does. */
  readonly until?: number;
}

export type DuplicateEvent =
  | { kind: 'duplicate'; key: string; moves: number; windowMs: number; at: number; until?: number }
  | { kind: 'cleared'; key: string; at: number; by: 'timer' | 'api' };

interface Duplicate {
  readonly since: number;
  /** Detection order, so list() is ordered even when two keys trip at the same instant. */
  readonly order: number;
  moves: number;
  readonly until?: number;
  timer?: TimerHandle;
}

interface Entry {
  /** The window of the policy last recorded under, used to prune when no policy is at hand. */
  windowMs: number;
  /** Times of unplanned moves, oldest first (as long as the clock does not step back). */
  unplanned: number[];
  planned: number[];
  dup?: Duplicate;
}

/** Throws RangeError unless the policy is usable; config validation reports the same limits to the operator first. */
export function checkDuplicatePolicy(p: DuplicatePolicy): void {
  if (!Number.isInteger(p.maxMoves) || p.maxMoves < 2) {
    throw new RangeError(`duplicate MAC detection: maxMoves must be an integer of at least 2, got ${p.maxMoves}`);
  }
  if (!Number.isFinite(p.windowMs) || p.windowMs <= 0) {
    throw new RangeError(`duplicate MAC detection: windowMs must be a positive number, got ${p.windowMs}`);
  }
  if (p.freezeMs !== undefined && (!Number.isFinite(p.freezeMs) || p.freezeMs <= 0 || p.freezeMs > MAX_FREEZE_MS)) {
    throw new RangeError(`duplicate MAC detection: freezeMs must be unset or in (0, ${MAX_FREEZE_MS}], got ${p.freezeMs}`);
  }
}

/** Drops times that fell out of the window ending at `now`, in place. */
function prune(times: number[], now: number, windowMs: number): void {
  let w = 0;
  for (const t of times) if (now - t < windowMs) times[w++] = t;
  times.length = w;
}

/** Appends `t`, dropping the oldest beyond `cap`. */
function push(times: number[], t: number, cap: number): void {
  times.push(t);
  if (times.length > cap) times.splice(0, times.length - cap);
}

export class DuplicateDetector {
  readonly #entries = new Map<string, Entry>();
  #closed = false;
  #detected = 0;

  constructor(
    private readonly clock: Clock,
    private readonly onEvent: (e: DuplicateEvent) => void,
  ) {}

  /**
   * Records a move of `key` under `policy`; returns true when this move made
   * it duplicate (or it already is). Planned moves are counted but never trip
   * detection.
   */
  recordMove(key: string, policy: DuplicatePolicy, planned = false): boolean {
    checkDuplicatePolicy(policy);
    const now = this.clock.now();
    let e = this.#entries.get(key);
    if (e === undefined) {
      e = { windowMs: policy.windowMs, unplanned: [], planned: [] };
      this.#entries.set(key, e);
    }
    e.windowMs = policy.windowMs;
    prune(e.unplanned, now, e.windowMs);
    prune(e.planned, now, e.windowMs);
    const cap = Math.max(policy.maxMoves, MAX_TRACKED_MOVES);
    if (planned) {
      push(e.planned, now, cap);
      return e.dup !== undefined;
    }
    push(e.unplanned, now, cap);
    if (e.dup !== undefined) {
      e.dup.moves++;
      return true;
    }
    if (e.unplanned.length < policy.maxMoves) return false;
    this.#markDuplicate(key, e, policy, now);
    return true;
  }

  isDuplicate(key: string): boolean {
    return this.#entry(key)?.dup !== undefined;
  }

  state(key: string): DuplicateState | undefined {
    const e = this.#entry(key);
    return e?.dup === undefined ? undefined : stateOf(key, e.dup);
  }

  /** Every duplicate key, in the order they became duplicate. */
  list(): DuplicateState[] {
    const dups: [string, Duplicate][] = [];
    for (const [key, e] of this.#entries) if (e.dup !== undefined) dups.push([key, e.dup]);
    return dups.sort((a, b) => a[1].order - b[1].order).map(([key, d]) => stateOf(key, d));
  }

  /** Clears a duplicate (API); false if the key was not duplicate. */
  clear(key: string): boolean {
    const e = this.#entries.get(key);
    if (e?.dup === undefined) return false;
    this.#clear(key, e.dup, 'api');
    return true;
  }

  /** Unplanned and planned moves inside the current window, for metrics/inspection. */
  counts(key: string): { unplanned: number; planned: number } {
    const e = this.#entry(key);
    return { unplanned: e?.unplanned.length ?? 0, planned: e?.planned.length ?? 0 };
  }

  /** Keys tracked (duplicate or with moves in their window), for metrics and tests. */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops every key whose window is empty and that is not duplicate; returns how many went. */
  sweep(): number {
    const now = this.clock.now();
    let dropped = 0;
    for (const [key, e] of this.#entries) if (this.#stale(e, now)) {
      this.#entries.delete(key);
      dropped++;
    }
    return dropped;
  }

  /** Cancels timers; duplicates found so far stay duplicate, and no timer is armed after this. */
  close(): void {
    this.#closed = true;
    for (const e of this.#entries.values()) {
      e.dup?.timer?.cancel();
      if (e.dup) e.dup.timer = undefined;
    }
  }

  #markDuplicate(key: string, e: Entry, policy: DuplicatePolicy, now: number): void {
    const until = policy.freezeMs === undefined ? undefined : now + policy.freezeMs;
    const base = { since: now, order: this.#detected++, moves: e.unplanned.length };
    const dup: Duplicate = until === undefined ? base : { ...base, until };
    e.dup = dup;
    if (policy.freezeMs !== undefined && !this.#closed) {
      dup.timer = this.clock.setTimer(policy.freezeMs, () => {
        // A clear() and a new detection may have replaced this one meanwhile.
        if (this.#entries.get(key)?.dup === dup) this.#clear(key, dup, 'timer');
      });
    }
    const event: DuplicateEvent = { kind: 'duplicate', key, moves: dup.moves, windowMs: policy.windowMs, at: now };
    if (until !== undefined) event.until = until;
    this.onEvent(event);
  }

  /** Ends a duplicate; the key starts over with empty windows. */
  #clear(key: string, dup: Duplicate, by: 'timer' | 'api'): void {
    dup.timer?.cancel();
    this.#entries.delete(key);
    this.onEvent({ kind: 'cleared', key, at: this.clock.now(), by });
  }

  /** The key's entry with its windows pruned, or undefined (and forgotten) when nothing is left of it. */
  #entry(key: string): Entry | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (this.#stale(e, this.clock.now())) {
      this.#entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** Prunes `e`'s windows; true when it holds nothing worth keeping. */
  #stale(e: Entry, now: number): boolean {
    prune(e.unplanned, now, e.windowMs);
    prune(e.planned, now, e.windowMs);
    return e.dup === undefined && e.unplanned.length === 0 && e.planned.length === 0;
  }
}

function stateOf(key: string, d: Duplicate): DuplicateState {
  return d.until === undefined ? { key, since: d.since, moves: d.moves } : { key, since: d.since, moves: d.moves, until: d.until };
}
