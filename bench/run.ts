/**
 * npm run bench -- [codec] [ingest] [--routes N] [--runs N] [--timeout S] [--receivers ...] [--cpu-prof DIR]
 * See bench/README.md.
 */
import { cpus } from 'node:os';
import { type BenchArgs, USAGE, parseArgs } from './args.js';
import { cleanupAll, installSignalHandlers } from './cleanup.js';
import { CODEC_DEFAULT_ROUTES, runCodec } from './codec.js';
import { INGEST_DEFAULT_ROUTES, runIngest } from './ingest.js';

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
      if (suite === 'codec') runCodec(args.routes ?? CODEC_DEFAULT_ROUTES, args.runs);
      else {
        ok &&= await runIngest({
          routes: args.routes ?? INGEST_DEFAULT_ROUTES,
          timeoutSec: args.timeoutSec,
          runs: args.runs,
          receivers: args.receivers,
          cpuProfDir: args.cpuProfDir,
        });
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
