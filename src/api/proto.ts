/**
 * Loads proto/vmmi/v1 at run time and types it with the interfaces
 * `npm run proto` generates into gen/proto (proto-loader-gen-types), so
 * handlers and clients see typed messages, never `any`.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as ControlProto } from '../../gen/proto/control.js';
import type { ProtoGrpcType as MobilityProto } from '../../gen/proto/mobility.js';

/** The folder holding vmmi/v1/*.proto; dist/src/api and src/api are both three levels below the root. */
export const PROTO_ROOT = fileURLToPath(new URL('../../../proto/', import.meta.url));
export const PROTO_FILES = ['vmmi/v1/mobility.proto', 'vmmi/v1/control.proto'] as const;

/** The options the generated types were made with (package.json `proto` script): keep them in step. */
export const LOADER_OPTIONS: protoLoader.Options = {
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

export type VmmiProto = ControlProto & MobilityProto;

let cached: { definition: protoLoader.PackageDefinition; proto: VmmiProto } | undefined;

export function loadVmmiProto(): { definition: protoLoader.PackageDefinition; proto: VmmiProto } {
  if (!cached) {
    const definition = protoLoader.loadSync([...PROTO_FILES], LOADER_OPTIONS);
    // The generated ProtoGrpcType describes exactly what loadPackageDefinition returns for these files.
    const proto = grpc.loadPackageDefinition(definition) as unknown as VmmiProto;
    cached = { definition, proto };
  }
  return cached;
}

export const MOBILITY_SERVICE = 'vmmi.v1.MobilityService';
export const CONTROL_SERVICE = 'vmmi.v1.ControlService';
