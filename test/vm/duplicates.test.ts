import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_DUPLICATE_POLICY,
  type DuplicateEvent,
  type DuplicatePolicy,
  DuplicateDetector,
  MAX_FREEZE_MS,
  MAX_TRACKED_MOVES,
} from '../../src/vm/duplicates.js';
import { FakeClock } from '../fsm/fake-clock.js';

const KEY = 'blue|02:00:00:00:00:01';
const OTHER = 'blue|02:00:00:00:00:02';
const FREEZE: DuplicatePolicy = { ...DEFAULT_DUPLICATE_POLICY, freezeMs: 60_000 };

function setup(start = 1_000) {
  const clock = new FakeClock(start);
  const events: DuplicateEvent[] = [];
  const d = new DuplicateDetector(clock, (e) => events.push(e));
  return { clock, events, d };
}

/** Records `n` unplanned moves `gapMs` apart (the first at now), returning what each call returned. */
function moves(s: ReturnType<typeof setup>, n: number, gapMs: number, policy = DEFAULT_DUPLICATE_POLICY, key = KEY): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0) s.clock.advance(gapMs);
    out.push(s.d.recordMove(key, policy));
  }
  return out;
}

test('defaults are RFC 7432 §15.1: N=5, M=180 s, frozen until cleared', () => {
  assert.deepEqual(DEFAULT_DUPLICATE_POLICY, { maxMoves: 5, windowMs: 180_000 });
  assert.ok(Object.isFrozen(DEFAULT_DUPLICATE_POLICY));
});

test('5 moves within 180 s trip it on the 5th, not the 4th', () => {
  const s = setup();
  assert.deepEqual(moves(s, 4, 40_000), [false, false, false, false]);
  assert.equal(s.d.isDuplicate(KEY), false);
  assert.deepEqual(s.events, []);
  assert.deepEqual(s.d.counts(KEY), { unplanned: 4, planned: 0 });
  s.clock.advance(59_999); // 179 999 ms after the first move
  assert.equal(s.d.recordMove(KEY, DEFAULT_DUPLICATE_POLICY), true);
  assert.equal(s.d.isDuplicate(KEY), true);
  assert.deepEqual(s.events, [{ kind: 'duplicate', key: KEY, moves: 5, windowMs: 180_000, at: 180_999 }]);
  assert.deepEqual(s.d.state(KEY), { key: KEY, since: 180_999, moves: 5 });
  assert.deepEqual(s.d.list(), [{ key: KEY, since: 180_999, moves: 5 }]);
  assert.equal(s.d.isDuplicate(OTHER), false);
  assert.equal(s.d.state(OTHER), undefined);
});

test('moves spread over more than 180 s do not trip it', () => {
  const s = setup();
  // 5 moves 45 s apart: the 5th comes exactly 180 s after the 1st, which has left the window.
  assert.deepEqual(moves(s, 5, 45_000), [false, false, false, false, false]);
  // ...and it keeps sliding: every later move sees only the 4 before it.
  s.clock.advance(45_000);
  assert.deepEqual(moves(s, 20, 45_000), Array(20).fill(false));
  assert.equal(s.d.isDuplicate(KEY), false);
  assert.deepEqual(s.d.counts(KEY), { unplanned: 4, planned: 0 });
  assert.deepEqual(s.events, []);
});

test('a burst after the window has slid still trips it', () => {
  const s = setup();
  moves(s, 4, 1_000);
  s.clock.advance(200_000);
  assert.deepEqual(s.d.counts(KEY), { unplanned: 0, planned: 0 });
  assert.deepEqual(moves(s, 5, 1_000), [false, false, false, false, true]);
});

test('planned moves never trip it and are counted separately', () => {
  const s = setup();
  for (let i = 0; i < 50; i++) {
    assert.equal(s.d.recordMove(KEY, DEFAULT_DUPLICATE_POLICY, true), false);
    s.clock.advance(1_000);
  }
  assert.equal(s.d.isDuplicate(KEY), false);
  assert.deepEqual(s.d.counts(KEY), { unplanned: 0, planned: 50 });
  // Unplanned moves interleaved with the planned ones are what counts.
  assert.deepEqual(moves(s, 4, 1_000), [false, false, false, false]);
  assert.equal(s.d.recordMove(KEY, DEFAULT_DUPLICATE_POLICY, true), false);
  assert.deepEqual(s.d.counts(KEY), { unplanned: 4, planned: 51 });
  assert.equal(s.d.recordMove(KEY, DEFAULT_DUPLICATE_POLICY), true);
  assert.equal(s.events.length, 1);
  // While duplicate a planned move reports it, is counted, and fires nothing.
  assert.equal(s.d.recordMove(KEY, DEFAULT_DUPLICATE_POLICY, true), true);
  assert.deepEqual(s.d.counts(KEY), { unplanned: 5, planned: 52 });
  assert.equal(s.d.state(KEY)?.moves, 5);
  assert.equal(s.events.length, 1);
  // Planned moves age out of the window like unplanned ones.
  s.clock.advance(180_000);
  assert.deepEqual(s.d.counts(KEY), { unplanned: 0, planned: 0 });
});

