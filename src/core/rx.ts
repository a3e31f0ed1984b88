/**
 * The parts of rxjs vmmi uses, each from its own module. The package root
 * loads all of rxjs (every operator, ~300 modules): 5 MiB more resident
 * memory in every vmmid process, for nothing it runs. rxjs 7 exports
 * these paths (package.json "./internal/*"); should a release move one,
 * every import of this module fails at once, in any test.
 */
export { Subject } from 'rxjs/internal/Subject';
export { filter } from 'rxjs/internal/operators/filter';
export { map } from 'rxjs/internal/operators/map';
