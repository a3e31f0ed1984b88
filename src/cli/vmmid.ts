#!/usr/bin/env -S node --max-semi-space-size=4
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { type Config, defaultConfig, formatConfigErrors, loadConfigFile } from '../config/index.js';
import { type LogFormat, isLogLevel } from '../core/log.js';
import { createLogger } from '../core/winston-log.js';
import { Speaker } from '../speaker.js';

const argv = await yargs(hideBin(process.argv))
  .scriptName('vmmid')
  .usage('$0 [--config FILE]\n\nRuns the vmmi BGP EVPN speaker. Without --config it runs the built-in default (BGP on 127.0.0.1:1179, no neighbours).')
  .option('config', { alias: 'c', type: 'string', describe: 'YAML configuration file' })
  .option('log-format', { choices: ['json', 'text'] as const, describe: 'log format (default: text on a terminal, json otherwise)' })
  .option('log-level', { type: 'string', describe: 'error | warn | info | debug (overrides the config)' })
  .strict()
  .help()
  .parse();

let config: Config;
if (argv.config !== undefined) {
  const r = await loadConfigFile(argv.config);
  if (!r.ok) {
    process.stderr.write(`vmmid: invalid configuration\n${formatConfigErrors(r.error)}\n`);
    process.exit(2);
  }
  config = r.value;
} else {
  config = defaultConfig();
}

const level = argv['log-level'] ?? config.logLevel;
if (!isLogLevel(level)) {
  process.stderr.write(`vmmid: --log-level must be error, warn, info or debug, got "${level}"\n`);
  process.exit(2);
}
const format: LogFormat | undefined = argv['log-format'];
const log = createLogger({ format, level });
const speaker = new Speaker(config, log);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info(`${signal} received: sending Cease to every peer`);
  // RFC 4271 §8.1.2 ManualStop on every peer; never hang past a second.
  const deadline = setTimeout(() => process.exit(0), 900);
  await speaker.stop();
  clearTimeout(deadline);
  await log.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

try {
  const ep = await speaker.start();
  const where = ep.bgp ? `${ep.bgp.address}:${ep.bgp.port}` : 'not listening (listen disabled)';
  const metrics = ep.metrics ? `, metrics http://${ep.metrics.address}:${ep.metrics.port}/metrics` : '';
  const tls = config.api.tls ? (config.api.tls.clientCa ? 'mTLS' : 'TLS') : 'plain text';
  const grpc = ep.api ? `, gRPC API ${ep.api.address}:${ep.api.port} (${tls})` : ', gRPC API off';
  log.info(`vmmid started: BGP ${where}${grpc}${metrics}, AS ${config.asn}, router-id ${config.routerId}, ${config.neighbors.length} neighbor(s)`, {
    event: 'started',
    bgp: ep.bgp,
    metrics: ep.metrics,
    grpc: ep.api ?? null,
  });
} catch (e) {
  log.error(`vmmid failed to start: ${e instanceof Error ? e.message : String(e)}`);
  await log.close();
  process.exit(1);
}
