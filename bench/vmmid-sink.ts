/**
 * vmmid as an ingest benchmark receiver: a Speaker with one passive
 * neighbour, in a process of its own so it gets a core and a heap to itself,
 * as FRR and GoBGP do. It reports on stdout, one JSON object a line:
 *   {"event":"listening"}                          ready for the sender
 *   {"event":"progress","count":N}                 once a second
 *   {"event":"done","count":N,"at":EPOCH_MS}       when the RIB holds N routes
 *
 * usage: node dist/bench/vmmid-sink.js ROUTES LISTEN_ADDR PORT PEER_ADDR PEER_AS LOCAL_AS
 */
import { performance } from 'node:perf_hooks';
import { IPV4_UNICAST } from '../src/bgp/wire/family.js';
import { silentLogger } from '../src/core/log.js';
import { Speaker } from '../src/speaker.js';
import { configFrom } from '../test/support/speakers.js';

function say(o: Readonly<Record<string, string | number>>): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

async function main(): Promise<void> {
  const [routesText, listen, portText, peer, peerAsText, asnText] = process.argv.slice(2);
  const routes = Number(routesText);
  if (!Number.isInteger(routes) || routes < 1 || !listen || !peer || !portText || !peerAsText || !asnText) {
    throw new Error('usage: vmmid-sink ROUTES LISTEN_ADDR PORT PEER_ADDR PEER_AS LOCAL_AS');
  }
  const speaker = new Speaker(
    configFrom(`
router-id: ${listen}
asn: ${asnText}
listen: { address: ${listen}, port: ${portText} }
neighbors:
  - address: ${peer}
    remote-as: ${peerAsText}
    local-address: ${listen}
    passive: true
    families: [ipv4-unicast]
`),
    silentLogger(),
  );
  // No graceful stop: a sink has nothing to hand over, and dropping the table
  // on the way out would only add noise to a CPU profile of the import.
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(130));
  // The bench holds our stdin: EOF means it is gone, and a sink must not outlive it.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();

  await speaker.start();
  say({ event: 'listening' });
  const progress = setInterval(() => say({ event: 'progress', count: speaker.rib.count(IPV4_UNICAST) }), 1000);
  const poll = setInterval(() => {
    const n = speaker.rib.count(IPV4_UNICAST);
    if (n < routes) return;
    clearInterval(poll);
    clearInterval(progress);
    say({ event: 'done', count: n, at: performance.timeOrigin + performance.now() });
  }, 5);
}

main().catch((e: unknown) => {
  process.stderr.write(`vmmid-sink: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
