/**
 * The V8 flags vmmid runs with: `npm start` and the `vmmid` bin's shebang
 * carry them (test/cli/node-flags.test.ts holds the three together), and
 * the benches start their vmmid processes with them.
 *
 * --max-semi-space-size=4: V8 lets the young generation grow to two 16 MiB
 * semi-spaces. A speaker's young objects are messages and routes on their
 * way to the RIB, which 4 MiB semi-spaces collect as well; the 24 MiB that
 * are then never committed were most of what a 100k-route reflector's peak
 * RSS had above FRR's (`npm run bench -- rr`: 142 -> 110 MiB at 100k routes,
 * no slower at 100k or 1M).
 */
export const VMMID_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
