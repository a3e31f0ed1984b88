#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { formatConfigErrors, loadConfigFile } from '../config/index.js';

/**
 * The operator CLI. The gRPC API it will drive is not built yet, so today it
 * checks configuration files, which needs no daemon.
 */
await yargs(hideBin(process.argv))
  .scriptName('vmmictl')
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
  .demandCommand(1)
  .strict()
  .help()
  .parse();
