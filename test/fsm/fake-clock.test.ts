import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from './fake-clock.js';

describe('FakeClock', () => {
  test('fires due timers in time order, ties in arming order, reading their due time', () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.setTimer(30, () => fired.push(`c@${clock.now()}`));
    clock.setTimer(10, () => fired.push(`a@${clock.now()}`));
    clock.setTimer(10, () => fired.push(`b@${clock.now()}`));
    clock.setTimer(31, () => fired.push('late'));
    clock.advance(30);
    assert.deepEqual(fired, ['a@1010', 'b@1010', 'c@1030']);
    assert.equal(clock.now(), 1030);
    assert.deepEqual(clock.pending(), [1]);
  });

  test('a timer armed by a callback fires within the same advance when due', () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    const tick = (): void => {
      fired.push(clock.now());
      clock.setTimer(10, tick);
    };
    clock.setTimer(10, tick);
    clock.advance(35);
    assert.deepEqual(fired, [10, 20, 30]);
    assert.equal(clock.now(), 35);
  });

  test('cancelled timers never fire; cancelling a fired one is harmless', () => {
    const clock = new FakeClock();
    let n = 0;
    const a = clock.setTimer(5, () => n++);
    const b = clock.setTimer(5, () => n += 10);
    b.cancel();
    clock.advance(10);
    a.cancel();
    assert.equal(n, 1);
    assert.deepEqual(clock.pending(), []);
  });

  test('advanceToNext jumps straight to the next timer', () => {
    const clock = new FakeClock();
    let fired = false;
    clock.setTimer(240_000, () => { fired = true; });
    assert.equal(clock.advanceToNext(), true);
    assert.equal(fired, true);
    assert.equal(clock.now(), 240_000);
    assert.equal(clock.advanceToNext(), false);
  });

  test('refuses to go backwards', () => {
    assert.throws(() => new FakeClock().advance(-1), RangeError);
  });
});
