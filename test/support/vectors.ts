import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One entry of test/vectors/*.json (see test/vectors/README.md). */
export interface Vector {
  readonly name: string;
  readonly source: string;
  readonly how: string;
  readonly type: string;
  readonly hex: string;
  readonly notes: string;
}

/**
 * Reads and checks a vector file. Tests run from dist/test/…, while the JSON
 * stays in the source tree (tsc does not copy it).
 */
export function loadVectors(fileName: 'bgp-messages.json' | 'evpn-vpn-messages.json'): readonly Vector[] {
  const file = fileURLToPath(new URL(`../../../test/vectors/${fileName}`, import.meta.url));
  const data: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(data)) throw new Error(`${file} is not a JSON array`);
  const list: unknown[] = data;
  return list.map((entry, i) => {
    if (typeof entry !== 'object' || entry === null) throw new Error(`${file}[${i}] is not an object`);
    const o = entry as Record<string, unknown>;
    const field = (k: string): string => {
      const v = o[k];
      if (typeof v !== 'string') throw new Error(`${file}[${i}].${k} is not a string`);
      return v;
    };
    return { name: field('name'), source: field('source'), how: field('how'), type: field('type'), hex: field('hex'), notes: field('notes') };
  });
}

export function vectorNamed(list: readonly Vector[], name: string): Vector {
  const v = list.find((x) => x.name === name);
  if (!v) assert.fail(`no vector named ${name}`);
  return v;
}
