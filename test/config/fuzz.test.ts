import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { FAMILY_NAMES, parseConfig, type ConfigError } from '../../src/config/index.js';

/** Whatever the input, the loader answers with located errors, never a throw or an internal error. */
function checkAnswer(text: string): void {
  const r = parseConfig(text, 'fuzz.yaml');
  if (r.ok) {
    for (const n of r.value.neighbors) {
      assert.equal(typeof n.holdTime, 'number');
      assert.ok(n.families.length > 0);
    }
    return;
  }
  assert.ok(r.error.length > 0);
  r.error.forEach((e: ConfigError) => {
    assert.ok(e.line >= 1 && e.col >= 1, JSON.stringify(e));
    assert.ok(!e.message.startsWith('internal error'), e.message);
  });
}

/** Some values yaml.stringify cannot write (it throws); those are not config files. */
function dump(value: unknown): string | undefined {
  try {
    return stringify(value) ?? '';
  } catch {
    return undefined;
  }
}

test('arbitrary strings never throw', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), checkAnswer), { numRuns: 500 });
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'{}[]:-,#&*!|>\'"%@` \n\t0a.'), maxLength: 200 }), checkAnswer), {
    numRuns: 500,
  });
});

test('arbitrary YAML documents never throw', () => {
  fc.assert(
    fc.property(fc.anything(), (value) => {
      const text = dump(value);
      if (text !== undefined) checkAnswer(text);
    }),
    { numRuns: 300 },
  );
});

test('config-shaped documents with arbitrary values never throw', () => {
  const value = fc.oneof(
    fc.anything({ maxDepth: 2 }),
    fc.ipV4(),
    fc.ipV6(),
    fc.integer({ min: -1, max: 70000 }),
    fc.constantFrom(...FAMILY_NAMES),
    fc.array(fc.constantFrom(...FAMILY_NAMES, 'bogus')),
    fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 33 })).map(([a, l]) => `${a}/${l}`),
  );
  const map = (keys: string[]) => fc.dictionary(fc.constantFrom(...keys), value);
  const neighbor = map(['address', 'remote-as', 'port', 'local-address', 'passive', 'hold-time', 'families', 'shutdown-message', 'x']);
  const route = map(['family', 'prefix', 'next-hop', 'med', 'communities', 'origin', 'as-path']);
  const config = fc.record(
    {
      'router-id': fc.oneof(fc.ipV4(), value),
      asn: fc.oneof(fc.integer({ min: 0, max: 2 ** 32 }), value),
      listen: fc.oneof(fc.boolean(), map(['enabled', 'address', 'port'])),
      'hold-time': value,
      neighbors: fc.oneof(fc.array(neighbor, { maxLength: 4 }), value),
      originate: fc.array(route, { maxLength: 4 }),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(config, (c) => {
      const text = dump(c);
      if (text !== undefined) checkAnswer(text);
    }),
    { numRuns: 500 },
  );
});
