/**
 * A label field of an EVPN NLRI or attribute: 3 octets kept as received.
 * What they mean depends on the encapsulation, which the NLRI does not say
 * (RFC 8365 §5.1.3): with MPLS (RFC 3032) the high 20 bits are the label and
 * the low bit is Bottom of Stack; with VXLAN/NVGRE/Geneve all 24 bits are the
 * VNI/VSID. So the bytes travel unchanged and these helpers read or build
 * each view.
 */
export type Label = Buffer;

export const LABEL_LENGTH = 3;
export const MAX_MPLS_LABEL = 0xfffff;
export const MAX_VNI = 0xffffff;

/** RFC 3032 §2.1 / RFC 8277 §2: Label(20) TC(3) S(1), of which the NLRI carries the first 3 octets. */
export function labelToMpls(label: Uint8Array): number {
  return ((label[0] ?? 0) << 12) | ((label[1] ?? 0) << 4) | ((label[2] ?? 0) >> 4);
}

export function labelBottomOfStack(label: Uint8Array): boolean {
  return ((label[2] ?? 0) & 0x01) !== 0;
}

/** An MPLS label with Bottom of Stack set, as FRR sends it (label 5000 is 01 38 81). */
export function labelFromMpls(mpls: number, bottomOfStack = true): Label {
  if (!Number.isInteger(mpls) || mpls < 0 || mpls > MAX_MPLS_LABEL) throw new RangeError(`MPLS label ${mpls} is not 0..${MAX_MPLS_LABEL}`);
  const v = mpls * 16 + (bottomOfStack ? 1 : 0);
  return Buffer.from([(v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
}

/** RFC 8365 §5.1.3: the whole 24-bit field is the VNI (GoBGP sends VNI 10100 as 00 27 74). */
export function labelToVni(label: Uint8Array): number {
  return ((label[0] ?? 0) << 16) | ((label[1] ?? 0) << 8) | (label[2] ?? 0);
}

export function labelFromVni(vni: number): Label {
  if (!Number.isInteger(vni) || vni < 0 || vni > MAX_VNI) throw new RangeError(`VNI ${vni} is not 0..${MAX_VNI}`);
  return Buffer.from([(vni >>> 16) & 0xff, (vni >>> 8) & 0xff, vni & 0xff]);
}
