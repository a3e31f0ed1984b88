/**
 * vmmid as the route reflector of the rr benchmark: a Speaker configured as
 * an RR for l2vpn-evpn, every neighbour a passive iBGP route-reflector
 * client, in a process of its own (own core, own heap), as FRR and GoBGP
 * are. It reports on stdout, one JSON object a line:
 *   {"event":"listening"}                                   ready for the clients
 *   {"event":"memory","rss":..,"heapUsed":..,...}           answer to a "memory" line on stdin
 *   {"event":"snapshot","path":..}                          answer to "snapshot PATH": a V8 heap snapshot written there
 *
 * usage: node dist/bench/vmmid-rr.js LISTEN_ADDR PORT ASN CLUSTER_ID CLIENT_ADDR...
 */
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { silentLogger } from '../src/core/log.js';
import { Speaker } from '../src/speaker.js';
import { configFrom } from '../test/support/speakers.js';

function say(o: Readonly<Record<string, string | number>>): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

function memory(): Record<string, string | number> {
  const m = process.memoryUsage();
  const out: Record<string, string | number> = {
    event: 'memory',
    rss: m.rss,
    heapTotal: m.heapTotal,
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
  // Which V8 spaces hold the heap: old space is the RIB, large objects are big arrays and maps.
  for (const s of getHeapSpaceStatistics()) out[`space:${s.space_name}`] = s.space_used_size;
  return out;
}

async function main(): Promise<void> {
  const [listen, portText, asnText, clusterId, ...clients] = process.argv.slice(2);
  if (!listen || !portText || !asnText || !clusterId || clients.length === 0) {
    throw new Error('usage: vmmid-rr LISTEN_ADDR PORT ASN CLUSTER_ID CLIENT_ADDR...');
  }
  const neighbors = clients
    .map(
      (a) => `  - address: ${a}
    remote-as: ${asnText}
    local-address: ${listen}
    passive: true
    families: [l2vpn-evpn]
    route-reflector-client: true`,
    )
    .join('\n');
  const speaker = new Speaker(
    configFrom(`
router-id: ${listen}
asn: ${asnText}
cluster-id: ${clusterId}
listen: { address: ${listen}, port: ${portText} }
neighbors:
${neighbors}
`),
    silentLogger(),
  );
  // No graceful stop: nothing to hand over, and dropping the table on the way
  // out would only add noise to the profiles, which are written at exit.
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(130));
  let buf = '';
  process.stdin.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl).trim();
      if (line === 'memory') say(memory());
      else if (line.startsWith('snapshot ')) say({ event: 'snapshot', path: writeHeapSnapshot(line.slice('snapshot '.length)) });
      buf = buf.slice(nl + 1);
    }
  });
  // The bench holds our stdin: EOF means it is gone, and a reflector must not outlive it.
  process.stdin.on('end', () => process.exit(0));

  await speaker.start();
  say({ event: 'listening' });
}

main().catch((e: unknown) => {
  process.stderr.write(`vmmid-rr: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