test('the duplicate event fires once; later moves only add to the count', () => {
  const s = setup();
  assert.deepEqual(moves(s, 12, 1_000), [false, false, false, false, true, true, true, true, true, true, true, true]);
  assert.equal(s.events.length, 1);
  assert.deepEqual(s.d.state(KEY), { key: KEY, since: 5_000, moves: 12 });
  // Still duplicate long after the window: without freezeMs only clear() ends it.
  s.clock.advance(10 * 180_000);
  assert.equal(s.d.isDuplicate(KEY), true);
  assert.equal(s.d.sweep(), 0);
  assert.equal(s.events.length, 1);
  assert.deepEqual(s.clock.pending(), []);
});

test('the freeze timer clears it at exactly freezeMs, not before', () => {
  const s = setup();
  moves(s, 5, 1_000, FREEZE);
  assert.deepEqual(s.events, [{ kind: 'duplicate', key: KEY, moves: 5, windowMs: 180_000, at: 5_000, until: 65_000 }]);
  assert.deepEqual(s.d.state(KEY), { key: KEY, since: 5_000, moves: 5, until: 65_000 });
  assert.deepEqual(s.clock.pending(), [60_000]);
  // Moves while frozen neither re-arm nor extend the freeze.
  s.clock.advance(30_000);
  assert.equal(s.d.recordMove(KEY, FREEZE), true);
  assert.deepEqual(s.clock.pending(), [30_000]);
  s.clock.advance(29_999);
  assert.equal(s.d.isDuplicate(KEY), true);
  assert.equal(s.events.length, 1);
  s.clock.advance(1);
  assert.equal(s.d.isDuplicate(KEY), false);
  assert.deepEqual(s.events.slice(1), [{ kind: 'cleared', key: KEY, at: 65_000, by: 'timer' }]);
  assert.deepEqual(s.d.list(), []);
  assert.deepEqual(s.clock.pending(), []);
});

test('clear() through the API cancels the freeze timer and emits once', () => {
  const s = setup();
  moves(s, 5, 1_000, FREEZE);
  s.clock.advance(10_000);
  assert.equal(s.d.clear(KEY), true);
  assert.deepEqual(s.events.slice(1), [{ kind: 'cleared', key: KEY, at: 15_000, by: 'api' }]);
  assert.deepEqual(s.clock.pending(), []);
  assert.equal(s.d.clear(KEY), false);
  s.clock.advance(120_000); // past where the freeze would have run out
  assert.equal(s.events.length, 2);
  assert.equal(s.d.isDuplicate(KEY), false);
});

test('clear() of a key that is not duplicate is false and fires nothing', () => {
  const s = setup();
  moves(s, 3, 1_000);
  assert.equal(s.d.clear(KEY), false);
  assert.equal(s.d.clear(OTHER), false);
  assert.deepEqual(s.d.counts(KEY), { unplanned: 3, planned: 0 });
  assert.deepEqual(s.events, []);
});

test('after a clear the count starts again from zero', () => {
  for (const how of ['api', 'timer'] as const) {
    const s = setup();
    moves(s, 5, 1_000, FREEZE);
    if (how === 'api') s.d.clear(KEY);
    else s.clock.advance(60_000);
    assert.deepEqual(s.d.counts(KEY), { unplanned: 0, planned: 0 }, how);
    s.clock.advance(1_000);
    // The five moves before the clear are still inside 180 s, but do not count again.
    assert.deepEqual(moves(s, 5, 1_000, FREEZE), [false, false, false, false, true], how);
    assert.deepEqual(s.events.map((e) => e.kind), ['duplicate', 'cleared', 'duplicate'], how);
  }
});

test('a stale freeze timer does not clear a later detection', () => {
  const s = setup();
  moves(s, 5, 1_000, FREEZE); // frozen until 65 000
  s.d.clear(KEY);
  s.clock.advance(50_000);
  moves(s, 5, 1_000, FREEZE); // frozen again at 59 000, until 119 000
  s.clock.advance(10_000); // past the first timer's due time
  assert.equal(s.d.isDuplicate(KEY), true);
  s.clock.advance(50_000);
  assert.equal(s.d.isDuplicate(KEY), false);
  assert.deepEqual(s.events.map((e) => e.kind === 'cleared' ? e.by : e.kind), ['duplicate', 'api', 'duplicate', 'timer']);
});

test('keys are independent, and list() gives the duplicates in the order they became so', () => {
  const s = setup();
  moves(s, 4, 1_000, DEFAULT_DUPLICATE_POLICY, KEY);
  moves(s, 5, 1_000, DEFAULT_DUPLICATE_POLICY, OTHER);
  assert.equal(s.d.isDuplicate(OTHER), true);
  assert.equal(s.d.isDuplicate(KEY), false);
  assert.equal(s.d.recordMove(KEY, DEFAULT_DUPLICATE_POLICY), true);
  assert.deepEqual(s.d.list().map((x) => x.key), [OTHER, KEY]);
  s.d.clear(OTHER);
  assert.deepEqual(s.d.list().map((x) => x.key), [KEY]);
});

