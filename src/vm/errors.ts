/**
 * What can be wrong with a VM request, as data. The API maps each kind to
 * its gRPC status; the domain never imports grpc.
 */
export type VmErrorKind = 'invalid-argument' | 'not-found' | 'failed-precondition' | 'unavailable';

export class VmError extends Error {
  constructor(
    readonly kind: VmErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'VmError';
  }
}

export const invalid = (message: string): VmError => new VmError('invalid-argument', message);
export const notFound = (message: string): VmError => new VmError('not-found', message);
export const precondition = (message: string): VmError => new VmError('failed-precondition', message);
/** The store could not make a change durable: nothing was acknowledged, and it was undone. */
export const unavailable = (message: string): VmError => new VmError('unavailable', message);
