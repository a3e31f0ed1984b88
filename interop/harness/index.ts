export * from './tools.js';
export * from './frr.js';
export * from './gobgp.js';
export * from './tshark.js';
