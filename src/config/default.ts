import { formatConfigErrors } from './errors.js';
import { parseConfig } from './load.js';
import { BUILT_IN_CONFIG_NAME } from './schema.js';
import type { Config } from './types.js';

/** What `npm start` runs with when no config file is given: a lone speaker on loopback. */
export const DEFAULT_CONFIG_YAML = `# vmmid built-in default configuration
router-id: 127.0.0.1
asn: 65000
listen:
  address: 127.0.0.1
  port: 1179
metrics:
  address: 127.0.0.1
  port: 9179
hold-time: 90
connect-retry: 5
log-level: info
neighbors: []
originate: []
networks:
  - { name: blue, vni: 10100 }
  - { name: green, vni: 10200 }
api:
  listen: { address: 127.0.0.1, port: 50051 }
  agents:
    - { name: local, vteps: [10.0.0.21, 10.0.0.22], networks: [blue, green] }
`;

export function defaultConfig(): Config {
  const r = parseConfig(DEFAULT_CONFIG_YAML, BUILT_IN_CONFIG_NAME);
  // Only reachable if the embedded text above is broken, which the tests catch.
  if (!r.ok) throw new Error(formatConfigErrors(r.error));
  return r.value;
}
