/**
 * The wire codec alone, in memory: encode a table into UPDATEs, then cut the
 * byte stream into frames and decode them as a session's input path does.
 */
import { performance } from 'node:perf_hooks';
import type { DecodeContext } from '../src/bgp/wire/attributes-decode.js';
import { MessageType } from '../src/bgp/wire/constants.js';
import { IPV4_UNICAST } from '../src/bgp/wire/family.js';
import { Framer } from '../src/bgp/wire/framer.js';
import { decodeUpdate } from '../src/bgp/wire/update.js';
import { count, fixed, table } from './format.js';
import { PACK, encodeTable, generateTable } from './table.js';

export const CODEC_DEFAULT_ROUTES = 1_000_000;
const CHUNK = 64 * 1024;
const PEER_AS = 65100;

interface Pass {
  readonly ms: number;
  readonly messages: number;
  readonly nlri: number;
}

/** A warm-up pass whose result is checked, then the fastest of `runs` timed passes. */
function best(what: string, expectNlri: number, runs: number, pass: () => Pass): Pass {
  const warm = pass();
  if (warm.nlri !== expectNlri) throw new Error(`${what}: ${warm.nlri} NLRI, expected ${expectNlri}`);
  let top: Pass | undefined;
  for (let i = 0; i < runs; i++) {
    const p = pass();
    if (top === undefined || p.ms < top.ms) top = p;
  }
  return top!;
}

export function runCodec(routes: number, runs: number): void {
  const t = generateTable(routes, { peerAs: PEER_AS });

  const encode = (): Pass => {
    const start = performance.now();
    const msgs = encodeTable(t, PACK);
    const ms = performance.now() - start;
    return { ms, messages: msgs.length, nlri: routes };
  };
  const messages = encodeTable(t, PACK);
  const wire = Buffer.concat(messages);
  // Views, not copies: the bench loop must not touch bytes the codec does not.
  const chunks: Buffer[] = [];
  for (let at = 0; at < wire.length; at += CHUNK) chunks.push(wire.subarray(at, Math.min(at + CHUNK, wire.length)));

  const ctx: DecodeContext = { fourOctetAs: true, ebgpPeerAs: PEER_AS, families: new Set([IPV4_UNICAST]) };
  const frameOnly = (): Pass => {
    const start = performance.now();
    const f = new Framer();
    let n = 0;
    for (const c of chunks) {
      f.push(c);
      for (let fr = f.next(); fr !== undefined; fr = f.next()) {
        if ('kind' in fr) throw new Error(`framing: ${fr.reason}`);
        n++;
      }
    }
    const ms = performance.now() - start;
    if (n !== messages.length) throw new Error(`framing: ${n} messages, expected ${messages.length}`);
    return { ms, messages: n, nlri: routes };
  };
  const frameDecode = (): Pass => {
    const start = performance.now();
    const f = new Framer();
    let n = 0;
    let nlri = 0;
    for (const c of chunks) {
      f.push(c);
      for (let fr = f.next(); fr !== undefined; fr = f.next()) {
        if ('kind' in fr) throw new Error(`framing: ${fr.reason}`);
        if (fr.type !== MessageType.Update) continue;
        const u = decodeUpdate(fr.body, ctx);
        if (!u.ok) throw new Error(`decode: ${u.error.reason}`);
        if (u.value.treatAsWithdraw) throw new Error(`decode: treat-as-withdraw: ${u.value.errors.map((e) => e.reason).join('; ')}`);
        n++;
        nlri += u.value.nlri.length;
      }
    }
    return { ms: performance.now() - start, messages: n, nlri };
  };

  const rows: string[][] = [];
  const add = (name: string, p: Pass): void => {
    const s = p.ms / 1000;
    rows.push([name, fixed(p.ms, 1), count(p.messages / s), count(p.nlri / s)]);
  };
  add('encode', best('encode', routes, runs, encode));
  add('frame', best('frame', routes, runs, frameOnly));
  add('frame+decode', best('frame+decode', routes, runs, frameDecode));

  const avg = routes / messages.length;
  console.log(
    `codec: ${count(routes)} IPv4 routes (${Math.round(t.slash24 * 100)}% /24), ${count(t.sets.length)} attribute sets, ` +
      `${count(messages.length)} UPDATEs (${PACK.maxLength}-byte max, ${fixed(avg, 1)} NLRI each), ${count(wire.length)} bytes`,
  );
  console.log(`  framed from ${CHUNK / 1024} KiB chunks; best of ${runs} runs after a warm-up; node ${process.version}`);
  console.log(table(['', 'ms', 'UPDATE msg/s', 'NLRI/s'], rows).replace(/^/gm, '  '));
}
