/**
 * npm run bench -- [codec] [ingest] [rr] [store] [api] [mobility] [--routes N[,N...]] [--runs N] [--timeout S] [--receivers ...] [--clients ...] [--cpu-prof DIR]
 * See bench/README.md.
 */
import { cpus } from 'node:os';
import { type BenchArgs, USAGE, parseArgs } from './args.js';
import { cleanupAll, installSignalHandlers, wasInterrupted } from './cleanup.js';
import { CODEC_DEFAULT_ROUTES, runCodec } from './codec.js';
import { INGEST_DEFAULT_ROUTES, runIngest } from './ingest.js';
import { RR_DEFAULTS, runRr } from './rr.js';
import { runStore } from './store.js';
import { API_DEFAULTS, runApi } from './api.js';
import { MOBILITY_DEFAULTS, runMobility } from './mobility.js';

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  let args: BenchArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return 2;
  }
  installSignalHandlers();
  const cpu = cpus();
  console.log(`vmmi bench: ${cpu.length} x ${cpu[0]?.model.trim() ?? 'unknown CPU'}, node ${process.version}\n`);
  let ok = true;
  try {
    for (const suite of args.suites) {
      if (wasInterrupted()) break;
      switch (suite) {
        case 'codec':
          for (const routes of args.routes ?? [CODEC_DEFAULT_ROUTES]) runCodec(routes, args.runs);
          break;
        case 'ingest':
          for (const routes of args.routes ?? [INGEST_DEFAULT_ROUTES]) {
            // Not &&=: a failed size must not skip the sizes after it.
            const passed = await runIngest({
              routes,
              timeoutSec: args.timeoutSec ?? 120,
              runs: args.runs,
              receivers: args.receivers,
              cpuProfDir: args.cpuProfDir,
            });
            ok = ok && passed;
          }
          break;
        case 'rr': {
          const passed = await runRr({
            routes: args.routes ?? RR_DEFAULTS.routes,
            clients: args.clients ?? RR_DEFAULTS.clients,
            gobgpRoutes: args.gobgpRoutes ?? RR_DEFAULTS.gobgpRoutes,
            timeoutSec: args.timeoutSec ?? RR_DEFAULTS.timeoutSec,
            runs: args.runs,
            reflectors: args.receivers,
            cpuProfDir: args.cpuProfDir,
            heapProfDir: args.heapProfDir,
          });
          ok = ok && passed;
          break;
        }
        case 'store':
          await runStore(args.runs);
          break;
        case 'api':
          for (const announcements of args.routes ?? [API_DEFAULTS.announcements]) {
            const passed = await runApi({ ...API_DEFAULTS, announcements, cpuProfDir: args.cpuProfDir });
            ok = ok && passed;
          }
          break;
        case 'mobility':
          for (const vms of args.routes ?? [MOBILITY_DEFAULTS.vms]) {
            const passed = await runMobility({ vms, receivers: args.receivers, timeoutSec: args.timeoutSec ?? MOBILITY_DEFAULTS.timeoutSec, cpuProfDir: args.cpuProfDir });
            ok = ok && passed;
          }
          break;
      }
      console.log('');
    }
    return ok ? 0 : 1;
  } catch (e) {
    console.error(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 1;
  } finally {
    await cleanupAll();
  }
}

process.exitCode = await main();
