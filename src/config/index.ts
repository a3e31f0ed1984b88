export type { AgentConfig, ApiConfig, Config, ListenConfig, NeighborConfig, NetworkConfig, OriginateConfig, OriginName, TlsConfig, TokenConfig } from './types.js';
export { ORIGIN_NAMES } from './types.js';
export type { ConfigError } from './errors.js';
export { formatConfigError, formatConfigErrors } from './errors.js';
export { FAMILY_NAMES, FAMILY_AFI_SAFI, ORIGINATE_FAMILIES, familyFromAfiSafi, isFamilyName } from './families.js';
export type { FamilyName, OriginateFamily } from './families.js';
export { loadConfigFile, parseConfig } from './load.js';
export { DEFAULT_CONFIG_YAML, defaultConfig } from './default.js';
