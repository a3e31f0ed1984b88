#!/usr/bin/env node
/**
 * The operator CLI: a client of vmmid's gRPC API (src/api/client.ts), one
 * file per command group under ctl/, plus `config check`, which needs no
 * daemon. Exit codes are in ctl/errors.ts and README.md.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { formatConfigErrors, loadConfigFile } from '../config/index.js';
import { globalOptions } from './ctl/context.js';
import { neighborCommands } from './ctl/neighbor.js';
import { ribCommands } from './ctl/rib.js';
import { vmCommands } from './ctl/vm.js';
import { watchCommands } from './ctl/watch.js';

// stderr is for vmmictl's own messages, which scripts match. Node deprecation
// warnings are for vmmi's developers (tests and vmmid still show them); the one
// a user would see is DEP0123, which grpc-js triggers for TLS to an IP address.
process.noDeprecation = true;

// `vmmictl rib --json | head`: a closed stdout ends vmmictl quietly, as with any Unix filter.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const cli = globalOptions(
  yargs(hideBin(process.argv))
    .scriptName('vmmictl')
    .usage('$0 <command> [options]\n\nDrives vmmid through its gRPC API (--api, default 127.0.0.1:50051).'),
);

await watchCommands(ribCommands(neighborCommands(vmCommands(cli))))
  .command(
    'config check <file>',
    'validate a vmmid configuration file and print what it resolves to',
    (y) => y.positional('file', { type: 'string', demandOption: true }),
    async (args) => {
      const r = await loadConfigFile(args.file);
      if (!r.ok) {
        process.stderr.write(`${formatConfigErrors(r.error)}\n`);
        process.exit(2);
      }
      const c = r.value;
      process.stdout.write(
        `${args.file}: OK: AS ${c.asn}, router-id ${c.routerId}, ${c.neighbors.length} neighbor(s), ${c.originate.length} originated route(s)\n`,
      );
    },
  )
  .demandCommand(1, 'say which command: vm, neighbor, rib, watch or config')
  .recommendCommands()
  .strict()
  .help()
  .alias('help', 'h')
  .wrap(Math.min(120, process.stdout.columns ?? 100))
  .parseAsync();
