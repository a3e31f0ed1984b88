import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IPV4_VPN } from '../../src/bgp/wire/family.js';
import { encodeWithdrawals } from '../../src/bgp/wire/update-encode.js';
import { vpnRouteOrThrow } from '../../src/vpn/index.js';

test('the generic withdraw path writes the RFC 8277 §2.4 label 0x800000, not the route label', () => {
  const r = vpnRouteOrThrow({ rd: '65000:10', prefix: '192.168.10.0/24', label: 100 });
  const [msg] = encodeWithdrawals(IPV4_VPN, [r], { maxLength: 4096, fourOctetAs: true, addPath: false });
  // ... MP_UNREACH: AFI 1 SAFI 128, NLRI length 112 bits, label field 800000, RD 0:65000:10, 192.168.10/24
  assert.ok(msg!.toString('hex').endsWith('000180' + '70' + '800000' + '0000fde80000000a' + 'c0a80a'), msg!.toString('hex'));
});