test('the policy is per call, so each network can have its own', () => {
  const s = setup();
  const tight: DuplicatePolicy = { maxMoves: 2, windowMs: 10_000 };
  assert.deepEqual(moves(s, 2, 10_000, tight), [false, false]);
  assert.deepEqual(moves(s, 2, 9_999, tight, OTHER), [false, true]);
  assert.deepEqual(s.events[0], { kind: 'duplicate', key: OTHER, moves: 2, windowMs: 10_000, at: 20_999 });
});

test('sweep() and lookups drop idle keys; duplicates and live windows stay', () => {
  const s = setup();
  moves(s, 5, 1_000, DEFAULT_DUPLICATE_POLICY, 'dup');
  s.d.recordMove('planned', DEFAULT_DUPLICATE_POLICY, true);
  for (let i = 0; i < 100; i++) s.d.recordMove(`idle-${i}`, DEFAULT_DUPLICATE_POLICY);
  s.clock.advance(100_000);
  s.d.recordMove('recent', DEFAULT_DUPLICATE_POLICY);
  assert.equal(s.d.size, 103);
  assert.equal(s.d.sweep(), 0);
  s.clock.advance(80_000); // the idle keys' and 'planned''s moves are now 180 s old
  assert.equal(s.d.sweep(), 101);
  assert.equal(s.d.size, 2);
  assert.equal(s.d.isDuplicate('dup'), true);
  assert.deepEqual(s.d.counts('recent'), { unplanned: 1, planned: 0 });
  // A lookup forgets an idle key too.
  s.clock.advance(100_000);
  assert.deepEqual(s.d.counts('recent'), { unplanned: 0, planned: 0 });
  assert.equal(s.d.size, 1);
  // And a cleared duplicate leaves nothing behind.
  s.d.clear('dup');
  assert.equal(s.d.size, 0);
});

test('a storm of moves keeps a bounded number of times per key', () => {
  const s = setup();
  for (let i = 0; i < 10_000; i++) {
    s.d.recordMove(KEY, DEFAULT_DUPLICATE_POLICY);
    s.d.recordMove(KEY, DEFAULT_DUPLICATE_POLICY, true);
  }
  assert.deepEqual(s.d.counts(KEY), { unplanned: MAX_TRACKED_MOVES, planned: MAX_TRACKED_MOVES });
  assert.equal(s.d.state(KEY)?.moves, 10_000);
  assert.equal(s.events.length, 1);
});

test('bad policies throw RangeError and record nothing', () => {
  const s = setup();
  const bad: DuplicatePolicy[] = [
    { maxMoves: 1, windowMs: 180_000 },
    { maxMoves: 0, windowMs: 180_000 },
    { maxMoves: 2.5, windowMs: 180_000 },
    { maxMoves: Number.NaN, windowMs: 180_000 },
    { maxMoves: 5, windowMs: 0 },
    { maxMoves: 5, windowMs: -1 },
    { maxMoves: 5, windowMs: Number.POSITIVE_INFINITY },
    { maxMoves: 5, windowMs: 180_000, freezeMs: 0 },
    { maxMoves: 5, windowMs: 180_000, freezeMs: -5 },
    { maxMoves: 5, windowMs: 180_000, freezeMs: Number.NaN },
    { maxMoves: 5, windowMs: 180_000, freezeMs: MAX_FREEZE_MS + 1 },
  ];
  for (const p of bad) assert.throws(() => s.d.recordMove(KEY, p), RangeError, JSON.stringify(p));
  assert.equal(s.d.size, 0);
  assert.doesNotThrow(() => s.d.recordMove(KEY, { maxMoves: 2, windowMs: 1, freezeMs: MAX_FREEZE_MS }));
});

test('close() cancels freeze timers and arms none afterwards', () => {
  const s = setup();
  moves(s, 5, 1_000, FREEZE);
  s.d.close();
  assert.deepEqual(s.clock.pending(), []);
  moves(s, 5, 1_000, FREEZE, OTHER);
  assert.deepEqual(s.clock.pending(), []);
  s.clock.advance(120_000);
  assert.equal(s.d.isDuplicate(KEY), true);
  assert.deepEqual(s.events.map((e) => e.kind), ['duplicate', 'duplicate']);
});

test('an event handler may clear the key it is told about', () => {
  const clock = new FakeClock();
  const events: DuplicateEvent[] = [];
  const d: DuplicateDetector = new DuplicateDetector(clock, (e) => {
    events.push(e);
    if (e.kind === 'duplicate') d.clear(e.key);
  });
  for (let i = 0; i < 5; i++) d.recordMove(KEY, FREEZE);
  assert.deepEqual(events.map((e) => e.kind), ['duplicate', 'cleared']);
  assert.equal(d.isDuplicate(KEY), false);
  assert.deepEqual(clock.pending(), []);
});
