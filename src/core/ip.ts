import { isIPv4, isIPv6 } from 'node:net';
import { Address6 } from 'ip-address';

/** IPv4 dotted quad to 4 bytes; undefined when not a valid address. */
export function ipv4ToBytes(text: string): Buffer | undefined {
  if (!isIPv4(text)) return undefined;
  return Buffer.from(text.split('.').map(Number));
}

export function ipv4ToNumber(text: string): number | undefined {
  const b = ipv4ToBytes(text);
  return b === undefined ? undefined : b.readUInt32BE(0);
}

export function numberToIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** IPv6 text to 16 bytes; undefined when not a valid address. */
export function ipv6ToBytes(text: string): Buffer | undefined {
  if (!isIPv6(text)) return undefined;
  // toByteArray drops leading zero bytes of small values ("::1"): right-align into 16.
  const bytes = new Address6(text).toByteArray().slice(-16);
  const out = Buffer.alloc(16);
  out.set(bytes, 16 - bytes.length);
  return out;
}

/** 4 or 16 bytes (at offset) to the usual text form (RFC 5952 for IPv6). */
export function bytesToIp(buf: Uint8Array, offset = 0, length = buf.length - offset): string {
  if (length === 4) return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
  const full = new Uint8Array(16);
  full.set(buf.subarray(offset, offset + Math.min(length, 16)));
  return Address6.fromByteArray(Array.from(full)).correctForm();
}

export function ipToBytes(text: string): Buffer | undefined {
  return ipv4ToBytes(text) ?? ipv6ToBytes(text);
}

/** 127.0.0.0/8, ::1 and "localhost": only this host can connect. */
export function isLoopback(address: string): boolean {
  if (address === 'localhost' || address === '::1') return true;
  const n = ipv4ToNumber(address);
  return n !== undefined && n >>> 24 === 127;
}

/** Octets of an address whose length a protocol gives in bits (EVPN, RFC 7432 §7): 4 for 32, 16 for 128. */
export function ipOctetsForBits(bits: number): 4 | 16 | undefined {
  return bits === 32 ? 4 : bits === 128 ? 16 : undefined;
}
