/**
 * Checks what an agent sends about a VM and puts it in canonical form, with
 * messages that say what to fix. Pure: the API layer and store replay share it.
 */
import { isIP } from 'node:net';
import { bytesToIp, ipToBytes } from '../core/ip.js';
import { formatMac, parseMac } from '../evpn/mac.js';
import { MAX_VNI } from '../evpn/label.js';
import { invalid } from './errors.js';

const MAX_VM_ID = 256;
const MAX_IPS = 64;

export function checkVmId(vmId: string): string {
  const id = vmId.trim();
  if (id === '') throw invalid('vm_id is required: the agent\'s identifier for the VM, e.g. its UUID');
  if (id.length > MAX_VM_ID) throw invalid(`vm_id is ${id.length} characters; at most ${MAX_VM_ID}`);
  return id;
}

/** A unicast MAC in lower-case colon form. */
export function checkMac(text: string): string {
  if (text.trim() === '') throw invalid('mac is required, e.g. "52:54:00:aa:bb:01"');
  const r = parseMac(text);
  if (!r.ok) throw invalid(`mac: ${r.error}; expected six hex octets like "52:54:00:aa:bb:01"`);
  // IEEE 802: the I/G bit marks group addresses; a VM's own address is never one.
  if ((r.value[0]! & 0x01) !== 0) throw invalid(`mac ${formatMac(r.value)} is a multicast/broadcast address; a VM's MAC is unicast`);
  if (r.value.every((b) => b === 0)) throw invalid('mac 00:00:00:00:00:00 is not a valid VM address');
  return formatMac(r.value);
}

function canonicalIp(field: string, text: string): { text: string; bytes: Buffer } {
  const t = text.trim();
  // A zone index names a link on the agent's host; it means nothing in a route.
  if (t.includes('%')) throw invalid(`${field}: "${text}" has a zone index; give the address without %zone`);
  const bytes = isIP(t) === 0 ? undefined : ipToBytes(t);
  if (!bytes) throw invalid(`${field}: "${text}" is not an IPv4 or IPv6 address`);
  return { text: bytesToIp(bytes), bytes };
}

/** 0.0.0.0/::, IPv4 224/4 and above (multicast, reserved, broadcast), IPv6 ff00::/8. */
function isUnspecifiedOrMulticast(b: Buffer): boolean {
  if (b.every((x) => x === 0)) return true;
  return b.length === 4 ? b[0]! >= 224 : b[0] === 0xff;
}

/** RFC 4291 §2.5.6: fe80::/10 is valid on one link only, so it is no use to a remote PE. */
function isIpv6LinkLocal(b: Buffer): boolean {
  return b.length === 16 && b[0] === 0xfe && (b[1]! & 0xc0) === 0x80;
}

/** One host address of a VM, in canonical form; `field` names it in the message. */
export function checkHostIp(field: string, text: string): string {
  const ip = canonicalIp(field, text);
  if (isUnspecifiedOrMulticast(ip.bytes)) throw invalid(`${field}: ${ip.text} is not a unicast host address`);
  if (isIpv6LinkLocal(ip.bytes)) throw invalid(`${field}: ${ip.text} is link-local; announce the VM's global addresses`);
  return ip.text;
}

/** A VM's addresses: unicast, deduplicated, IPv4 and IPv6 both allowed. */
export function checkIps(ips: readonly string[]): string[] {
  if (ips.length > MAX_IPS) throw invalid(`ips has ${ips.length} addresses; at most ${MAX_IPS} per VM`);
  return [...new Set(ips.map((text, i) => checkHostIp(`ips[${i}]`, text)))];
}

export function checkVtep(text: string): string {
  if (text.trim() === '') throw invalid('vtep is required: the hypervisor\'s VTEP address, the routes\' next hop');
  const ip = canonicalIp('vtep', text);
  if (isUnspecifiedOrMulticast(ip.bytes)) throw invalid(`vtep ${ip.text} is not a unicast address`);
  return ip.text;
}

export function checkVni(vni: number): number {
  if (!Number.isInteger(vni) || vni < 1 || vni > MAX_VNI) throw invalid(`vni ${vni} is out of range 1..${MAX_VNI}`);
  return vni;
}
