import { parseConfig } from '../../src/config/index.js';
import type { Config } from '../../src/config/index.js';
import { silentLogger } from '../../src/core/log.js';
import { Speaker } from '../../src/speaker.js';

/** A Config from YAML text; fails the test with the loader's message if the text is wrong. */
export function configFrom(yaml: string): Config {
  const r = parseConfig(yaml, 'test.yaml');
  if (!r.ok) throw new Error(r.error.map((e) => `${e.line}: ${e.path}: ${e.message}`).join('\n'));
  return r.value;
}

export async function startSpeaker(yaml: string): Promise<Speaker> {
  const s = new Speaker(configFrom(yaml), silentLogger());
  await s.start();
  return s;
}

/** Polls until `check` returns a value other than undefined/false, or fails with `what`. */
export async function eventually<T>(what: string, check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
